<?php
/**
 * How often and how late an alias change that failed for a reason that may pass (rate limit,
 * 5xx, timeout, network) is tried again.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The numbers only: Alias_Changes schedules and runs the retries.
 */
final class Retry_Policy {

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
	public static function delay(int $attempt): int {

		$base  = max(0, (int) apply_filters('closte_native_retry_base_delay', 60));
		$delay = min(HOUR_IN_SECONDS, $base * (2 ** max(0, $attempt - 1)));

		return (int) round($delay * (0.8 + wp_rand(0, 400) / 1000));
	}
}
