<?php
/**
 * One Action Scheduler queue run in its own PHP process, timed action by action: what a web
 * node's WP-Cron or `wp action-scheduler run` does with the e2e network's queue, through the
 * Action Scheduler stand-in's own claim and process functions (standin_as_stake_claim(),
 * standin_as_process_action(), standin_as_release_claim(): batches of 25, as
 * tests/wordpress/bin/queue-runner.php runs them), plus Action Scheduler's own stop rule
 * between actions (ActionScheduler_Abstract_QueueRunner::batch_limits_exceeded(): the run's
 * 30 s time limit, 90 % of memory_limit), which the stand-in leaves out.
 *
 *   bench/wp/php.sh -d memory_limit=64M bench/wp/runner.php OUT.jsonl [--until-sync-settled]
 *
 * With --until-sync-settled the run also stops after the action that leaves Closte Sync no longer
 * queued or running (what follows it, e.g. the certificate jobs of the names an apply added, is
 * left in the queue).
 *
 * Appends one JSON line per action run to OUT.jsonl: hook, args, seconds, peak memory during
 * the action (memory_get_peak_usage(true), what memory_limit is checked against, after
 * memory_reset_peak_usage() at its start; and the PHP allocator's own peak), the database
 * queries it made, the process's memory_limit, and its status afterwards. An action the process
 * dies in (a fatal error, memory exhausted) gets its line at shutdown, with "died" and the
 * error. Then one line {"run": ...} for the whole process (actions, seconds, peak). Prints
 * nothing; exit 0 unless WordPress did not boot.
 */

$out          = $argv[1] ?? '';
$until_synced = '--until-sync-settled' === ($argv[2] ?? '');
if ('' === $out || (isset($argv[2]) && ! $until_synced)) {
	fwrite(STDERR, "usage: runner.php OUT.jsonl [--until-sync-settled]\n");
	exit(2);
}
require_once dirname(__DIR__, 2) . '/tests/wordpress/cli-request.php';
$e2e = closte_e2e_state('runner.php', false);
closte_e2e_cli_request($e2e['CLOSTE_E2E_NETWORK']);

$GLOBALS['bench_run'] = ['started' => microtime(true), 'actions' => 0, 'current' => null, 'booted' => false];
$bench_write          = static function (array $line) use ($out): void {
	file_put_contents($out, json_encode($line, JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);
};
register_shutdown_function(
	static function () use ($bench_write): void {
		global $wpdb;
		$run   = $GLOBALS['bench_run'];
		$error = error_get_last();
		$fatal = null !== $error && in_array($error['type'], [E_ERROR, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR, E_RECOVERABLE_ERROR], true) ? $error['message'] : null;
		if (null !== $run['current']) {
			$current = $run['current'];
			$bench_write(
				[
					'action'       => $current['id'],
					'hook'         => $current['hook'],
					'args'         => $current['args'],
					'seconds'      => round(microtime(true) - $current['t0'], 3),
					'peak_bytes'   => memory_get_peak_usage(true),
					'peak_alloc'   => memory_get_peak_usage(false),
					'queries'      => isset($wpdb) ? $wpdb->num_queries - $current['q0'] : null,
					'memory_limit' => ini_get('memory_limit'),
					'died'         => true,
					'error'        => $fatal ?? 'the process ended inside the action',
				]
			);
		}
		$bench_write(
			[
				'run'          => true,
				'booted'       => $run['booted'],
				'actions'      => $run['actions'],
				'seconds'      => round(microtime(true) - $run['started'], 3),
				'boot_seconds' => round($run['boot_seconds'] ?? 0, 3),
				'peak_bytes'   => memory_get_peak_usage(true),
				'memory_limit' => ini_get('memory_limit'),
				'died'         => null !== $run['current'] || ! $run['booted'],
				'error'        => $fatal,
			]
		);
	}
);

require '/usr/share/wordpress/wp-load.php';
$GLOBALS['bench_run']['booted']       = true;
$GLOBALS['bench_run']['boot_seconds'] = microtime(true) - $GLOBALS['bench_run']['started'];

// ActionScheduler_Abstract_QueueRunner: time limit 30 s (filter action_scheduler_queue_runner_time_limit),
// memory 90 % of memory_limit, checked between actions; ActionScheduler_QueueRunner::run()'s batches of 25.
$time_limit   = 30;
$memory_limit = wp_convert_hr_to_bytes((string) ini_get('memory_limit'));
$limits_hit   = static function () use ($time_limit, $memory_limit): bool {
	return microtime(true) - $GLOBALS['bench_run']['started'] >= $time_limit
		|| ($memory_limit > 0 && memory_get_usage(true) >= 0.9 * $memory_limit);
};

// Closte Sync's state, read from the database (a job of another process may have changed it).
$sync_settled = static function (): bool {
	global $wpdb;
	$state = maybe_unserialize($wpdb->get_var($wpdb->prepare("SELECT meta_value FROM {$wpdb->sitemeta} WHERE meta_key = %s", \Closte_Native\Sync_State::OPTION)));
	return ! is_array($state) || ! \Closte_Native\Sync_State::is_busy($state);
};

global $wpdb;
$stop  = false;
$table = standin_as_table();
standin_as_clean();
do {
	[$claim_id, $ids] = standin_as_stake_claim(STANDIN_AS_BATCH_SIZE, time());
	$in_batch         = 0;
	try {
		foreach ($ids as $id) {
			if (! in_array($id, standin_as_find_actions_by_claim_id($claim_id), true)) {
				break; // the claim was lost
			}
			$job = $wpdb->get_row($wpdb->prepare("SELECT hook, args FROM $table WHERE action_id = %d", $id), ARRAY_A);
			memory_reset_peak_usage();
			$GLOBALS['bench_run']['current'] = ['id' => $id, 'hook' => $job['hook'] ?? '?', 'args' => json_decode($job['args'] ?? '[]', true), 't0' => microtime(true), 'q0' => $wpdb->num_queries];
			standin_as_process_action($id);
			$current = $GLOBALS['bench_run']['current'];
			$GLOBALS['bench_run']['current'] = null;
			$status  = (string) $wpdb->get_var($wpdb->prepare("SELECT status FROM $table WHERE action_id = %d", $id));
			$bench_write(
				[
					'action'       => $id,
					'hook'         => $current['hook'],
					'args'         => $current['args'],
					'seconds'      => round(microtime(true) - $current['t0'], 3),
					'peak_bytes'   => memory_get_peak_usage(true),
					'peak_alloc'   => memory_get_peak_usage(false),
					'queries'      => $wpdb->num_queries - $current['q0'],
					'memory_limit' => ini_get('memory_limit'),
					'status'       => $status,
					'ended_at'     => microtime(true),
					'died'         => false,
				]
			);
			++$in_batch;
			++$GLOBALS['bench_run']['actions'];
			if ($limits_hit() || ($until_synced && $sync_settled())) {
				$stop = true;
				break;
			}
		}
	} finally {
		standin_as_release_claim($claim_id);
	}
	function_exists('wp_cache_flush_runtime') ? wp_cache_flush_runtime() : wp_cache_flush();
} while ($in_batch > 0 && ! $stop && ! $limits_hit());
