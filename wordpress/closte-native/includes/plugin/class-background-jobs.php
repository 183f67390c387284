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
