<?php
/**
 * The WordPress-side benchmark at one size, on the e2e network that is up (tests/wordpress/
 * harness.sh up; bench/wp/run.sh runs this once per implementation and size). Appends JSON lines
 * to OUT (results.jsonl), one per measure and repetition, each tagged with impl and n.
 *
 *   bench/wp/php.sh -d memory_limit=1G bench/wp/measure.php N OUT [--missing=1000] [--reps=5] [--preview-reps=3] [--latency-ms=50]
 *
 * In order:
 * 1. the simulator answers every API request after --latency-ms (POST /__sim/config);
 * 2. generate.php N --aliases --missing=M (M = --missing, at most N - 1): a network of N names
 *    (its host, N/10 site hosts, the rest domain records) whose Closte is in sync but for M;
 * 3. the Sync preview, --preview-reps times: requested as the Sync page does
 *    (Sync_Service::request_preview), then run as Action Scheduler runs it: queue runs
 *    (bench/wp/runner.php) in PHP processes of their own with memory_limit=64M (multisite's
 *    WP_MEMORY_LIMIT), one after another, until the sync is no longer queued or running (or a
 *    runner died in a job, or 15 minutes passed). Per action: seconds, peak memory, queries;
 *    the whole: wall time from the request to the plan, jobs and runner processes it took;
 * 4. the Sync page with that plan (M adds), --reps requests;
 * 5. the apply of the plan (M adds), once, the same way (runner processes at 64M), and then the
 *    simulator's aliases are counted: every name must be there;
 * 6. the Closte Domains page and Ultimate Multisite's domain list (page 1), --reps requests
 *    each, Closte's listing transient deleted before each (the listing is fetched each time);
 * 7. `wp closte sync --dry-run` (tests/wordpress/bin/wp.php cli, the WP-CLI stand-in) in a PHP
 *    process of its own, --reps times, memory_limit -1 (Debian's php-cli default);
 * 8. the hook burst, when bench/wp/burst.sh exists (see run.sh).
 * Page requests go to the network's web server (php -S, the same implementation) as the super
 * admin; a must-use plugin this script installs (and removes at exit) reports each request's
 * wall time (from REQUEST_TIME_FLOAT to PHP's shutdown), peak memory and $wpdb->num_queries.
 */

$usage = "usage: measure.php N OUT [--missing=M] [--reps=R] [--preview-reps=R] [--latency-ms=MS]\n";
$n     = (int) ($argv[1] ?? 0);
$out   = (string) ($argv[2] ?? '');
if ($n < 1 || '' === $out) {
	fwrite(STDERR, $usage);
	exit(2);
}
$opt = ['missing' => 1000, 'reps' => 5, 'preview-reps' => 3, 'latency-ms' => 50];
foreach (array_slice($argv, 3) as $arg) {
	if (! preg_match('/^--(missing|reps|preview-reps|latency-ms)=(\d+)$/', $arg, $m)) {
		fwrite(STDERR, "measure.php: unknown argument '$arg'\n$usage");
		exit(2);
	}
	$opt[ $m[1] ] = (int) $m[2];
}
$missing = min($opt['missing'], $n - 1); // the network's own host is always on Closte

$repo = dirname(__DIR__, 2);
require_once $repo . '/tests/wordpress/cli-request.php';
closte_e2e_state('measure.php', true);
closte_e2e_cli_request(CLOSTE_E2E_NETWORK);
require '/usr/share/wordpress/wp-load.php';
require $repo . '/tests/php/Support/Simulator.php';

use Closte_Native\Domain_Status;
use Closte_Native\Sync_Plan;
use Closte_Native\Sync_Service;
use Closte_Native\Sync_State;

global $wpdb;
$sim  = Closte\Tests\Support\Simulator::attach((int) CLOSTE_E2E_SIM_PORT);
$impl = CLOSTE_E2E_IMPL;
$tmp  = CLOSTE_E2E_DIR . '/run/bench-wp';
@mkdir($tmp, 0777, true);
chmod($tmp, 0777);

function bench_log(string $message): void {
	fwrite(STDERR, '[bench-wp ' . gmdate('H:i:s') . "] $message\n");
}

function bench_emit(array $line): void {
	global $out, $impl, $n;
	file_put_contents($out, json_encode(['bench' => 'wp', 'impl' => $impl, 'n' => $n] + $line, JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);
}

/** Runs a command (an argv list); returns [exit code, stdout, stderr, seconds]. */
function bench_exec(array $cmd, array $env = []): array {
	$started = microtime(true);
	$process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
	$stdout  = stream_get_contents($pipes[1]);
	$stderr  = stream_get_contents($pipes[2]);
	fclose($pipes[1]);
	fclose($pipes[2]);
	return [proc_close($process), (string) $stdout, (string) $stderr, microtime(true) - $started];
}

function bench_php(array $args, array $env = []): array {
	global $repo;
	return bench_exec(array_merge([$repo . '/bench/wp/php.sh'], $args), $env);
}

function bench_state(): array {
	wp_cache_flush();
	return Sync_State::get();
}

/**
 * Adds in a stored plan: its count (a stored plan keeps only the first Sync_State::SHOWN names
 * of its lists), else the size of the list.
 */
function bench_plan_adds($plan): ?int {
	if (! is_array($plan)) {
		return null;
	}
	if (isset($plan['counts']['to_add'])) {
		return (int) $plan['counts']['to_add'];
	}
	if (isset($plan['to_add']) && is_countable($plan['to_add'])) {
		return count($plan['to_add']);
	}
	return null;
}

/**
 * Queue runs in processes of their own at memory_limit=64M until the sync is settled (not
 * queued or running); stops early when a runner died in a job (the plugin may never notice) or
 * after $budget seconds.
 *
 * @return array{seconds: float, runners: int, actions: list<array>, runs: list<array>, died: ?array, state: array, timed_out: bool}
 */
function bench_run_sync_jobs(string $label, float $budget = 900.0): array {
	global $tmp;
	$file    = "$tmp/$label.jsonl";
	@unlink($file);
	$started = microtime(true);
	$runners = 0;
	$idle    = 0;
	$died    = null;
	$state   = bench_state();
	while (Sync_State::is_busy($state) && microtime(true) - $started < $budget) {
		++$runners;
		[$code, , $stderr] = bench_php(['-d', 'memory_limit=64M', __DIR__ . '/runner.php', $file, '--until-sync-settled']);
		$lines = array_map(static fn ($l) => json_decode($l, true), file($file, FILE_IGNORE_NEW_LINES) ?: []);
		$last  = end($lines) ?: [];
		if (0 !== $code && empty($last['run'])) {
			bench_log("runner exited $code: " . trim($stderr));
		}
		foreach ($lines as $line) {
			if (! empty($line['died']) && empty($line['run'])) {
				$died = $line;
			}
		}
		$state = bench_state();
		if (null !== $died) {
			break;
		}
		if (0 === (int) ($last['actions'] ?? 0)) {
			// Nothing due yet (a follow-up job scheduled a little later): wait as WP-Cron would.
			if (++$idle > 600) {
				break;
			}
			usleep(500000);
		} else {
			$idle = 0;
		}
	}
	$lines = array_map(static fn ($l) => json_decode($l, true), file($file, FILE_IGNORE_NEW_LINES) ?: []);
	$sync_ends = array_column(array_filter($lines, static fn ($l) => empty($l['run']) && bench_is_sync_hook((string) $l['hook']) && isset($l['ended_at'])), 'ended_at');
	return [
		// From the request to the end of the last sync job (a runner's start-up included).
		'seconds'   => ($sync_ends ? max($sync_ends) : microtime(true)) - $started,
		'runners'   => $runners,
		'actions'   => array_values(array_filter($lines, static fn ($l) => empty($l['run']))),
		'runs'      => array_values(array_filter($lines, static fn ($l) => ! empty($l['run']))),
		'died'      => $died,
		'state'     => $state,
		'timed_out' => Sync_State::is_busy($state) && null === $died,
	];
}

/** Closte Sync's jobs: closte_native_sync_job and any other closte_native_sync* hook its batches use. */
function bench_is_sync_hook(string $hook): bool {
	return str_starts_with($hook, 'closte_native_sync');
}

/**
 * The figures of a job run worth keeping: Closte Sync's jobs one by one and in all (other jobs
 * the runners ran meanwhile are only counted, by hook).
 */
function bench_jobs_summary(array $run): array {
	$hooks   = [];
	foreach ($run['actions'] as $a) {
		$hooks[ $a['hook'] ] = ($hooks[ $a['hook'] ] ?? 0) + 1;
	}
	$actions = array_values(array_filter($run['actions'], static fn ($a) => bench_is_sync_hook((string) $a['hook']) || ! empty($a['died'])));
	return [
		'seconds'            => round($run['seconds'], 3),
		'runners'            => $run['runners'],
		'jobs'               => count($actions),
		'hooks'              => $hooks,
		'job_seconds'        => array_column($actions, 'seconds'),
		'job_peak_bytes'     => array_column($actions, 'peak_bytes'),
		'job_queries'        => array_column($actions, 'queries'),
		'max_job_seconds'    => $actions ? max(array_column($actions, 'seconds')) : null,
		'max_peak_bytes'     => $actions ? max(array_column($actions, 'peak_bytes')) : null,
		'queries'            => array_sum(array_column($actions, 'queries')),
		'runner_boot_seconds' => array_column($run['runs'], 'boot_seconds'),
		'memory_limit'       => $actions[0]['memory_limit'] ?? null,
		'died'               => null === $run['died'] ? null : ['hook' => $run['died']['hook'], 'seconds' => $run['died']['seconds'], 'peak_bytes' => $run['died']['peak_bytes'], 'error' => $run['died']['error']],
		'timed_out'          => $run['timed_out'],
		'status'             => (string) ($run['state']['status'] ?? '?'),
		'failed_jobs'        => count(array_filter($actions, static fn ($a) => ($a['status'] ?? '') === 'failed')),
	];
}

// ---------------------------------------------------------------- page probe (must-use plugin)
$counts_dir = "$tmp/pages";
$mu_plugin  = CLOSTE_E2E_DIR . '/wp-content/mu-plugins/0-closte-bench-wp.php';
@mkdir($counts_dir, 0777, true);
chmod($counts_dir, 0777);
file_put_contents(
	$mu_plugin,
	'<?php
// Written by bench/wp/measure.php for its run, removed at its end.
$closte_bench_id = (string) ($_SERVER["HTTP_X_CLOSTE_BENCH"] ?? "");
if (preg_match("/^[0-9a-z-]+\z/", $closte_bench_id)) {
	register_shutdown_function(static function () use ($closte_bench_id) {
		$error = error_get_last();
		file_put_contents(' . var_export($counts_dir, true) . ' . "/$closte_bench_id.json", json_encode([
			"seconds" => microtime(true) - $_SERVER["REQUEST_TIME_FLOAT"],
			"peak_bytes" => memory_get_peak_usage(true),
			"peak_alloc" => memory_get_peak_usage(false),
			"queries" => $GLOBALS["wpdb"]->num_queries,
			"memory_limit" => ini_get("memory_limit"),
			"error" => null !== $error && in_array($error["type"], [E_ERROR, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR], true) ? $error["message"] : null,
		]));
	});
}
'
);
register_shutdown_function(static function () use ($mu_plugin, $counts_dir): void {
	@unlink($mu_plugin);
	array_map('unlink', glob("$counts_dir/*.json") ?: []);
	@rmdir($counts_dir);
});
$expire  = time() + DAY_IN_SECONDS;
$token   = WP_Session_Tokens::get_instance(1)->create($expire);
$cookies = sprintf('%s=%s; %s=%s', AUTH_COOKIE, rawurlencode(wp_generate_auth_cookie(1, $expire, 'auth', $token)), LOGGED_IN_COOKIE, rawurlencode(wp_generate_auth_cookie(1, $expire, 'logged_in', $token)));

/** One GET as the super admin; the probe's figures, the HTTP status and the body. */
function bench_page(string $path): array {
	global $cookies, $counts_dir;
	static $sequence = 0;
	$id      = getmypid() . '-' . ++$sequence;
	$context = stream_context_create(['http' => ['method' => 'GET', 'header' => 'Host: ' . CLOSTE_E2E_NETWORK . "\r\nCookie: $cookies\r\nX-Closte-Bench: $id\r\nConnection: close\r\n", 'ignore_errors' => true, 'follow_location' => 0, 'timeout' => 600]]);
	$started = microtime(true);
	$body    = (string) @file_get_contents('http://127.0.0.1:' . CLOSTE_E2E_WEB_PORT . $path, false, $context);
	$client  = microtime(true) - $started;
	preg_match('#^HTTP/\S+ (\d+)#', $http_response_header[0] ?? '', $m);
	$file = "$counts_dir/$id.json";
	for ($i = 0; $i < 50 && ! is_file($file); $i++) {
		usleep(100000);
	}
	$probe = is_file($file) ? (array) json_decode((string) file_get_contents($file), true) : [];
	return ['status' => (int) ($m[1] ?? 0), 'client_seconds' => round($client, 3), 'body' => $body] + $probe;
}

/** --reps requests of a page; each must answer 200 and show $marker. */
function bench_pages(string $what, string $path, string $marker, bool $fresh_listing): void {
	global $opt;
	for ($rep = 1; $rep <= $opt['reps']; $rep++) {
		if ($fresh_listing) {
			delete_site_transient(Domain_Status::LISTING_TRANSIENT);
		}
		$page = bench_page($path);
		$ok   = 200 === $page['status'] && str_contains($page['body'], $marker) && empty($page['error']);
		if (! $ok) {
			bench_log("$what: HTTP {$page['status']}" . (empty($page['error']) ? '' : ", {$page['error']}") . ', ' . (str_contains($page['body'], $marker) ? '' : "no '$marker' in the page: ") . substr(trim(strip_tags($page['body'])), 0, 300));
		}
		unset($page['body']);
		bench_emit(['what' => $what, 'rep' => $rep, 'ok' => $ok] + $page);
	}
}

// ---------------------------------------------------------------- 1-2. the network
$sim->configure(['latency_ms' => $opt['latency-ms']]);
bench_log("$impl N=$n: generating ($missing missing)");
[$code, $stdout, $stderr, $seconds] = bench_php([__DIR__ . '/generate.php', (string) $n, '--aliases', "--missing=$missing"]);
if (0 !== $code) {
	bench_log("generate.php failed: $stderr");
	exit(1);
}
bench_emit(['what' => 'generate', 'ok' => true, 'seconds' => round($seconds, 3)] + (array) json_decode($stdout, true));
wp_cache_flush();
bench_page('/wp-admin/network/'); // not measured: a network's first admin request writes WordPress's own options

// ---------------------------------------------------------------- 3-4. preview, Sync page
$planned = null;
for ($rep = 1; $rep <= $opt['preview-reps']; $rep++) {
	wp_set_current_user(1);
	$asked = Sync_Service::request_preview(false);
	if (true !== $asked) {
		bench_log('preview refused: ' . (is_wp_error($asked) ? $asked->get_error_message() : var_export($asked, true)));
		bench_emit(['what' => 'preview', 'rep' => $rep, 'ok' => false, 'error' => 'refused']);
		break;
	}
	$run     = bench_run_sync_jobs("preview-$rep");
	$summary = bench_jobs_summary($run);
	$adds    = bench_plan_adds($run['state']['plan'] ?? null);
	$ok      = 'planned' === $summary['status'] && $adds === $missing;
	bench_log(sprintf('preview %d: %s, %.1f s, %d jobs, max job %.1f s, max peak %.1f MiB, adds %s', $rep, $summary['status'], $summary['seconds'], $summary['jobs'], (float) $summary['max_job_seconds'], (int) $summary['max_peak_bytes'] / 1048576, var_export($adds, true)) . (null === $summary['died'] ? '' : ', died: ' . $summary['died']['error']));
	bench_emit(['what' => 'preview', 'rep' => $rep, 'ok' => $ok, 'adds' => $adds] + $summary);
	if ('planned' === $summary['status']) {
		$planned = $run['state'];
	} else {
		// A dead or failed preview leaves the sync busy or failed: clear it for what follows.
		delete_site_option(Sync_State::OPTION);
		$wpdb->query('DELETE FROM ' . standin_as_table() . " WHERE status IN ('pending', 'in-progress')");
		break;
	}
}
bench_pages('sync page', '/wp-admin/network/settings.php?page=closte-native-sync', 'Closte Sync', false);

// ---------------------------------------------------------------- 5. apply
if (null !== $planned && isset($planned['plan']['id'])) {
	wp_set_current_user(1);
	$plan  = $planned['plan'];
	$asked = Sync_Service::request_apply((string) $plan['id'], Sync_Plan::confirmation_token($plan));
	if (true !== $asked) {
		bench_log('apply refused: ' . (is_wp_error($asked) ? $asked->get_error_message() : var_export($asked, true)));
		bench_emit(['what' => 'apply', 'ok' => false, 'error' => 'refused']);
	} else {
		$run     = bench_run_sync_jobs('apply');
		$summary = bench_jobs_summary($run);
		$listed  = count($sim->state()['domains'] ?? []);
		$want    = $n; // generate.php: N names in all, the network's host, the sites and the records
		$ok      = 'done' === $summary['status'] && $listed >= $want;
		bench_log(sprintf('apply: %s, %.1f s, %d jobs, max job %.1f s, max peak %.1f MiB, simulator %d/%d aliases', $summary['status'], $summary['seconds'], $summary['jobs'], (float) $summary['max_job_seconds'], (int) $summary['max_peak_bytes'] / 1048576, $listed, $want));
		// The certificate jobs of the added names (closte_native_cert_*), due now, are not the
		// apply's: counted and taken out of the queue before the next measure.
		$left = (int) $wpdb->get_var('SELECT COUNT(*) FROM ' . standin_as_table() . " WHERE status = 'pending'");
		$wpdb->query('DELETE FROM ' . standin_as_table() . " WHERE status = 'pending'");
		bench_emit(['what' => 'apply', 'ok' => $ok, 'adds' => bench_plan_adds($plan), 'aliases_after' => $listed, 'aliases_wanted' => $want, 'follow_up_jobs' => $left] + $summary);
	}
} else {
	bench_emit(['what' => 'apply', 'ok' => false, 'error' => 'no plan: the preview did not finish']);
}
delete_site_option(Sync_State::OPTION);

// ---------------------------------------------------------------- 6. Closte Domains page, UM's list
bench_pages('domains page', '/wp-admin/network/settings.php?page=closte-native-domains', '<tr id="closte-domain-', true);
bench_pages('um domain list', '/wp-admin/network/admin.php?page=wp-ultimo-domains', 'class="closte-native-um-state"', true);

// ---------------------------------------------------------------- 7. wp closte sync --dry-run
for ($rep = 1; $rep <= $opt['reps']; $rep++) {
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$probe = "$tmp/cli-$rep.json";
	@unlink($probe);
	[$code, $stdout, $stderr, $seconds] = bench_php(['-d', 'memory_limit=-1', '-d', 'auto_prepend_file=' . __DIR__ . '/probe.php', $repo . '/tests/wordpress/bin/wp.php', 'cli', 'closte', 'sync', '--dry-run'], ['CLOSTE_BENCH_PROBE' => $probe]);
	$figures = is_file($probe) ? (array) json_decode((string) file_get_contents($probe), true) : [];
	$ok      = 0 === $code && empty($figures['error']);
	if (! $ok) {
		bench_log("wp closte sync --dry-run exited $code: " . substr(trim($stderr . ' ' . strip_tags($stdout)), 0, 400));
	}
	bench_emit(['what' => 'cli dry run', 'rep' => $rep, 'ok' => $ok, 'exit' => $code, 'process_seconds' => round($seconds, 3)] + $figures);
}
bench_log("$impl N=$n: done");
