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
}
