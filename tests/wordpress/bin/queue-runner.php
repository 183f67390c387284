<?php
/**
 * One web server's Action Scheduler queue runner (the stand-in's, fixtures/action-scheduler-standin.php),
 * in a process of its own against the e2e network's database: what WP-Cron or
 * `wp action-scheduler run` does on each web node of a network with several.
 *
 *   php ... queue-runner.php [BATCH_SIZE] [CONCURRENT_BATCHES]
 *
 * Boots WordPress as a request to the network's main host would (like wp.php), then runs the
 * queue (batch after batch, each its own claim) until a batch finds nothing due and unclaimed.
 * CONCURRENT_BATCHES is the action_scheduler_queue_runner_concurrent_batches filter, which
 * networks with several web nodes raise (Action Scheduler's default, 1, lets a runner start
 * only while no other holds a claim). Prints "processed N" and exits 0.
 */

require_once dirname(__DIR__) . '/cli-request.php';
closte_e2e_cli_request(getenv('CLOSTE_E2E_HOST') ?: 'closte-e2e.test');

// WordPress exit()s with status 0 on an unknown host or a redirect: make that a failure, and say
// why. exit() unwinds nothing, so at shutdown the hooks in progress ($wp_current_filter), the
// last PHP error and the database's last error still describe where it happened; wp_die() and
// wp_redirect() (what WordPress exits through) record a backtrace as they are called.
$GLOBALS['e2e_done']  = false;
$GLOBALS['e2e_stage'] = 'booting WordPress';
$GLOBALS['e2e_exit_trace'] = [];
$e2e_record = static function (string $what): void {
	$frames = [];
	foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS) as $frame) {
		$frames[] = ($frame['class'] ?? '') . ($frame['type'] ?? '') . $frame['function'] . '() ' . basename($frame['file'] ?? '?') . ':' . ($frame['line'] ?? '?');
	}
	$GLOBALS['e2e_exit_trace'][] = $what . "\n    " . implode("\n    ", $frames);
};
// Filters set before WordPress loads (WP_Hook::build_preinitialized_hooks()).
foreach (['wp_die_handler', 'wp_die_ajax_handler', 'wp_die_json_handler', 'wp_die_jsonp_handler', 'wp_die_xmlrpc_handler', 'wp_die_xml_handler'] as $e2e_hook) {
	$GLOBALS['wp_filter'][ $e2e_hook ][ PHP_INT_MAX ][] = [
		'function'      => static function ($handler) use ($e2e_hook, $e2e_record) {
			return static function ($message = '', $title = '', $args = []) use ($handler, $e2e_hook, $e2e_record) {
				$text = is_wp_error($message) ? implode('; ', $message->get_error_messages()) : (is_scalar($message) ? (string) $message : get_debug_type($message));
				$e2e_record("wp_die ($e2e_hook): " . trim(strip_tags($text)) . ' ' . (is_scalar($title) ? $title : ''));
				return $handler($message, $title, $args);
			};
		},
		'accepted_args' => 1,
	];
}
$GLOBALS['wp_filter']['wp_redirect'][ PHP_INT_MAX ][] = [
	'function'      => static function ($location) use ($e2e_record) {
		$e2e_record('wp_redirect to ' . $location);
		return $location;
	},
	'accepted_args' => 1,
];
register_shutdown_function(
	static function (): void {
		if ($GLOBALS['e2e_done']) {
			return;
		}
		global $wpdb, $wp_current_filter;
		$why = ["queue-runner.php: WordPress exited before the queue was run (while {$GLOBALS['e2e_stage']})"];
		$error = error_get_last();
		if (null !== $error) {
			$why[] = "last PHP error: {$error['message']} at {$error['file']}:{$error['line']}";
		}
		if (isset($wpdb) && is_object($wpdb)) {
			$why[] = 'database: last error ' . var_export($wpdb->last_error, true) . ', ready ' . var_export($wpdb->ready ?? null, true) . ', last query ' . var_export($wpdb->last_query, true);
		}
		if (! empty($wp_current_filter)) {
			$why[] = 'hooks in progress: ' . implode(' > ', $wp_current_filter);
		}
		if (function_exists('standin_as_jobs') && isset($wpdb->ready) && $wpdb->ready) {
			foreach (standin_as_jobs(null, 'in-progress') as $job) {
				$why[] = 'action in progress: ' . $job['action_id'] . ' ' . $job['hook'] . ' ' . wp_json_encode($job['args']);
			}
		}
		foreach ($GLOBALS['e2e_exit_trace'] as $trace) {
			$why[] = $trace;
		}
		fwrite(STDERR, implode("\n", $why) . "\n");
		// exit() here would skip the shutdown functions registered after this one (the plugin's
		// record of a sync job's fatal error): exit from one registered now, which runs last.
		register_shutdown_function(static fn () => exit(3));
	}
);

require '/usr/share/wordpress/wp-load.php';

$batch_size         = max(1, (int) ($argv[1] ?? STANDIN_AS_BATCH_SIZE));
$concurrent_batches = max(1, (int) ($argv[2] ?? 1));
add_filter('action_scheduler_queue_runner_concurrent_batches', static fn () => $concurrent_batches);
if (getenv('CLOSTE_SYNC_CONCURRENCY')) { // a test's way to make a sync last long enough to overlap
	add_filter('closte_native_sync_concurrency', static fn () => (int) getenv('CLOSTE_SYNC_CONCURRENCY'));
}

if (getenv('CLOSTE_E2E_EXHAUST_MEMORY_ON')) { // a test's way to kill a job with PHP's "Allowed memory size exhausted"
	add_filter(
		getenv('CLOSTE_E2E_EXHAUST_MEMORY_ON'),
		static function ($value) {
			$hog = [];
			while (true) {
				$hog[] = str_repeat('x', 1 << 20);
			}
			return $value;
		}
	);
	$GLOBALS['e2e_done'] = true; // the fatal error is the point: not a failure of this script
}
if ('0' === getenv('CLOSTE_E2E_SEND_IN_RUNNER')) { // a test's way to leave every alias change to the drain job
	add_filter('closte_native_send_in_runner', '__return_false');
}
if (getenv('CLOSTE_E2E_SYNC_BATCH_SECONDS')) {
	add_filter('closte_native_sync_batch_seconds', static fn () => (float) getenv('CLOSTE_E2E_SYNC_BATCH_SECONDS'));
}

$GLOBALS['e2e_stage'] = 'running the queue';
if (getenv('CLOSTE_E2E_RUNNER_ONE_JOB_OF')) { // a test's way to run one due job of a hook, alone, in a process of its own
	$processed = standin_as_run_queue(null, 1, [getenv('CLOSTE_E2E_RUNNER_ONE_JOB_OF')]);
} else {
	$processed = standin_as_run($batch_size);
}
echo "processed $processed\n";
$GLOBALS['e2e_done'] = true;
