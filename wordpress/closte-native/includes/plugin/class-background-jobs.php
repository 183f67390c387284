<?php
/**
 * Where background work goes: Action Scheduler (bundled with Ultimate Multisite), else WP-Cron.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Every job is stored in Action Scheduler's tables (or WP-Cron without it), so it survives a
 * restart and runs on whichever web server of the network picks it up.
 */
final class Background_Jobs {

	/** Action Scheduler group, shown in Tools > Scheduled Actions. */
	const GROUP = 'closte';

	/** A hook named after one of the plugin's per-name options: closte_native_<kind>_<md5>. */
	const PER_NAME_OPTION_HOOK = '/closte_native_[a-z]+_[0-9a-f]{32}$/';

	/** Action Scheduler's default priority (0 to 255; lower numbers are claimed first). */
	const PRIORITY_DEFAULT = 10;

	/**
	 * Closte Sync's jobs: claimed before the default-priority jobs due at the same time. A run's
	 * next batch is queued behind the certificate DNS jobs its own adds queued (one per alias:
	 * about 6,700 after a 20 s batch at 5 ms latency); at the default priority it waited for
	 * them (in a run of 100,000 adds, over 5,500 ran before the second batch had started). The
	 * operator waits on the Sync page for a preview or a run; the DNS checks only follow the
	 * aliases.
	 */
	const PRIORITY_SYNC = 5;

	/**
	 * Lets go of what WordPress keeps in this process for each record a job touched, for a job
	 * that writes thousands of records in one action (a sync run's adds, a large read): without
	 * it an added alias cost about 6 KB for the rest of the process, and 100,000 adds could not
	 * run in 64 MB.
	 *
	 * - The runtime object cache, as Action Scheduler clears it after each batch of actions
	 *   (ActionScheduler_Abstract_QueueRunner::clear_caches()): a persistent object cache keeps
	 *   its data, only this process's copies go. Before WordPress 6.0 (no
	 *   wp_cache_flush_runtime()), only a non-persistent cache is flushed.
	 * - WordPress's hook counters (did_action(), did_filter()) for the hooks named after one of
	 *   our per-name options ("site_option_closte_native_alias_<md5>" and six more per option):
	 *   about 1 KB an option, kept to the end of the process. Their counts mean nothing to anyone
	 *   (the names are per alias), so they are dropped; every other hook's count stays.
	 */
	public static function release_process_memory(): void {

		if (function_exists('wp_cache_flush_runtime')) {
			wp_cache_flush_runtime();
		} elseif (! wp_using_ext_object_cache()) {
			wp_cache_flush();
		}
		foreach (['wp_actions', 'wp_filters'] as $counters) {
			if (! isset($GLOBALS[ $counters ]) || ! is_array($GLOBALS[ $counters ])) {
				continue;
			}
			foreach (array_keys($GLOBALS[ $counters ]) as $hook) {
				if (is_string($hook) && 1 === preg_match(self::PER_NAME_OPTION_HOOK, $hook)) {
					unset($GLOBALS[ $counters ][ $hook ]);
				}
			}
		}
	}

	/**
	 * A job in Action Scheduler (Ultimate Multisite bundles it), else in WP-Cron.
	 *
	 * $priority is Action Scheduler's (3.6 and later order a claim by priority, then attempts,
	 * then time; Ultimate Multisite 2.18 bundles 3.9). An older Action Scheduler takes the
	 * extra argument and ignores it, as WP-Cron has no priorities.
	 */
	public static function schedule(string $hook, int $delay, array $args, int $priority = self::PRIORITY_DEFAULT): void {

		if (function_exists('as_schedule_single_action')) {
			as_schedule_single_action(time() + $delay, $hook, $args, self::GROUP, false, $priority);
			return;
		}

		wp_schedule_single_event(time() + $delay, $hook, $args);
	}

	/**
	 * Drops the pending jobs of $hook with exactly $args, wherever they were queued (both, as a
	 * job queued before Action Scheduler was loaded sits in WP-Cron).
	 */
	public static function unschedule(string $hook, array $args): void {

		if (function_exists('as_unschedule_all_actions')) {
			as_unschedule_all_actions($hook, $args, self::GROUP);
		}
		wp_clear_scheduled_hook($hook, $args);
	}

	/** How many jobs of $hook are pending: in Action Scheduler, or in WP-Cron where it is not loaded. */
	public static function pending(string $hook): int {

		if (function_exists('as_get_scheduled_actions')) {
			return count(as_get_scheduled_actions(['hook' => $hook, 'group' => self::GROUP, 'status' => 'pending', 'per_page' => -1], 'ids'));
		}
		$count = 0;
		foreach ((array) _get_cron_array() as $events) {
			$count += count($events[ $hook ] ?? []);
		}

		return $count;
	}
}
