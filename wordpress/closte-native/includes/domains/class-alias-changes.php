<?php
/**
 * Running one alias change: ownership and usage checks, the native call, its log line, and what follows.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A removal needs ownership (this integration added the alias) and no other user; the twin
 * hooks of one event (a site's subdomain and its domain record) act once; a renamed domain
 * record loses its old alias under the same rules.
 */
final class Alias_Changes {

	/** Action Scheduler hook removing the old alias of a renamed domain record: args (old domain, site_id, new domain). */
	const RENAMED_HOOK = 'closte_native_remove_renamed';

	/** Action Scheduler hook of a rescheduled add/remove: args (operation, domain, site_id, attempt, intent). */
	const RETRY_HOOK = 'closte_native_retry';

	/** Longest wait, in seconds, for the results of one round of queued changes. */
	const ROUND_WAIT = 120;

	public static function register(): void {

		add_action(self::RENAMED_HOOK, [self::class, 'remove_renamed'], 10, 3);
		add_action(self::RETRY_HOOK, [self::class, 'run_retry'], 10, 5);
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
		if (! Ultimate_Multisite::integration_enabled()) {
			// Ultimate Multisite sends no domain event to a disabled integration; neither do we.
			return;
		}
		$site_id = 0;
		if (function_exists('wu_get_domain')) {
			$record  = wu_get_domain($item_id);
			$site_id = is_object($record) && method_exists($record, 'get_site_id') ? (int) $record->get_site_id() : 0;
		}
		Background_Jobs::schedule(self::RENAMED_HOOK, 0, [$old, $site_id, (string) $new]);
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

		$intent = self::begin($operation, $domain, $site_id, $source);

		return null === $intent ? null : self::execute($operation, $domain, $site_id, 1, $intent, $source);
	}

	/**
	 * The start of a change from an event: null when the twin hook of the same event did it
	 * already (logged), else the token of its new intent.
	 */
	private static function begin(string $operation, string $domain, int $site_id, string $source, string $intent = ''): ?string {

		$record = Alias_Registry::get($domain);
		if (null !== $record && self::done_by_twin($operation, $record, $source)) {
			// Site creation fires both wu_add_subdomain and wu_add_domain (for the domain record
			// of the same name), site deletion both removals: the second is already done.
			$by = 'add' === $operation ? $record['source'] : $record['removed_by'];
			Logger::log(sprintf('%s_domain %s (site %d): skipped, already done by %s (%s)', $operation, $domain, $site_id, $by, $source));
			if ('' !== $intent) {
				Change_Intents::end($domain, $intent);
			}
			return null;
		}

		// A queued change carries the intent recorded when it was queued (Alias_Queue::submit).
		return '' !== $intent ? $intent : Change_Intents::record($operation, $domain);
	}

	/**
	 * One round of queued changes (Alias_Queue, at most one per domain): each starts and passes
	 * its checks as a single change does, then every request of the round goes out at once
	 * (closte_enqueue, closte.concurrency at a time) and each result is handled, in queue order,
	 * exactly as a single change's is (log lines, ownership, intents, retries, certificates).
	 *
	 * @param list<array{operation: string, domain: string, site_id: int|string, source: string, intent?: string}> $changes
	 */
	public static function run_round(array $changes): void {

		self::read_ownership_records(array_column($changes, 'domain'));
		$sent = [];
		foreach ($changes as $change) {
			$started = self::send_queued($change);
			if (null !== $started) {
				$sent[ $started['job'] ] = $started;
			}
		}
		if ([] === $sent) {
			return;
		}

		// The results are collected and handled in queue order, a slice (closte.concurrency jobs)
		// at a time: while one slice's results are written (log lines, ownership, intents,
		// certificate jobs: several queries each), the later requests are still in flight, so the
		// database work overlaps the network instead of following it (1,000 adds: 13.5 s in one
		// wait then the handling, vs ~7 s overlapped at 50 ms latency).
		$deadline = microtime(true) + self::ROUND_WAIT;
		$slice    = Implementation::concurrency();
		$results  = [];
		$pending  = array_keys($sent);
		foreach ($sent as $job => $started) {
			$ids = array_key_exists($job, $results) ? [] : array_splice($pending, 0, $slice);
			if ([] !== $ids) { // never closte_wait([]): that waits for every job of this process
				$results += closte_wait($ids, max(0.0, $deadline - microtime(true)));
			}
			self::finish_sent($started, $results[ $job ] ?? ['state' => 'unknown']);
			unset($results[ $job ]);
		}
	}

	/**
	 * Starts one queued change as a single change starts: the twin hook's check, a removal's
	 * checks, then its request on the implementation's runtime (closte_enqueue: no wait).
	 * Returns what finish_sent() needs once its result is in, or null when the change has
	 * ended here (done by the twin hook, left in place, rescheduled or not sent; each logged).
	 *
	 * @param array{operation: string, domain: string, site_id: int|string, source: string, intent?: string} $change
	 * @return array{job: int, operation: string, domain: string, site_id: int, intent: string, source: string}|null
	 */
	public static function send_queued(array $change): ?array {

		$operation = (string) $change['operation'];
		$domain    = (string) $change['domain'];
		$site_id   = (int) $change['site_id'];
		$source    = (string) $change['source'];
		$intent    = self::begin($operation, $domain, $site_id, $source, (string) ($change['intent'] ?? ''));
		if (null === $intent) {
			return null;
		}
		$context = self::context($source, 1);
		if (! self::may_send($operation, $domain, $site_id, 1, $intent, $context)) {
			return null;
		}
		try {
			// No certificate request with the add: Certificate_Lifecycle requests it once DNS is ready.
			$job = closte_enqueue($operation . '_domain', $domain, $site_id, 'add' === $operation ? ['request_ssl' => false] : null);
		} catch (\Throwable $e) {
			self::not_sent($e, $operation, $domain, $site_id, $intent, $context);
			return null;
		}

		return ['job' => $job, 'operation' => $operation, 'domain' => $domain, 'site_id' => $site_id, 'intent' => $intent, 'source' => $source];
	}

	/**
	 * The result of a change send_queued() started, handled exactly as a single change's
	 * (its log line, ownership, intents, retries, certificates). A result still pending or
	 * unknown (not finished within the caller's wait) counts as a timeout and is retried as one.
	 *
	 * @param array{job: int, operation: string, domain: string, site_id: int, intent: string, source: string} $started
	 * @param array<string, mixed> $result What closte_wait() gave for its job.
	 */
	public static function finish_sent(array $started, array $result): void {

		['operation' => $operation, 'domain' => $domain, 'site_id' => $site_id, 'intent' => $intent, 'source' => $source] = $started;
		if (in_array($result['state'] ?? '', ['pending', 'unknown'], true)) {
			$result = [
				'ok'         => false,
				'operation'  => $operation . '_domain',
				'domain'     => $domain,
				'site_id'    => $site_id,
				'state'      => 'failed',
				'status'     => 0,
				'attempts'   => 0,
				'elapsed_ms' => self::ROUND_WAIT * 1000.0,
				'retryable'  => true,
				'error_kind' => 'timeout',
				'error'      => sprintf('no result within %d s', self::ROUND_WAIT),
			];
		}
		unset($result['job_id']);
		self::handle_result($operation, $result, $domain, $site_id, 1, $intent, $source, self::context($source, 1));
	}

	/**
	 * Reads the ownership records (Alias_Registry) of $domains in one query into WordPress's
	 * cache of network options, as get_site_option() caches each row it reads (the value, or
	 * the name in the "notoptions" list when there is none), so the round's checks find them
	 * there: one query instead of one per change, before any request of the round goes out.
	 *
	 * @param list<string> $domains
	 */
	private static function read_ownership_records(array $domains): void {

		global $wpdb;

		$network_id = get_current_network_id();
		$keys       = [];
		foreach ($domains as $domain) {
			$keys[ Alias_Registry::key((string) $domain) ] = true;
		}
		if ([] === $keys || ! is_multisite()) {
			return;
		}
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				"SELECT meta_key, meta_value FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key IN (" . implode(',', array_fill(0, count($keys), '%s')) . ')',
				$network_id,
				...array_keys($keys)
			),
			ARRAY_A
		);
		if (! is_array($rows)) {
			return; // a database error: each check reads its own row, as without this
		}
		$notoptions = wp_cache_get($network_id . ':notoptions', 'site-options');
		$notoptions = is_array($notoptions) ? $notoptions : [];
		foreach ($rows as $row) {
			if (isset($keys[ $row['meta_key'] ])) {
				// get_network_option()'s cache entry for a row it read.
				wp_cache_set($network_id . ':' . $row['meta_key'], maybe_unserialize($row['meta_value']), 'site-options');
				unset($keys[ $row['meta_key'] ], $notoptions[ $row['meta_key'] ]);
			}
		}
		// get_network_option()'s record of the options that have no row.
		wp_cache_set($network_id . ':notoptions', $notoptions + $keys, 'site-options');
	}

	private static function context(string $source, int $attempt): string {

		return sprintf('%s, attempt %d/%d', $source, $attempt, Retry_Policy::max_attempts());
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
	 * (this integration added it) and no other user (a site, a domain record, the network, or
	 * any of these for its `www.`/bare twin, which Ultimate Multisite serves too).
	 *
	 * @return array{reason: string, retry: bool}|null
	 */
	private static function removal_blocker(string $domain): ?array {

		if (! Alias_Registry::owns(Alias_Registry::get($domain))) {
			return ['reason' => 'this integration did not add it (it was already on Closte, or added before closte-native recorded ownership); remove it in Closte Sync\'s preview if nothing uses it', 'retry' => false];
		}
		$users = Network_Domains::users_of($domain);
		if ([] !== $users['users']) {
			return ['reason' => 'still used by ' . Sync_Messages::join($users['users']), 'retry' => false];
		}
		if (! $users['complete']) {
			return ['reason' => 'could not check whether something still uses it: ' . $users['problem'], 'retry' => true];
		}

		return null;
	}

	public static function execute(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $source): ?array {

		$context = self::context($source, $attempt);
		if (! self::may_send($operation, $domain, $site_id, $attempt, $intent, $context)) {
			return null;
		}

		try {
			// No certificate request with the add: Certificate_Lifecycle requests it once DNS is ready.
			$result = 'add' === $operation ? closte_add_domain($domain, $site_id, false) : closte_remove_domain($domain, $site_id);
		} catch (\Throwable $e) {
			self::not_sent($e, $operation, $domain, $site_id, $intent, $context);
			return null;
		}

		return self::handle_result($operation, $result, $domain, $site_id, $attempt, $intent, $source, $context);
	}

	/**
	 * A removal's checks before anything is sent (an add has none): false when it must not go
	 * out now (logged; left in place, or rescheduled).
	 */
	private static function may_send(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $context): bool {

		if ('remove' !== $operation) {
			return true;
		}
		$blocker = self::removal_blocker($domain);
		if (null !== $blocker && ! $blocker['retry']) {
			Logger::log(sprintf('remove_domain %s (site %d): left in place on Closte: %s (%s)', $domain, $site_id, $blocker['reason'], $context), 'info');
			Change_Intents::end($domain, $intent);
			return false;
		}
		if (null !== $blocker) {
			Logger::log(sprintf('remove_domain %s (site %d): not removed yet: %s (%s)', $domain, $site_id, $blocker['reason'], $context), 'warning');
			self::retry_or_give_up($operation, $domain, $site_id, $attempt, $intent, $blocker['reason']);
			return false;
		}

		return true;
	}

	/** The call refused the change before sending it (the domain, the configuration): logged, the chain ends. */
	private static function not_sent(\Throwable $e, string $operation, string $domain, int $site_id, string $intent, string $context): void {

		if ($e instanceof \Closte\InvalidDomainException) {
			Logger::log(sprintf('%s_domain (site %d): not sent to Closte: %s (%s)', $operation, $site_id, $e->getMessage(), $context), 'error');
		} elseif ($e instanceof \Closte\ConfigurationException) {
			Logger::log(sprintf('%s_domain %s (site %d): not sent to Closte, configuration: %s (%s)', $operation, $domain, $site_id, $e->getMessage(), $context), 'error');
		} else {
			Logger::log(sprintf('%s_domain %s (site %d): %s: %s (%s)', $operation, $domain, $site_id, get_class($e), $e->getMessage(), $context), 'error');
		}
		Change_Intents::end($domain, $intent);
	}

	/** What Closte answered to one add or remove: its log line, then ownership, certificates, the www twin, or a retry. */
	private static function handle_result(string $operation, array $result, string $domain, int $site_id, int $attempt, string $intent, string $source, string $context): array {

		$level = $result['ok'] ? 'info' : ($result['retryable'] ? 'warning' : 'error');
		Logger::log(Logger::describe($result, $context), $level);

		if ($result['ok']) {
			self::record_ownership($operation, $result, $domain, $site_id, $source);
			Change_Intents::end($domain, $intent);
			if ('add' === $operation) {
				Certificate_Lifecycle::alias_added((string) ($result['domain'] ?? $domain), $site_id, $source);
			} else {
				Certificate_Lifecycle::alias_removed((string) ($result['domain'] ?? $domain));
			}
			// After the ownership record is written: Www_Twin adds or removes the www. twin.
			do_action('add' === $operation ? 'closte_native_alias_added' : 'closte_native_alias_removed', (string) ($result['domain'] ?? $domain), $site_id, $source);
			return $result;
		}

		if (! $result['retryable']) {
			$hint = 'auth' === $result['error_kind']
				? 'Closte refused the API key: check CLOSTE_CLIENT_API_KEY in wp-config.php.'
				: 'Not retried: the same request would fail again.';
			Logger::log(sprintf('%s_domain %s (site %d): %s', $operation, $domain, $site_id, $hint), 'error');
			Change_Intents::end($domain, $intent);
		} else {
			self::retry_or_give_up($operation, $domain, $site_id, $attempt, $intent, sprintf('(%s): %s', $result['error_kind'], $result['error']));
		}

		return $result;
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
		$current   = Change_Intents::current($domain);

		if (null === $current || ($current['token'] ?? '') !== (string) $intent) {
			// The domain was mapped or unmapped again since: that newer operation decides (its
			// row is gone once it has ended, so a missing row means the same).
			Logger::log(sprintf('%s_domain %s (site %d): retry %d dropped, superseded by a later %s', $operation, $domain, (int) $site_id, (int) $attempt, null !== $current ? ($current['operation'] ?? '?') : 'operation that has ended'));
			return;
		}

		if (! Ultimate_Multisite::integration_enabled()) {
			Logger::log(sprintf('%s_domain %s (site %d): retry %d dropped: the Closte integration is disabled in Ultimate Multisite', $operation, $domain, (int) $site_id, (int) $attempt), 'warning');
			Change_Intents::end($domain, (string) $intent);
			return;
		}

		self::execute($operation, $domain, (int) $site_id, (int) $attempt, (string) $intent, 'retry');
	}

	/** Reschedules a retryable failure, or ends the chain after the last attempt. */
	private static function retry_or_give_up(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $last_error): void {

		$max = Retry_Policy::max_attempts();
		if ($attempt < $max) {
			$delay = Retry_Policy::delay($attempt);
			Background_Jobs::schedule(self::RETRY_HOOK, $delay, [$operation, $domain, $site_id, $attempt + 1, $intent]);
			Logger::log(sprintf('%s_domain %s (site %d): rescheduled as attempt %d/%d in %d s', $operation, $domain, $site_id, $attempt + 1, $max, $delay), 'warning');
			return;
		}
		Logger::log(sprintf('%s_domain %s (site %d): gave up after %d attempts; last error %s', $operation, $domain, $site_id, $attempt, $last_error), 'error');
		Change_Intents::end($domain, $intent);
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

	/** 'subdomain' for the subdomain hooks, 'domain' for the domain-record hooks and retries. */
	private static function hook_kind(string $source): string {

		return str_contains($source, 'subdomain') ? 'subdomain' : 'domain';
	}
}
