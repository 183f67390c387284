<?php
/**
 * Queries of the operator's views at N domains (issue 23): Domain_Status::rows() (one page of the
 * Closte Domains page's model) and `wp closte domains --format=count`, counted with
 * $wpdb->num_queries, on the e2e network (tests/wordpress/harness.sh up; see bench/domain_status_queries.sh).
 * For each N: N domain records (Ultimate Multisite stand-in), N ownership records, N certificate
 * records (active), N/2 pending certificate jobs (Action Scheduler stand-in), and Closte listing
 * all N (the simulator). Prints one line per N and view.
 *
 * Usage: php ... bench/domain_status_queries.php 1000 10000
 */

$state = (getenv('CLOSTE_E2E_DIR') ?: '/tmp/closte-e2e') . '/state.env';
foreach (parse_ini_file($state) as $name => $value) {
	define($name, (string) $value);
}
$_SERVER['WORDPRESS_CONFIG'] = 'closte-e2e';
$_SERVER['HTTP_HOST']        = $_SERVER['SERVER_NAME'] = CLOSTE_E2E_NETWORK;
$_SERVER['REQUEST_URI']      = '/';
$_SERVER['SERVER_PORT']      = 80;
$_SERVER['REQUEST_METHOD']   = 'GET';
$_SERVER['REMOTE_ADDR']      = '127.0.0.1';
define('WP_USE_THEMES', false);
require __DIR__ . '/../tests/wordpress/fixtures/wp-cli-standin.php'; // `wp closte domains` in this process
require '/usr/share/wordpress/wp-load.php';
require __DIR__ . '/../tests/php/Support/Simulator.php';

use Closte_Native\Certificate_Records;
use Closte_Native\Domain_Status;

global $wpdb;
$sim = Closte\Tests\Support\Simulator::attach((int) CLOSTE_E2E_SIM_PORT);
update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
update_site_option('closte_native_www_twin', '0');

/** Inserts rows in batches of 500 (one query each). */
function bench_insert(string $table, array $columns, array $rows): void {
	global $wpdb;
	foreach (array_chunk($rows, 500) as $chunk) {
		$values = [];
		foreach ($chunk as $row) {
			$values[] = '(' . implode(',', array_map(static fn ($v) => is_int($v) ? (string) $v : "'" . esc_sql((string) $v) . "'", $row)) . ')';
		}
		$wpdb->query("INSERT INTO $table (" . implode(',', $columns) . ') VALUES ' . implode(',', $values));
	}
}

/** @return array{queries: int, seconds: float} */
function bench_count(callable $work): array {
	global $wpdb;
	wp_cache_flush();
	$before  = $wpdb->num_queries;
	$started = microtime(true);
	ob_start();
	$work();
	ob_end_clean();
	return ['queries' => $wpdb->num_queries - $before, 'seconds' => microtime(true) - $started];
}

foreach (array_map('intval', array_slice($argv, 1) ?: ['1000', '10000']) as $n) {
	$sim->reset();
	$sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);
	$wpdb->query('TRUNCATE ' . standin_as_table());
	$wpdb->query('TRUNCATE ' . Standin_Domain_Manager::table());
	$wpdb->query("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%' OR meta_key LIKE '\\_site\\_transient%closte\\_native\\_%'");
	wp_cache_flush();

	$names = [];
	for ($i = 1; $i <= $n; $i++) {
		$names[] = "bench-$i.example";
	}
	$network = get_current_network_id();
	bench_insert(Standin_Domain_Manager::table(), ['blog_id', 'domain'], array_map(static fn ($d) => [1, $d], $names));
	$meta = [];
	foreach ($names as $i => $name) {
		$meta[] = [$network, 'closte_native_alias_' . md5($name), serialize(['domain' => $name, 'site_id' => 1, 'source' => 'bench', 'at' => time()])];
		$record              = Certificate_Records::fresh($name, 1, null);
		$record['alias_at']  = time();
		$record['state']     = 'active';
		$record['certificate'] = ['status' => 'active', 'issuer' => 'Bench CA', 'issuer_organization' => null, 'not_after' => time() + 60 * 86400, 'days_left' => 60, 'checked_at' => time(), 'address' => '127.0.0.1', 'detail' => 'ok'];
		$meta[] = [$network, Certificate_Records::key($name), serialize($record)];
	}
	bench_insert($wpdb->sitemeta, ['site_id', 'meta_key', 'meta_value'], $meta);
	$jobs = [];
	foreach (array_slice($names, 0, intdiv($n, 2)) as $name) {
		$jobs[] = ['closte_native_cert_verify', wp_json_encode([$name]), 'closte', time() + 3600, 'pending'];
	}
	bench_insert(standin_as_table(), ['hook', 'args', '`group`', 'scheduled_at', 'status'], $jobs);
	foreach (array_chunk($names, 2000) as $chunk) {
		$sim->control('POST', '/domains', ['domains' => $chunk]);
	}

	$fresh  = bench_count(static fn () => Domain_Status::rows(['per_page' => 50]));
	$cached = bench_count(static fn () => Domain_Status::rows(['per_page' => 50, 'orderby' => 'expires', 'status' => 'needs_attention']));
	$rows   = Domain_Status::rows(['per_page' => 0]);
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$exit = null;
	$cli  = bench_count(static function () use (&$exit) { $exit = \WP_CLI\standin_run(['closte', 'domains', '--format=count']); });
	$listings = count(array_filter($sim->requests(), static fn ($r) => '/getdomains' === $r['path']));

	printf("N=%d rows=%d yes=%d: Domain_Status::rows (listing fetched) %d queries %.2f s; rows again (listing cached) %d queries %.2f s; wp closte domains --format=count %d queries %.2f s (exit %d); /getdomains %d\n",
		$n, $rows['counts']['all'], count(array_filter($rows['rows'], static fn ($r) => 'yes' === $r['alias'])),
		$fresh['queries'], $fresh['seconds'], $cached['queries'], $cached['seconds'], $cli['queries'], $cli['seconds'], (int) $exit, $listings);
}
