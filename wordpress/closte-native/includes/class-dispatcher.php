<?php
/**
 * Runs the native calls for the domain hooks, logs each outcome, and reschedules what failed
 * for a reason that may pass (rate limit, 5xx, timeout, network) through Action Scheduler.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Every job is stored in Action Scheduler's tables (or WP-Cron without it), so it survives a
 * restart and runs on whichever web server of the network picks it up.
 */
final class Dispatcher {

	/** Action Scheduler hook of a rescheduled add/remove: args (operation, domain, site_id, attempt, intent). */
	const RETRY_HOOK = 'closte_native_retry';

	/** Action Scheduler hook of a certificate check: args (domain, site_id, check). */
	const SSL_CHECK_HOOK = 'closte_native_ssl_check';

	/** Action Scheduler group, shown in Tools > Scheduled Actions. */
	const GROUP = 'closte';

	/** Action Scheduler hook removing the old alias of a renamed domain record: args (old domain, site_id, new domain). */
	const RENAMED_HOOK = 'closte_native_remove_renamed';

	const INTENT_PREFIX = 'closte_native_intent_';

	/** Certificate states Closte may report for an issued certificate. */
	const ACTIVE_STATES = ['active', 'issued', 'valid', 'installed', 'ok'];

	public static function register_job_hooks(): void {

		add_action(self::RETRY_HOOK, [self::class, 'run_retry'], 10, 5);
		add_action(self::SSL_CHECK_HOOK, [self::class, 'check_certificate'], 10, 3);
		add_action(self::RENAMED_HOOK, [self::class, 'remove_renamed'], 10, 3);
		// Ultimate Multisite (BerlinDB) fires this synchronously when a domain record's name is
		// set: with an empty old value on creation, with the old name on a rename. It only
		// queues wu_add_domain for the new name; the old alias would stay on Closte for ever.
		add_action('wu_transition_domain_domain', [self::class, 'on_domain_renamed'], 10, 3);
	}

	/**
	 * A domain record was renamed from $old to $new: queue the removal of the old alias (in the
	 * background, under the same ownership rules as an unmapping).
	 *
	 * @param mixed $old     Previous domain ('' or null on creation).
	 * @param mixed $new     New domain.
	 * @param mixed $item_id Domain record id.
	 */
	public static function on_domain_renamed($old, $new, $item_id): void {

		if (! is_string($old) || '' === trim($old) || Network_Domains::normalise($old) === Network_Domains::normalise((string) $new)) {
			return;
		}
		$site_id = 0;
		if (function_exists('wu_get_domain')) {
			$record  = wu_get_domain($item_id);
			$site_id = is_object($record) && method_exists($record, 'get_site_id') ? (int) $record->get_site_id() : 0;
		}
		self::schedule(self::RENAMED_HOOK, 0, [$old, $site_id, (string) $new]);
	}

	/**
	 * Action Scheduler callback: the old name of a renamed domain record.
	 *
	 * @param string $old     Previous domain.
	 * @param int    $site_id Site of the record.
	 * @param string $new     Its new name, for the log.
	 */
	public static function remove_renamed($old, $site_id = 0, $new = ''): void {

		self::remove((string) $old, (int) $site_id, sprintf('rename to %s', Logger::one_line((string) $new)));
	}

	/**
	 * Adds a domain alias now (a background request: Ultimate Multisite fires the hooks
	 * through Action Scheduler).
	 *
	 * @param string $domain  Domain from Ultimate Multisite.
	 * @param int    $site_id Site id.
	 * @param string $source  The hook that asked, for the log.
	 */
	public static function add(string $domain, int $site_id, string $source): ?array {

		return self::start('add', $domain, $site_id, $source);
	}

	/**
	 * Removes a domain alias now.
	 */
	public static function remove(string $domain, int $site_id, string $source): ?array {

		return self::start('remove', $domain, $site_id, $source);
	}

	private static function start(string $operation, string $domain, int $site_id, string $source): ?array {

		$record = Alias_Registry::get($domain);
		if (null !== $record && self::done_by_twin($operation, $record, $source)) {
			// Site creation fires both wu_add_subdomain and wu_add_domain (for the domain record
			// of the same name), site deletion both removals: the second is already done.
			$by = 'add' === $operation ? $record['source'] : $record['removed_by'];
			Logger::log(sprintf('%s_domain %s (site %d): skipped, already done by %s (%s)', $operation, $domain, $site_id, $by, $source));
			return null;
		}

		$intent = self::record_intent($operation, $domain);

		return self::execute($operation, $domain, $site_id, 1, $intent, $source);
	}

	/**
	 * True when the twin hook of the same event (subdomain vs domain record) did this already,
	 * within the dedupe window.
	 */
	private static function done_by_twin(string $operation, array $record, string $source): bool {

		if ('add' === $operation) {
			$done_by = Alias_Registry::owns($record) && (int) $record['at'] >= time() - Alias_Registry::DEDUPE_WINDOW ? (string) $record['source'] : '';
		} else {
			$done_by = Alias_Registry::owns($record) ? '' : (string) ($record['removed_by'] ?? '');
		}

		return '' !== $done_by && self::hook_kind($done_by) !== self::hook_kind($source);
	}

	/**
	 * Why an alias must not be removed now, or null when it may be. A removal needs ownership
	 * (this integration added it) and no other user (a site, a domain record, the network).
	 *
	 * @return array{reason: string, retry: bool}|null
	 */
	private static function removal_blocker(string $domain): ?array {

		if (! Alias_Registry::owns(Alias_Registry::get($domain))) {
			return ['reason' => 'this integration did not add it (it was already on Closte, or added before closte-native recorded ownership); remove it in Closte Sync\'s preview if nothing uses it', 'retry' => false];
		}
		$users = Network_Domains::users_of($domain);
		if (! $users['complete']) {
			return ['reason' => 'could not check whether something still uses it: ' . $users['problem'], 'retry' => true];
		}
		if ([] !== $users['users']) {
			return ['reason' => 'still used by ' . implode(', ', $users['users']), 'retry' => false];
		}

		return null;
	}

	/**
	 * Action Scheduler callback of a rescheduled add/remove.
	 *
	 * @param string $operation add|remove.
	 * @param string $domain    Domain.
	 * @param int    $site_id   Site id.
	 * @param int    $attempt   This attempt's number.
	 * @param string $intent    The intent token the job belongs to.
	 */
	public static function run_retry($operation, $domain, $site_id = 0, $attempt = 2, $intent = ''): void {

		$operation = (string) $operation;
		$domain    = (string) $domain;
		$current   = get_site_option(self::intent_key($domain));

		if (! is_array($current) || ($current['token'] ?? '') !== (string) $intent) {
			// The domain was mapped or unmapped again since: that newer operation decides (its
			// row is gone once it has ended, so a missing row means the same).
			Logger::log(sprintf('%s_domain %s (site %d): retry %d dropped, superseded by a later %s', $operation, $domain, (int) $site_id, (int) $attempt, is_array($current) ? ($current['operation'] ?? '?') : 'operation that has ended'));
			return;
		}

		self::execute($operation, $domain, (int) $site_id, (int) $attempt, (string) $intent, 'retry');
	}

	private static function execute(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $source): ?array {

		$max     = self::max_attempts();
		$context = sprintf('%s, attempt %d/%d', $source, $attempt, $max);

		if ('remove' === $operation) {
			$blocker = self::removal_blocker($domain);
			if (null !== $blocker && ! $blocker['retry']) {
				Logger::log(sprintf('remove_domain %s (site %d): left in place on Closte: %s (%s)', $domain, $site_id, $blocker['reason'], $context), 'info');
				self::end_intent($domain, $intent);
				return null;
			}
			if (null !== $blocker) {
				Logger::log(sprintf('remove_domain %s (site %d): not removed yet: %s (%s)', $domain, $site_id, $blocker['reason'], $context), 'warning');
				self::retry_or_give_up($operation, $domain, $site_id, $attempt, $intent, $blocker['reason']);
				return null;
			}
		}

		try {
			$result = 'add' === $operation ? closte_add_domain($domain, $site_id) : closte_remove_domain($domain, $site_id);
		} catch (\Closte\InvalidDomainException $e) {
			Logger::log(sprintf('%s_domain (site %d): not sent to Closte: %s (%s)', $operation, $site_id, $e->getMessage(), $context), 'error');
			self::end_intent($domain, $intent);
			return null;
		} catch (\Closte\ConfigurationException $e) {
			Logger::log(sprintf('%s_domain %s (site %d): not sent to Closte, configuration: %s (%s)', $operation, $domain, $site_id, $e->getMessage(), $context), 'error');
			self::end_intent($domain, $intent);
			return null;
		} catch (\Throwable $e) {
			Logger::log(sprintf('%s_domain %s (site %d): %s: %s (%s)', $operation, $domain, $site_id, get_class($e), $e->getMessage(), $context), 'error');
			self::end_intent($domain, $intent);
			return null;
		}

		$level = $result['ok'] ? 'info' : ($result['retryable'] ? 'warning' : 'error');
		Logger::log(Logger::describe($result, $context), $level);

		if ($result['ok']) {
			self::record_ownership($operation, $result, $domain, $site_id, $source);
			self::end_intent($domain, $intent);
			if ('add' === $operation) {
				self::after_add($result, $site_id);
			}
			return $result;
		}

		if (! $result['retryable']) {
			$hint = 'auth' === $result['error_kind']
				? 'Closte refused the API key: check CLOSTE_CLIENT_API_KEY in wp-config.php.'
				: 'Not retried: the same request would fail again.';
			Logger::log(sprintf('%s_domain %s (site %d): %s', $operation, $domain, $site_id, $hint), 'error');
			self::end_intent($domain, $intent);
		} else {
			self::retry_or_give_up($operation, $domain, $site_id, $attempt, $intent, sprintf('(%s): %s', $result['error_kind'], $result['error']));
		}

		return $result;
	}

	/**
	 * What a successful add or remove means for ownership: `added` makes the alias ours;
	 * `already_exists` means someone else owns it (unless we already do); a removal ends ours.
	 */
	private static function record_ownership(string $operation, array $result, string $domain, int $site_id, string $source): void {

		$name = (string) ($result['domain'] ?? $domain);
		if ('remove' === $operation) {
			Alias_Registry::forget($name, $source);
			return;
		}
		if ('added' === $result['state']) {
			Alias_Registry::record($name, $site_id, $source);
		} elseif (! Alias_Registry::owns(Alias_Registry::get($name))) {
			Logger::log(sprintf('add_domain %s (site %d): the alias was already on Closte, so this integration does not own it and will leave it in place when the domain is unmapped', $name, $site_id));
		}
	}

	/** Reschedules a retryable failure, or ends the chain after the last attempt. */
	private static function retry_or_give_up(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $last_error): void {

		$max = self::max_attempts();
		if ($attempt < $max) {
			$delay = self::retry_delay($attempt);
			self::schedule(self::RETRY_HOOK, $delay, [$operation, $domain, $site_id, $attempt + 1, $intent]);
			Logger::log(sprintf('%s_domain %s (site %d): rescheduled as attempt %d/%d in %d s', $operation, $domain, $site_id, $attempt + 1, $max, $delay), 'warning');
			return;
		}
		Logger::log(sprintf('%s_domain %s (site %d): gave up after %d attempts; last error %s', $operation, $domain, $site_id, $attempt, $last_error), 'error');
		self::end_intent($domain, $intent);
	}

	/**
	 * After an alias exists: log the certificate request and, when Closte took it, follow the
	 * certificate every dns_check_interval seconds so the log says why it is late.
	 */
	private static function after_add(array $result, int $site_id): void {

		$ssl    = $result['ssl'] ?? null;
		$domain = (string) $result['domain'];

		if (! is_array($ssl)) {
			return;
		}

		if ($ssl['ok']) {
			Logger::log(sprintf('certificate for %s requested through %s (site %d)', $domain, $ssl['endpoint'], $site_id), 'info', Logger::SSL_HANDLE);
		} elseif ('no_endpoint' === $ssl['state']) {
			Logger::log(sprintf('no SSL endpoint on Closte for %s: Closte issues the certificate itself once DNS points at the app', $domain), 'info', Logger::SSL_HANDLE);
		} else {
			Logger::log(sprintf('certificate request for %s failed (%s): %s', $domain, $ssl['error_kind'], $ssl['error']), 'warning', Logger::SSL_HANDLE);
		}

		self::schedule(self::SSL_CHECK_HOOK, self::check_interval(), [$domain, $site_id, 1]);
	}

	/**
	 * Action Scheduler callback: asks Closte for the certificate's state.
	 *
	 * @param string $domain  Domain.
	 * @param int    $site_id Site id.
	 * @param int    $check   This check's number.
	 */
	public static function check_certificate($domain, $site_id = 0, $check = 1): void {

		$domain = (string) $domain;
		$check  = (int) $check;
		$max    = max(1, (int) apply_filters('closte_native_ssl_check_max_tries', 20));

		try {
			$result = closte_ssl_status($domain);
		} catch (\Throwable $e) {
			Logger::log(sprintf('certificate check for %s: %s', $domain, $e->getMessage()), 'error', Logger::SSL_HANDLE);
			return;
		}

		if ($result['ok']) {
			$status = (string) ($result['response']['status'] ?? $result['response']['ssl_status'] ?? 'unknown');
			if (in_array(strtolower($status), self::ACTIVE_STATES, true)) {
				Logger::log(sprintf('certificate for %s is %s (check %d)', $domain, $status, $check), 'info', Logger::SSL_HANDLE);
				return;
			}
			$reason = sprintf('status %s', $status);
		} elseif ('not_found' === $result['error_kind'] && in_array($result['status'], [404, 405], true)) {
			Logger::log(sprintf('Closte has no certificate status endpoint; Ultimate Multisite\'s own SSL check will confirm %s', $domain), 'info', Logger::SSL_HANDLE);
			return;
		} elseif ($result['retryable']) {
			$reason = sprintf('status unknown, %s: %s', $result['error_kind'], $result['error']);
		} else {
			Logger::log(sprintf('certificate check for %s failed (%s): %s', $domain, $result['error_kind'], $result['error']), 'warning', Logger::SSL_HANDLE);
			return;
		}

		if ($check >= $max) {
			Logger::log(sprintf('certificate for %s still not active after %d checks (%s): check that the DNS of %s points at the Closte app', $domain, $check, $reason, $domain), 'warning', Logger::SSL_HANDLE);
			return;
		}

		$interval = self::check_interval();
		Logger::log(sprintf('certificate for %s not active yet (%s, check %d/%d); next check in %d s', $domain, $reason, $check, $max, $interval), 'info', Logger::SSL_HANDLE);
		self::schedule(self::SSL_CHECK_HOOK, $interval, [$domain, (int) $site_id, $check + 1]);
	}

	/**
	 * Ultimate Multisite's DNS check interval setting (default 300 s, clamped to 10..300).
	 */
	public static function check_interval(): int {

		$interval = function_exists('wu_get_setting') ? (int) wu_get_setting('dns_check_interval', 300) : 300;

		return max(10, min(300, $interval));
	}

	/**
	 * How many times an add/remove is tried in all (filter `closte_native_max_attempts`).
	 */
	public static function max_attempts(): int {

		return max(1, (int) apply_filters('closte_native_max_attempts', 6));
	}

	/**
	 * Exponential backoff with jitter: base (filter `closte_native_retry_base_delay`, 60 s) doubled
	 * per attempt, capped at an hour, ±20 %.
	 */
	public static function retry_delay(int $attempt): int {

		$base  = max(0, (int) apply_filters('closte_native_retry_base_delay', 60));
		$delay = min(HOUR_IN_SECONDS, $base * (2 ** max(0, $attempt - 1)));

		return (int) round($delay * (0.8 + wp_rand(0, 400) / 1000));
	}

	/**
	 * A job in Action Scheduler (Ultimate Multisite bundles it), else in WP-Cron.
	 */
	public static function schedule(string $hook, int $delay, array $args): void {

		if (function_exists('as_schedule_single_action')) {
			as_schedule_single_action(time() + $delay, $hook, $args, self::GROUP);
			return;
		}

		wp_schedule_single_event(time() + $delay, $hook, $args);
	}

	private static function record_intent(string $operation, string $domain): string {

		$token = wp_generate_uuid4();
		update_site_option(self::intent_key($domain), ['operation' => $operation, 'token' => $token, 'at' => time()]);

		return $token;
	}

	/**
	 * The chain of $intent ended (done, refused, or given up): its row goes, unless a newer
	 * operation on the domain has replaced it meanwhile.
	 */
	private static function end_intent(string $domain, string $intent): void {

		$current = get_site_option(self::intent_key($domain));
		if (is_array($current) && ($current['token'] ?? '') === $intent) {
			delete_site_option(self::intent_key($domain));
		}
	}

	private static function intent_key(string $domain): string {

		return self::INTENT_PREFIX . md5(Network_Domains::normalise($domain));
	}

	/** 'subdomain' for the subdomain hooks, 'domain' for the domain-record hooks and retries. */
	private static function hook_kind(string $source): string {

		return str_contains($source, 'subdomain') ? 'subdomain' : 'domain';
	}
}
