<?php
/**
 * Queries of the operator's views at N domains (issue 23), on the e2e network (Ultimate
 * Multisite 2.5 stand-in; tests/wordpress/harness.sh up, see bench/domain_status_queries.sh):
 *
 * - in this process, counted with $wpdb->num_queries around the call: Domain_Status::rows()
 *   (the Closte Domains page's model) and `wp closte domains --format=count`;
 * - over HTTP, as the super admin, against the network's web server (php -S running the same
 *   implementation): the Closte Domains page (page 1, and page 1 of "Needs attention"),
 *   Ultimate Multisite's domain list and edit-domain page (our state in the Domain column and
 *   our box), and one AJAX action of the page (re-check certificate). Every database query of
 *   each request is counted by a must-use plugin this script installs for the run and removes
 *   at exit: $wpdb->num_queries at PHP's shutdown (after WordPress's own shutdown hooks), and
 *   each query's origin (the first plugin file in its backtrace: ours, the Ultimate Multisite
 *   or Action Scheduler stand-in, else WordPress) through the `query` filter. /getdomains
 *   requests are counted in the simulator's request log. No persistent object cache (the
 *   worst case), and Closte's listing is fetched again for every view (its transient deleted
 *   first), except where a line says "cached".
 *
 * For each N: N domain records, N ownership records, N certificate records (active; one in 20
 * expiring in 7 days), N/2 pending certificate jobs, and Closte listing all but one in 20
 * (so one in 10 needs attention). Prints one line per N and view, then where each view's
 * queries come from.
 *
 * Usage: php ... bench/domain_status_queries.php 1000 10000
 */

require_once __DIR__ . '/../tests/wordpress/cli-request.php';
closte_e2e_state('domain_status_queries.php', true);
closte_e2e_cli_request(CLOSTE_E2E_NETWORK);
require __DIR__ . '/../tests/wordpress/fixtures/wp-cli-standin.php'; // `wp closte domains` in this process
require '/usr/share/wordpress/wp-load.php';
require __DIR__ . '/../tests/php/Support/Simulator.php';

use Closte_Native\Certificate_Records;
use Closte_Native\Domain_Status;

global $wpdb;
$sim = Closte\Tests\Support\Simulator::attach((int) CLOSTE_E2E_SIM_PORT);
update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
update_site_option('closte_native_www_twin', '0');

// The must-use plugin that counts each web request's queries (only requests carrying the
// X-Closte-Bench header; loaded first of the must-use plugins, by its name).
$counts_dir = CLOSTE_E2E_DIR . '/run/bench-queries';
$mu_plugin  = CLOSTE_E2E_DIR . '/wp-content/mu-plugins/0-closte-bench-queries.php';
@mkdir($counts_dir, 0777, true);
chmod($counts_dir, 0777);
file_put_contents(
	$mu_plugin,
	'<?php
// Written by bench/domain_status_queries.php for its run, removed at its end.
$closte_bench_id = (string) ($_SERVER["HTTP_X_CLOSTE_BENCH"] ?? "");
if (! preg_match("/^[0-9a-z-]+\z/", $closte_bench_id)) {
	return;
}
$GLOBALS["closte_bench"] = ["before_mu_plugins" => $GLOBALS["wpdb"]->num_queries, "seen" => []];
add_filter("query", static function ($sql) {
	$origin = "wordpress";
	foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS) as $frame) {
		$file = (string) ($frame["file"] ?? "");
		if (str_contains($file, "/plugins/closte-native/")) { $origin = "closte-native"; break; }
		if (str_contains($file, "/mu-plugins/standin/action-scheduler")) { $origin = "action-scheduler-standin"; break; }
		if (str_contains($file, "/mu-plugins/standin/")) { $origin = "ultimate-multisite-standin"; break; }
	}
	$GLOBALS["closte_bench"]["seen"][] = [$origin, (string) $sql];
	return $sql;
}, PHP_INT_MIN);
register_shutdown_function(static function () use ($closte_bench_id) {
	file_put_contents(' . var_export($counts_dir, true) . ' . "/$closte_bench_id.json", json_encode(["queries" => $GLOBALS["wpdb"]->num_queries] + $GLOBALS["closte_bench"]));
});
'
);
register_shutdown_function(static function () use ($mu_plugin, $counts_dir): void {
	@unlink($mu_plugin);
	array_map('unlink', glob("$counts_dir/*.json") ?: []);
	@rmdir($counts_dir);
});

// The super admin's cookies (one session), as tests/wordpress/bin/wp.php cookies makes them.
$expire  = time() + DAY_IN_SECONDS;
$token   = WP_Session_Tokens::get_instance(1)->create($expire);
$cookies = sprintf('%s=%s; %s=%s', AUTH_COOKIE, rawurlencode(wp_generate_auth_cookie(1, $expire, 'auth', $token)), LOGGED_IN_COOKIE, rawurlencode(wp_generate_auth_cookie(1, $expire, 'logged_in', $token)));

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

function bench_listings(): int {
	global $sim;
	return count(array_filter($sim->requests(), static fn ($r) => '/getdomains' === $r['path']));
}

/**
 * One request to the network's web server as the super admin, with its queries (the must-use
 * plugin's count) and /getdomains requests.
 *
 * @return array{status: int, body: string, seconds: float, queries: int, by_origin: array<string, int>, seen: list<array{0: string, 1: string}>, getdomains: int}
 */
function bench_web(string $method, string $path, array $form = []): array {
	global $cookies, $counts_dir;
	static $sequence = 0;
	$id       = getmypid() . '-' . ++$sequence;
	$listings = bench_listings();
	$context  = stream_context_create(['http' => [
		'method'          => $method,
		'header'          => 'Host: ' . CLOSTE_E2E_NETWORK . "\r\nCookie: $cookies\r\nX-Closte-Bench: $id\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n",
		'content'         => http_build_query($form),
		'ignore_errors'   => true,
		'follow_location' => 0,
		'timeout'         => 300,
	]]);
	$started = microtime(true);
	$body    = (string) file_get_contents('http://127.0.0.1:' . CLOSTE_E2E_WEB_PORT . $path, false, $context);
	$seconds = microtime(true) - $started;
	preg_match('#^HTTP/\S+ (\d+)#', $http_response_header[0] ?? '', $m);
	$file = "$counts_dir/$id.json";
	for ($i = 0; $i < 50 && ! is_file($file); $i++) {
		usleep(100000); // the shutdown function may finish after the response is read
	}
	$count = is_file($file) ? json_decode((string) file_get_contents($file), true) : null;
	if (! is_array($count)) {
		fwrite(STDERR, "no query count for $method $path (HTTP " . ($m[1] ?? '?') . '): ' . substr($body, 0, 300) . "\n");
		exit(1);
	}
	$by_origin = ['before must-use plugins' => (int) $count['before_mu_plugins']];
	foreach ($count['seen'] as [$origin]) {
		$by_origin[ $origin ] = ($by_origin[ $origin ] ?? 0) + 1;
	}
	return ['status' => (int) ($m[1] ?? 0), 'body' => $body, 'seconds' => $seconds, 'queries' => (int) $count['queries'], 'by_origin' => $by_origin, 'seen' => $count['seen'], 'getdomains' => bench_listings() - $listings];
}

/** A query's shape: literals, numbers and lists reduced, so repeated queries group. */
function bench_shape(string $sql): string {
	$sql = preg_replace("/'(?:[^'\\\\]|\\\\.)*'/s", "'?'", $sql);
	$sql = preg_replace('/\b\d+\b/', 'N', (string) $sql);
	$sql = preg_replace("/\((?:\s*(?:'\?'|N)\s*,)+\s*(?:'\?'|N)\s*\)/", '(…)', (string) $sql);
	return substr((string) preg_replace('/\s+/', ' ', (string) $sql), 0, 110);
}

$details = [];
foreach (array_map('intval', array_slice($argv, 1) ?: ['1000', '10000']) as $n) {
	$sim->reset();
	$sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);
	$wpdb->query('TRUNCATE ' . standin_as_table());
	$wpdb->query('TRUNCATE ' . Standin_Domain_Manager::table());
	$wpdb->query("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%' OR meta_key LIKE '\\_site\\_transient%closte\\_native\\_%'");
	wp_cache_flush();

	// The first name resolves to the simulator's TLS front door (closte.resolve: *.ready.test),
	// which serves it a valid certificate: the re-check's handshake.
	$names = ['bench-1.ready.test'];
	for ($i = 2; $i <= $n; $i++) {
		$names[] = "bench-$i.example";
	}
	$sim->installCertificate($names[0], ['kind' => 'valid', 'days_left' => 60]);
	$network = get_current_network_id();
	bench_insert(Standin_Domain_Manager::table(), ['blog_id', 'domain'], array_map(static fn ($d) => [1, $d], $names));
	$meta = [];
	foreach ($names as $i => $name) {
		$days  = 10 === $i % 20 ? 7 : 60; // one in 20 expiring soon: needs attention
		$meta[] = [$network, 'closte_native_alias_' . md5($name), serialize(['domain' => $name, 'site_id' => 1, 'source' => 'bench', 'at' => time()])];
		$record              = Certificate_Records::fresh($name, 1, null);
		$record['alias_at']  = time();
		$record['state']     = 'active';
		$record['certificate'] = ['status' => 'active', 'issuer' => 'Bench CA', 'issuer_organization' => null, 'not_after' => time() + $days * 86400, 'days_left' => $days, 'checked_at' => time(), 'address' => '127.0.0.1', 'detail' => 'ok'];
		$meta[] = [$network, Certificate_Records::key($name), serialize($record)];
	}
	bench_insert($wpdb->sitemeta, ['site_id', 'meta_key', 'meta_value'], $meta);
	delete_site_transient(Closte_Native\Certificate_Watch::FINDINGS_TRANSIENT); // written past Certificate_Records::put()
	$jobs = [];
	foreach (array_slice($names, 0, intdiv($n, 2)) as $name) {
		$jobs[] = ['closte_native_cert_verify', wp_json_encode([$name]), 'closte', time() + 3600, 'pending'];
	}
	bench_insert(standin_as_table(), ['hook', 'args', '`group`', 'scheduled_at', 'status'], $jobs);
	// Closte lists all but one name in 20 (a mapped domain without its alias: needs attention).
	$listed = array_values(array_filter($names, static fn ($name, $i) => 19 !== $i % 20, ARRAY_FILTER_USE_BOTH));
	foreach (array_chunk($listed, 2000) as $chunk) {
		$sim->control('POST', '/domains', ['domains' => $chunk]);
	}

	// In this process.
	$fresh  = bench_count(static fn () => Domain_Status::rows(['per_page' => 50]));
	$cached = bench_count(static fn () => Domain_Status::rows(['per_page' => 50, 'orderby' => 'expires', 'status' => 'needs_attention']));
	$rows   = Domain_Status::rows(['per_page' => 0]);
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$exit = null;
	$cli  = bench_count(static function () use (&$exit) { $exit = \WP_CLI\standin_run(['closte', 'domains', '--format=count']); });
	printf("N=%d rows=%d alias-yes=%d needs-attention=%d\n", $n, $rows['counts']['all'], count(array_filter($rows['rows'], static fn ($r) => 'yes' === $r['alias'])), $rows['counts']['needs_attention']);
	printf("  Domain_Status::rows, page of 50 (listing fetched)            %4d queries %6.2f s\n", $fresh['queries'], $fresh['seconds']);
	printf("  Domain_Status::rows, needs attention by expiry (listing cached) %4d queries %6.2f s\n", $cached['queries'], $cached['seconds']);
	printf("  wp closte domains --format=count (listing fetched)          %4d queries %6.2f s (exit %d)\n", $cli['queries'], $cli['seconds'], (int) $exit);

	// Over HTTP: each view as WordPress serves it.
	$views = [];
	$page  = '/wp-admin/network/settings.php?page=closte-native-domains';
	bench_web('GET', '/wp-admin/network/'); // not counted: a network's first admin request writes WordPress's own options
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$views['Closte Domains page 1'] = bench_web('GET', $page);
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$views['Closte Domains, Needs attention page 1'] = bench_web('GET', "$page&status=needs_attention");
	$views['the same, listing cached'] = bench_web('GET', "$page&status=needs_attention");
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$views['UM domain list page 1'] = bench_web('GET', '/wp-admin/network/admin.php?page=wp-ultimo-domains');
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$edit_id = (int) $wpdb->get_var($wpdb->prepare('SELECT id FROM ' . Standin_Domain_Manager::table() . ' WHERE domain = %s', $names[0]));
	$views['UM edit-domain page'] = bench_web('GET', "/wp-admin/network/admin.php?page=wp-ultimo-edit-domain&id=$edit_id&model=domain");
	if (! preg_match('#name="closte_nonce" value="([0-9a-f]+)"#', $views['Closte Domains page 1']['body'], $nonce)) {
		fwrite(STDERR, "the Closte Domains page carries no nonce:\n" . substr($views['Closte Domains page 1']['body'], 0, 2000) . "\n");
		exit(1);
	}
	delete_site_transient(Domain_Status::LISTING_TRANSIENT);
	$views['AJAX re-check certificate (1 name)'] = bench_web('POST', '/wp-admin/admin-ajax.php', ['action' => 'closte_native_domains_run', 'do' => 'recheck_certificate', 'domains' => [$names[0]], 'closte_nonce' => $nonce[1]]);

	// Each view must have shown what it is measured for.
	$ajax  = json_decode($views['AJAX re-check certificate (1 name)']['body'], true);
	$shown = [
		'Closte Domains page 1'                  => substr_count($views['Closte Domains page 1']['body'], '<tr id="closte-domain-'),
		'Closte Domains, Needs attention page 1' => substr_count($views['Closte Domains, Needs attention page 1']['body'], '<tr id="closte-domain-'),
		'the same, listing cached'               => substr_count($views['the same, listing cached']['body'], '<tr id="closte-domain-'),
		'UM domain list page 1'                  => substr_count($views['UM domain list page 1']['body'], 'class="closte-native-um-state"'),
		'UM edit-domain page'                    => substr_count($views['UM edit-domain page']['body'], 'class="closte-native-um-box"'),
		'AJAX re-check certificate (1 name)'     => ! empty($ajax['data']['results'][0]['ok']) ? 1 : 0,
	];
	foreach ($views as $label => $view) {
		if (200 !== $view['status'] || 0 === $shown[ $label ]) {
			fwrite(STDERR, "$label: HTTP {$view['status']}, nothing of ours shown:\n" . substr($view['body'], 0, 2000) . "\n");
			exit(1);
		}
		printf("  %-38s %4d queries %6.2f s, /getdomains %d, %d %s shown\n", $label, $view['queries'], $view['seconds'], $view['getdomains'], $shown[ $label ], 'AJAX re-check certificate (1 name)' === $label ? 'result ok' : 'rows');
	}
	printf("  AJAX answer: %s\n", (string) $ajax['data']['results'][0]['message']);
	$details[ $n ] = $views;
}

// Where the queries come from, for the largest N.
$n = array_key_last($details);
echo "\nWhere each view's queries come from at N=$n (origin: first plugin file in the query's backtrace):\n";
foreach ($details[ $n ] as $label => $view) {
	arsort($view['by_origin']);
	printf("%s: %d = %s\n", $label, $view['queries'], implode(', ', array_map(static fn ($o, $c) => "$o $c", array_keys($view['by_origin']), $view['by_origin'])));
	$shapes = [];
	foreach ($view['seen'] as [$origin, $sql]) {
		$key            = "$origin | " . bench_shape($sql);
		$shapes[ $key ] = ($shapes[ $key ] ?? 0) + 1;
	}
	arsort($shapes);
	foreach (array_slice($shapes, 0, 10, true) as $shape => $times) {
		printf("    %3d × %s\n", $times, $shape);
	}
}
