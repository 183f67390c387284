<?php
/**
 * Generates a network whose host names number N on the e2e network (tests/wordpress/harness.sh
 * up), bulk-inserted with multi-row INSERTs (1,000 rows a statement: 100,000 names in about 12 s,
 * not through the object API and its hooks). Replaces what a previous run generated.
 *
 *   bench/wp/php.sh bench/wp/generate.php N [--sites=S] [--aliases] [--missing=M] [--no-records]
 *
 *   N             the names the network wants, which are Closte's aliases when it is in sync: the
 *                 network's own host, S site hosts and N - S - 1 domain records. Names, not
 *                 records, because both implementations refuse a Closte listing of more than
 *                 100,000 aliases (MAX_LISTED_DOMAINS) and site hosts are aliases too
 *                 (closte_native_sync_subdomains is on by default): N = 100,000 is the largest
 *                 network a sync can handle, with 89,999 domain records over 10,000 sites.
 *   --sites=S     sites: wp_blogs rows (network 1, path /, hosts site-K.closte-e2e.test), what
 *                 Network_Domains reads of a site; default ceil(N / 10), at most N - 1.
 *   records       Ultimate Multisite's wu_domain_mappings rows (the stand-in's table and columns:
 *                 id, blog_id, domain, stage 'done'), bench-1.example ... bench-R.example, spread
 *                 evenly over the sites in order.
 *   --aliases     the simulator (CLOSTE_E2E_SIM_PORT) is reset (aliases, request log,
 *                 certificates; its configuration, e.g. latency_ms, stays) and given the
 *                 network's host and every site host and record but the last M (POST
 *                 /__sim/domains, 5,000 names a request): N - M aliases.
 *   --missing=M   the last M names (records from the last one back, then site hosts; at most
 *                 N - 1, the network's host is always there) are "new": not on the simulator and
 *                 without plugin records, so a Closte Sync plans M adds. Default 0.
 *   --no-records  no plugin records. By default every site host and record on Closte (given to
 *                 the simulator, or that would be without --aliases) has this plugin's ownership
 *                 record (closte_native_alias_<md5>, Alias_Registry's form) and an active
 *                 certificate record (Certificate_Records::fresh(), state active, 60 days left):
 *                 a network whose aliases this plugin added, what the Sync preview and the Closte
 *                 Domains page read.
 *
 * What is wiped first: every site but the main one (blog_id 1), every domain record, every
 * Action Scheduler stand-in job and claim, the plugin's ownership, certificate and sync-state
 * network options and its site transients. The www twins are off (wu_settings
 * auto_create_www_subdomain 'never', closte_native_www_twin '0'), so the names are exactly
 * those above. Prints one JSON line: {"names", "records", "sites", "aliases", "missing",
 * "plugin_records", "seconds"}.
 */

require_once dirname(__DIR__, 2) . '/tests/wordpress/cli-request.php';
$e2e = closte_e2e_state('generate.php', false);

$usage = "usage: generate.php N [--sites=S] [--aliases] [--missing=M] [--no-records]\n";
$n        = null;
$sites    = null;
$aliases  = false;
$missing  = 0;
$records  = true;
foreach (array_slice($argv, 1) as $arg) {
	if (preg_match('/^\d+$/', $arg)) {
		$n = (int) $arg;
	} elseif (preg_match('/^--sites=(\d+)$/', $arg, $m)) {
		$sites = (int) $m[1];
	} elseif ('--aliases' === $arg) {
		$aliases = true;
	} elseif (preg_match('/^--missing=(\d+)$/', $arg, $m)) {
		$missing = (int) $m[1];
	} elseif ('--no-records' === $arg) {
		$records = false;
	} else {
		fwrite(STDERR, "generate.php: unknown argument '$arg'\n$usage");
		exit(2);
	}
}
if (null === $n || $n < 2) {
	fwrite(STDERR, "generate.php: N (the number of names, 2 or more) is required\n$usage");
	exit(2);
}
$sites ??= (int) ceil($n / 10);
if ($sites < 1 || $sites > $n - 1 || $missing > $n - 1) {
	fwrite(STDERR, 'generate.php: --sites must be 1 to N - 1 and --missing at most N - 1 (' . ($n - 1) . ")\n$usage");
	exit(2);
}
$record_count = $n - $sites - 1;

closte_e2e_cli_request($e2e['CLOSTE_E2E_NETWORK']);
require '/usr/share/wordpress/wp-load.php';

use Closte_Native\Alias_Registry;
use Closte_Native\Certificate_Records;

$started = microtime(true);
global $wpdb;

/** One multi-row INSERT per 1,000 rows; stops the run on a database error. */
function generate_insert(string $table, array $columns, iterable $rows): int {
	global $wpdb;
	$count  = 0;
	$values = [];
	$flush  = static function () use (&$values, $table, $columns, $wpdb): void {
		if ([] === $values) {
			return;
		}
		if (false === $wpdb->query("INSERT INTO $table (" . implode(',', $columns) . ') VALUES ' . implode(',', $values))) {
			fwrite(STDERR, "generate.php: INSERT INTO $table failed: {$wpdb->last_error}\n");
			exit(1);
		}
		$values = [];
	};
	foreach ($rows as $row) {
		$values[] = '(' . implode(',', array_map(static fn ($v) => is_int($v) ? (string) $v : "'" . esc_sql((string) $v) . "'", $row)) . ')';
		++$count;
		if (count($values) >= 1000) {
			$flush();
		}
	}
	$flush();
	return $count;
}

/** A control request to the simulator; stops the run unless it answers ok. */
function generate_sim(string $path, array $body): array {
	global $e2e;
	$context = stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: application/json\r\nConnection: close\r\n", 'content' => json_encode($body), 'ignore_errors' => true, 'timeout' => 60]]);
	$answer  = json_decode((string) @file_get_contents("http://127.0.0.1:{$e2e['CLOSTE_E2E_SIM_PORT']}/__sim$path", false, $context), true);
	if (! is_array($answer) || true !== ($answer['ok'] ?? null)) {
		fwrite(STDERR, "generate.php: the simulator refused $path: " . json_encode($answer) . "\n");
		exit(1);
	}
	return $answer;
}

// ---------------------------------------------------------------- wipe
$network = get_current_network_id();
$main    = $wpdb->get_row("SELECT domain, path FROM {$wpdb->blogs} WHERE blog_id = 1", ARRAY_A);
$wpdb->query("DELETE FROM {$wpdb->blogs} WHERE blog_id > 1");
$wpdb->query("ALTER TABLE {$wpdb->blogs} AUTO_INCREMENT = 2");
Standin_Domain_Manager::install();
$wpdb->query('TRUNCATE ' . Standin_Domain_Manager::table());
$wpdb->query('TRUNCATE ' . standin_as_table());
$wpdb->query('TRUNCATE ' . standin_as_claims_table());
$wpdb->query(
	"DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_alias\\_%' OR meta_key LIKE 'closte\\_native\\_cert%'
	OR meta_key LIKE 'closte\\_native\\_sync%' OR meta_key LIKE '\\_site\\_transient%closte\\_native\\_%'"
);
update_site_option('wu_settings', array_merge((array) get_site_option('wu_settings', []), ['auto_create_www_subdomain' => 'never']));
update_site_option('closte_native_www_twin', '0');

// ---------------------------------------------------------------- sites
$network_host = (string) $main['domain'];
$now          = gmdate('Y-m-d H:i:s');
$site_host    = static fn (int $k): string => "site-$k.$network_host";
generate_insert(
	$wpdb->blogs,
	['site_id', 'domain', 'path', 'registered', 'last_updated', 'public'],
	(static function () use ($sites, $network, $site_host, $now) {
		for ($k = 1; $k <= $sites; $k++) {
			yield [$network, $site_host($k), '/', $now, $now, 1];
		}
	})()
);
// blog_id of site-K is K + 1 (the main site is 1, AUTO_INCREMENT reset to 2 above).
update_site_option('blog_count', $sites + 1);

// ---------------------------------------------------------------- domain records
$record_name = static fn (int $i): string => "bench-$i.example";
$record_site = static fn (int $i): int => 2 + intdiv(($i - 1) * $sites, max(1, $record_count)); // evenly, in order
generate_insert(
	Standin_Domain_Manager::table(),
	['blog_id', 'domain', 'stage'],
	(static function () use ($record_count, $record_name, $record_site) {
		for ($i = 1; $i <= $record_count; $i++) {
			yield [$record_site($i), $record_name($i), 'done'];
		}
	})()
);

// ---------------------------------------------------------------- what is on Closte
// Every site host and every record but the last $missing of that list: [name, site id]. The
// main site's host (the network's domain, protected, never the plugin's) is on Closte too,
// without plugin records.
$present = static function () use ($sites, $record_count, $missing, $site_host, $record_name, $record_site) {
	$keep = $sites + $record_count - $missing;
	for ($k = 1; $k <= min($sites, $keep); $k++) {
		yield [$site_host($k), $k + 1];
	}
	for ($i = 1; $i <= $keep - $sites; $i++) {
		yield [$record_name($i), $record_site($i)];
	}
};
$on_closte = $n - $missing;

if ($records) {
	$at = time();
	generate_insert(
		$wpdb->sitemeta,
		['site_id', 'meta_key', 'meta_value'],
		(static function () use ($present, $network, $at) {
			foreach ($present() as [$name, $site]) {
				yield [$network, Alias_Registry::key($name), serialize(['domain' => $name, 'site_id' => $site, 'source' => 'bench', 'at' => $at])];
				$record                = Certificate_Records::fresh($name, $site, null);
				$record['alias_at']    = $at;
				$record['state']       = 'active';
				$record['certificate'] = ['status' => 'active', 'issuer' => 'Bench CA', 'issuer_organization' => null, 'not_after' => $at + 60 * 86400, 'days_left' => 60, 'checked_at' => $at, 'address' => '127.0.0.1', 'detail' => 'ok'];
				yield [$network, Certificate_Records::key($name), serialize($record)];
			}
		})()
	);
}

if ($aliases) {
	generate_sim('/reset', []);
	$chunk = [$network_host];
	foreach ($present() as [$name]) {
		$chunk[] = $name;
		if (count($chunk) >= 5000) {
			generate_sim('/domains', ['domains' => $chunk]);
			$chunk = [];
		}
	}
	if ([] !== $chunk) {
		generate_sim('/domains', ['domains' => $chunk]);
	}
}
wp_cache_flush();
// Records written past Certificate_Records::put(): findings() must read them again.
delete_site_transient(Closte_Native\Certificate_Watch::FINDINGS_TRANSIENT);

echo json_encode(['names' => $n, 'records' => $record_count, 'sites' => $sites, 'aliases' => $aliases ? $on_closte : 0, 'missing' => $missing, 'plugin_records' => $records, 'seconds' => round(microtime(true) - $started, 2)]), "\n";
