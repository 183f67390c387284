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

$_SERVER['WORDPRESS_CONFIG'] = 'closte-e2e';
$_SERVER['HTTP_HOST']        = $_SERVER['SERVER_NAME'] = getenv('CLOSTE_E2E_HOST') ?: 'closte-e2e.test';
$_SERVER['REQUEST_URI']      = '/';
$_SERVER['SERVER_PORT']      = 80;
$_SERVER['REQUEST_METHOD']   = 'GET';
$_SERVER['REMOTE_ADDR']      = '127.0.0.1';

// WordPress exit()s with status 0 on an unknown host or a redirect: make that a failure.
$GLOBALS['e2e_done'] = false;
register_shutdown_function(
	static function (): void {
		if (! $GLOBALS['e2e_done']) {
			fwrite(STDERR, "queue-runner.php: WordPress exited before the queue was run\n");
			exit(3);
		}
	}
);

require '/usr/share/wordpress/wp-load.php';

$batch_size         = max(1, (int) ($argv[1] ?? STANDIN_AS_BATCH_SIZE));
$concurrent_batches = max(1, (int) ($argv[2] ?? 1));
add_filter('action_scheduler_queue_runner_concurrent_batches', static fn () => $concurrent_batches);
if (getenv('CLOSTE_SYNC_CONCURRENCY')) { // a test's way to make a sync last long enough to overlap
	add_filter('closte_native_sync_concurrency', static fn () => (int) getenv('CLOSTE_SYNC_CONCURRENCY'));
}

$processed = standin_as_run($batch_size);
echo "processed $processed\n";
$GLOBALS['e2e_done'] = true;
