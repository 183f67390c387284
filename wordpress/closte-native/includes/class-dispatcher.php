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

	const INTENT_PREFIX = 'closte_native_intent_';
	const DONE_PREFIX   = 'closte_native_done_';

	/** Certificate states Closte may report for an issued certificate. */
	const ACTIVE_STATES = ['active', 'issued', 'valid', 'installed', 'ok'];

	public static function register_job_hooks(): void {

		add_action(self::RETRY_HOOK, [self::class, 'run_retry'], 10, 5);
		add_action(self::SSL_CHECK_HOOK, [self::class, 'check_certificate'], 10, 3);
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

		$done_by = get_site_transient(self::done_key($operation, $domain));
		if (is_string($done_by) && self::hook_kind($done_by) !== self::hook_kind($source)) {
			// Site creation fires both wu_add_subdomain and wu_add_domain (for the domain record
			// of the same name): the second is already done.
			Logger::log(sprintf('%s_domain %s (site %d): skipped, already done by %s (%s)', $operation, $domain, $site_id, $done_by, $source));
			return null;
		}

		$intent = self::record_intent($operation, $domain);

		return self::execute($operation, $domain, $site_id, 1, $intent, $source);
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

		if (is_array($current) && ($current['token'] ?? '') !== (string) $intent) {
			// The domain was mapped or unmapped again since: that newer operation decides.
			Logger::log(sprintf('%s_domain %s (site %d): retry %d dropped, superseded by a later %s', $operation, $domain, (int) $site_id, (int) $attempt, $current['operation'] ?? '?'));
			return;
		}

		self::execute($operation, $domain, (int) $site_id, (int) $attempt, (string) $intent, 'retry');
	}

	private static function execute(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $source): ?array {

		$max     = self::max_attempts();
		$context = sprintf('%s, attempt %d/%d', $source, $attempt, $max);

		try {
			$result = 'add' === $operation ? closte_add_domain($domain, $site_id) : closte_remove_domain($domain, $site_id);
		} catch (\Closte\InvalidDomainException $e) {
			Logger::log(sprintf('%s_domain (site %d): not sent to Closte: %s (%s)', $operation, $site_id, $e->getMessage(), $context), 'error');
			return null;
		} catch (\Closte\ConfigurationException $e) {
			Logger::log(sprintf('%s_domain %s (site %d): not sent to Closte, configuration: %s (%s)', $operation, $domain, $site_id, $e->getMessage(), $context), 'error');
			return null;
		} catch (\Throwable $e) {
			Logger::log(sprintf('%s_domain %s (site %d): %s: %s (%s)', $operation, $domain, $site_id, get_class($e), $e->getMessage(), $context), 'error');
			return null;
		}

		$level = $result['ok'] ? 'info' : ($result['retryable'] ? 'warning' : 'error');
		Logger::log(Logger::describe($result, $context), $level);

		if ($result['ok']) {
			set_site_transient(self::done_key($operation, $domain), $source, 10 * MINUTE_IN_SECONDS);
			delete_site_transient(self::done_key('add' === $operation ? 'remove' : 'add', $domain));
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
		} elseif ($attempt < $max) {
			$delay = self::retry_delay($attempt);
			self::schedule(self::RETRY_HOOK, $delay, [$operation, $domain, $site_id, $attempt + 1, $intent]);
			Logger::log(sprintf('%s_domain %s (site %d): rescheduled as attempt %d/%d in %d s', $operation, $domain, $site_id, $attempt + 1, $max, $delay), 'warning');
		} else {
			Logger::log(sprintf('%s_domain %s (site %d): gave up after %d attempts; last error (%s): %s', $operation, $domain, $site_id, $attempt, $result['error_kind'], $result['error']), 'error');
		}

		return $result;
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
	private static function schedule(string $hook, int $delay, array $args): void {

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

	private static function intent_key(string $domain): string {

		return self::INTENT_PREFIX . md5(self::normalise($domain));
	}

	private static function done_key(string $operation, string $domain): string {

		return self::DONE_PREFIX . md5($operation . '|' . self::normalise($domain));
	}

	private static function normalise(string $domain): string {

		return strtolower(rtrim(trim($domain), '.'));
	}

	/** 'subdomain' for the subdomain hooks, 'domain' for the domain-record hooks and retries. */
	private static function hook_kind(string $source): string {

		return str_contains($source, 'subdomain') ? 'subdomain' : 'domain';
	}
}
