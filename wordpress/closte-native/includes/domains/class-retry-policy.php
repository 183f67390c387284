<?php
/**
 * Retries of alias changes that failed for a reason that may pass (rate limit, 5xx, timeout, network).
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A retry chain has an intent row (`closte_native_intent_<md5>`): the newest map or unmap of a
 * domain owns it, so a stale retry never undoes a newer change; the row is deleted when its
 * chain ends (done, refused, given up).
 */
final class Retry_Queue {

	/** Action Scheduler hook of a rescheduled add/remove: args (operation, domain, site_id, attempt, intent). */
	const HOOK = 'closte_native_retry';

	const INTENT_PREFIX = 'closte_native_intent_';

	public static function register(): void {

		add_action(self::HOOK, [self::class, 'run_retry'], 10, 5);
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

		if (! Plugin::integration_enabled()) {
			Logger::log(sprintf('%s_domain %s (site %d): retry %d dropped: the Closte integration is disabled in Ultimate Multisite', $operation, $domain, (int) $site_id, (int) $attempt), 'warning');
			self::end_intent($domain, (string) $intent);
			return;
		}

		Alias_Changes::execute($operation, $domain, (int) $site_id, (int) $attempt, (string) $intent, 'retry');
	}

	/** Reschedules a retryable failure, or ends the chain after the last attempt. */
	public static function retry_or_give_up(string $operation, string $domain, int $site_id, int $attempt, string $intent, string $last_error): void {

		$max = self::max_attempts();
		if ($attempt < $max) {
			$delay = self::retry_delay($attempt);
			Background_Jobs::schedule(self::HOOK, $delay, [$operation, $domain, $site_id, $attempt + 1, $intent]);
			Logger::log(sprintf('%s_domain %s (site %d): rescheduled as attempt %d/%d in %d s', $operation, $domain, $site_id, $attempt + 1, $max, $delay), 'warning');
			return;
		}
		Logger::log(sprintf('%s_domain %s (site %d): gave up after %d attempts; last error %s', $operation, $domain, $site_id, $attempt, $last_error), 'error');
		self::end_intent($domain, $intent);
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

	public static function record_intent(string $operation, string $domain): string {

		$token = wp_generate_uuid4();
		update_site_option(self::intent_key($domain), ['operation' => $operation, 'token' => $token, 'at' => time()]);

		return $token;
	}

	/**
	 * The chain of $intent ended (done, refused, or given up): its row goes, unless a newer
	 * operation on the domain has replaced it meanwhile.
	 */
	public static function end_intent(string $domain, string $intent): void {

		$current = get_site_option(self::intent_key($domain));
		if (is_array($current) && ($current['token'] ?? '') === $intent) {
			delete_site_option(self::intent_key($domain));
		}
	}

	public static function intent_key(string $domain): string {

		return self::INTENT_PREFIX . md5(Network_Domains::normalise($domain));
	}
}
