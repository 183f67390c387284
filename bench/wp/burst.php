<?php
/**
 * The hook burst (issue 24, point 2): N domain records created at once through the Ultimate
 * Multisite stand-in (N wu_add_domain actions), the queue run as web nodes run it, and the time
 * until every alias is on the simulator; then the certificate jobs that follow (each name's DNS
 * check); then closte_sync() of the same N names on an empty simulator, for comparison. On the
 * e2e network that is up (tests/wordpress/harness.sh up), with its implementation:
 *
 *   bench/wp/php.sh bench/wp/burst.php [N] [--latency-ms=50] [--timeout=600] [--no-sync]
 *
 *   N              domain records in the burst (default 1000)
 *   --latency-ms   the simulator answers every API request after this many ms (default 50)
 *   --timeout      give up waiting for the aliases after this many seconds (default 600)
 *   --no-sync      skip the closte_sync() comparison
 *
 * It starts from a clean state (the stand-in's jobs and domain records, the plugin's queue and
 * options, the simulator's aliases: what each e2e test starts from), leaves the network up and
 * restores the simulator's latency to 0 at the end. The queue is run by
 * tests/wordpress/bin/queue-runner.php processes (Action Scheduler's run: batches of 25 until
 * nothing is due), one after another, while this process polls the simulator every 50 ms.
 *
 * Prints one JSON object on stdout (progress on stderr):
 *   impl, um, n, latency_ms,
 *   burst: {seconds_to_aliases (from the first runner's start to the last alias present),
 *           create_seconds (the N records and their jobs), runners, requests (/adddomainalias),
 *           max_in_flight (most adds the simulator saw arrive within one latency), drains
 *           (closte_native_alias_queue jobs run), aliases, ok},
 *   certificates: {seconds (from all aliases present until the queue runners have run every
 *                  certificate job due: the DNS checks, which the runner that sent the aliases
 *                  goes on with),
 *                  dns_jobs_run, pending_after (certificate jobs scheduled later)},
 *   sync: {seconds, added, failed, ok} (closte_sync($names, ['request_ssl' => false]): the
 *         same adds without certificate requests, as the burst makes them), or null,
 *   ratio (burst.seconds_to_aliases / sync.seconds), or null.
 * Exit 0 when every alias arrived (and the sync added every name), 1 otherwise, 2 on bad usage.
 */

$usage = "usage: burst.php [N] [--latency-ms=MS] [--timeout=S] [--no-sync]\n";
$opt   = ['n' => 1000, 'latency-ms' => 50, 'timeout' => 600, 'sync' => true];
foreach (array_slice($argv, 1) as $arg) {
	if (preg_match('/^\d+$/', $arg)) {
		$opt['n'] = (int) $arg;
	} elseif (preg_match('/^--(latency-ms|timeout)=(\d+)$/', $arg, $m)) {
		$opt[ $m[1] ] = (int) $m[2];
	} elseif ('--no-sync' === $arg) {
		$opt['sync'] = false;
	} else {
		fwrite(STDERR, "burst.php: unknown argument '$arg'\n$usage");
		exit(2);
	}
}
if ($opt['n'] < 1) {
	fwrite(STDERR, $usage);
	exit(2);
}

$repo = dirname(__DIR__, 2);
require_once $repo . '/tests/wordpress/cli-request.php';
closte_e2e_state('burst.php', true);
closte_e2e_cli_request(CLOSTE_E2E_NETWORK);
require '/usr/share/wordpress/wp-load.php';
require $repo . '/tests/php/Support/Simulator.php';

use Closte_Native\Alias_Queue;
use Closte_Native\Certificate_Lifecycle;

function burst_log(string $message): void {
	fwrite(STDERR, '[burst ' . gmdate('H:i:s') . "] $message\n");
}

/** How many aliases the simulator holds (GET /__sim/state). */
function burst_alias_count(\Closte\Tests\Support\Simulator $sim): int {
	return count($sim->state()['domains']);
}

global $wpdb;
$sim = Closte\Tests\Support\Simulator::attach((int) CLOSTE_E2E_SIM_PORT);
$n   = $opt['n'];

// What every e2e test starts from (tests/wordpress/tests/E2eTestCase.php setUp()).
$sim->reset();
$sim->configure(['api_keys' => [CLOSTE_E2E_KEY], 'latency_ms' => 0]);
$wpdb->query('TRUNCATE ' . standin_as_table());
$wpdb->query('TRUNCATE ' . standin_as_claims_table());
$wpdb->query('TRUNCATE ' . Standin_Domain_Manager::table());
$wpdb->query('DROP TABLE IF EXISTS ' . Alias_Queue::table());
$wpdb->query("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%' OR meta_key LIKE '\\_site\\_transient%closte\\_native\\_%'");
update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
update_site_option('closte_native_www_twin', '0');
wp_cache_flush();

$names   = array_map(static fn (int $i): string => "burst-$i.example", range(1, $n));
$started = microtime(true);
foreach ($names as $name) {
	Standin_Domain_Manager::create_domain($name, 1);
}
$create_seconds = microtime(true) - $started;
burst_log(sprintf('%d domain records and their jobs created in %.1f s', $n, $create_seconds));

$sim->configure(['latency_ms' => $opt['latency-ms']]);
$runner  = [$repo . '/bench/wp/php.sh', $repo . '/tests/wordpress/bin/queue-runner.php'];
$started = microtime(true);
$runners = 0;
$aliases = 0;
$done_at = null;
$process = null;
while (microtime(true) - $started < $opt['timeout']) {
	if (null === $process) {
		$process = proc_open($runner, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
		++$runners;
	}
	usleep(50000);
	$aliases = burst_alias_count($sim);
	if ($aliases >= $n && null === $done_at) {
		$done_at = microtime(true);
		burst_log(sprintf('all %d aliases present after %.2f s', $n, $done_at - $started));
	}
	if (! proc_get_status($process)['running']) {
		proc_close($process);
		$process = null;
		if (null !== $done_at) {
			break;
		}
	}
}
if (null !== $process) {
	proc_close($process); // waits for the run in progress
}
$adds = array_values(array_filter($sim->requests(), static fn (array $r): bool => '/adddomainalias' === $r['path']));
$at   = array_map(static fn (array $r): float => (float) $r['at_ms'], $adds);
sort($at);
$in_flight = 0;
for ($i = 0, $j = 0, $count = count($at); $i < $count; $i++) {
	while ($at[ $i ] - $at[ $j ] >= max(1, $opt['latency-ms'])) {
		++$j;
	}
	$in_flight = max($in_flight, $i - $j + 1);
}
wp_cache_flush();
$burst = [
	'seconds_to_aliases' => null === $done_at ? null : round($done_at - $started, 3),
	'create_seconds'     => round($create_seconds, 3),
	'runners'            => $runners,
	'requests'           => count($adds),
	'max_in_flight'      => $in_flight,
	'drains'             => count(standin_as_jobs(Alias_Queue::DRAIN_HOOK, 'complete')),
	'aliases'            => $aliases,
	'ok'                 => null !== $done_at,
];

// The certificate jobs that follow: each name's DNS check, due at once. The runner that sent the
// last alias goes on with them; more runners until none is due. Timed from the last alias.
$cert_started = $done_at ?? microtime(true);
$due          = static function (): int {
	$count = 0;
	foreach (Certificate_Lifecycle::HOOKS as $hook) {
		foreach (standin_as_jobs($hook, 'pending') as $job) {
			$count += (int) $job['scheduled_at'] <= time() ? 1 : 0;
		}
	}
	return $count;
};
while ($due() > 0 && microtime(true) - $cert_started < $opt['timeout']) {
	$process = proc_open($runner, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
	proc_close($process);
	wp_cache_flush();
}
$dns_run = 0;
foreach (standin_as_jobs(Certificate_Lifecycle::DNS_HOOK) as $job) {
	$dns_run += in_array($job['status'], ['complete', 'failed'], true) ? 1 : 0;
}
$pending_after = 0;
foreach (Certificate_Lifecycle::HOOKS as $hook) {
	$pending_after += count(standin_as_jobs($hook, 'pending'));
}
$certificates = ['seconds' => round(microtime(true) - $cert_started, 3), 'dns_jobs_run' => $dns_run, 'pending_after' => $pending_after];
burst_log(sprintf('certificate jobs: %.2f s', $certificates['seconds']));

$sync = null;
if ($opt['sync']) {
	$sim->configure(['latency_ms' => 0]);
	$sim->reset();
	$sim->configure(['api_keys' => [CLOSTE_E2E_KEY], 'latency_ms' => $opt['latency-ms']]);
	$t      = microtime(true);
	$report = closte_sync($names, ['request_ssl' => false]);
	$sync   = [
		'seconds' => round(microtime(true) - $t, 3),
		'added'   => count($report['added']),
		'failed'  => count($report['failed']),
		'ok'      => (bool) $report['ok'] && count($report['added']) === $n,
	];
	burst_log(sprintf('closte_sync of the same %d names: %.2f s', $n, $sync['seconds']));
}
$sim->configure(['latency_ms' => 0]);

$result = [
	'impl'         => CLOSTE_E2E_IMPL,
	'um'           => CLOSTE_E2E_UM,
	'n'            => $n,
	'latency_ms'   => $opt['latency-ms'],
	'burst'        => $burst,
	'certificates' => $certificates,
	'sync'         => $sync,
	'ratio'        => null !== $sync && null !== $burst['seconds_to_aliases'] && $sync['seconds'] > 0 ? round($burst['seconds_to_aliases'] / $sync['seconds'], 2) : null,
];
echo json_encode($result, JSON_UNESCAPED_SLASHES), "\n";
exit($burst['ok'] && (null === $sync || $sync['ok']) ? 0 : 1);
