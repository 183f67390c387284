<?php
/**
 * The WordPress-side benchmark's section of BENCHMARKS.md, from bench/wp/run.sh's results.
 *
 *   php -n bench/wp/report.php RESULTS.jsonl [BURST.md]         prints the section (markdown)
 *   php -n bench/wp/report.php --splice BENCHMARKS.md SECTION.md  puts the section into
 *       BENCHMARKS.md in place of its own (from its "## 7." heading to the next "## "), else
 *       before "## Targets", else at the end
 */

const HEADING = '## 7. The WordPress side at 1,000, 10,000 and 100,000 domain names (issue 24)';
const MEMORY_TARGET = 64 * 1048576; // multisite's WP_MEMORY_LIMIT, the jobs' memory_limit
const JOB_TARGET    = 30.0;          // Action Scheduler's time limit of a queue run

if ('--splice' === ($argv[1] ?? '')) {
	$doc     = (string) file_get_contents($argv[2]);
	$section = rtrim((string) file_get_contents($argv[3])) . "\n";
	$start   = strpos($doc, "\n" . substr(HEADING, 0, 8));
	if (false !== $start) {
		$end = strpos($doc, "\n## ", $start + 1);
		$doc = substr($doc, 0, $start + 1) . $section . (false === $end ? '' : "\n" . substr($doc, $end + 1));
	} elseif (false !== ($targets = strpos($doc, "\n## Targets"))) {
		$doc = substr($doc, 0, $targets + 1) . $section . "\n" . substr($doc, $targets + 1);
	} else {
		$doc = rtrim($doc) . "\n\n" . $section;
	}
	file_put_contents($argv[2], $doc);
	exit(0);
}

$lines = array_map(static fn ($l) => json_decode($l, true), array_filter(file($argv[1], FILE_IGNORE_NEW_LINES) ?: []));
$burst = isset($argv[2]) && is_file($argv[2]) ? trim((string) file_get_contents($argv[2])) : '';
$meta  = current(array_filter($lines, static fn ($l) => 'wp-meta' === $l['bench'])) ?: ['commit' => 'unknown', 'dirty' => false, 'um' => '?', 'reps' => 0];
$end   = current(array_filter($lines, static fn ($l) => 'wp-meta-end' === $l['bench'])) ?: null;
$wp    = array_values(array_filter($lines, static fn ($l) => 'wp' === $l['bench']));
$sizes = array_values(array_unique(array_column($wp, 'n')));
sort($sizes);
$impls = array_values(array_intersect(['extension', 'php'], array_unique(array_column($wp, 'impl'))));
$label = static fn (string $impl) => 'php' === $impl ? 'PHP impl.' : 'extension';

$f      = static fn (float $v, int $d = 2) => number_format($v, $d, '.', ',');
$mib    = static fn ($bytes) => null === $bytes ? '—' : $f($bytes / 1048576, 1);
$median = static function (array $v): float {
	sort($v);
	$c = count($v);
	return $c % 2 ? (float) $v[intdiv($c, 2)] : ($v[$c / 2 - 1] + $v[$c / 2]) / 2;
};
$spread = static function (array $v, int $d = 2) use ($f, $median): string {
	if ([] === $v) {
		return '—';
	}
	return count($v) > 1 ? $f(min($v), $d) . ' / ' . $f($median($v), $d) : $f($v[0], $d);
};
$range = static function (array $v): string {
	if ([] === $v) {
		return '—';
	}
	return min($v) === max($v) ? (string) min($v) : min($v) . '–' . max($v);
};
$pick = static fn (string $what, string $impl, int $n) => array_values(array_filter($wp, static fn ($l) => $l['what'] === $what && $l['impl'] === $impl && $l['n'] === $n));
$verdict = static fn (bool $pass) => $pass ? 'PASS' : '**FAIL**';

$cpu  = preg_match('/model name\s*:\s*(.+)/', (string) @file_get_contents('/proc/cpuinfo'), $m) ? trim($m[1]) : 'unknown';
$mem  = preg_match('/MemTotal:\s+(\d+)/', (string) @file_get_contents('/proc/meminfo'), $mm) ? round($mm[1] / 1048576) . ' GiB' : '?';
$mdb  = trim((string) shell_exec('mariadbd --version 2>/dev/null'));
$wpv  = preg_match("/wp_version = '([^']+)'/", (string) @file_get_contents('/usr/share/wordpress/wp-includes/version.php'), $wm) ? $wm[1] : '?';
$dirty = $meta['dirty'] ? ' (with uncommitted changes)' : '';

// The adds every size's network was generated with (BENCH_WP_MISSING, at most N - 1) and the
// simulator's latency; runs from before these were recorded used 1,000 and 50 ms.
$missing = (int) ($meta['missing'] ?? 1000);
$adds    = number_format($missing);
$latency = (int) ($meta['latency_ms'] ?? 50);

echo HEADING, "\n\n";
printf("`make bench-wp` (bench/wp/run.sh, then bench/wp/report.php), at commit %s%s, %s, %s in all (waits for the e2e lock included). ", $meta['commit'], $dirty, gmdate('Y-m-d H:i', (int) ($meta['started'] ?? time())) . ' UTC', null === $end ? '?' : $f($end['seconds'] / 60, 1) . ' min');
printf("Machine: %s cores (%s), %s RAM, %s %s, PHP %s, WordPress %s, %s.\n\n", trim((string) shell_exec('nproc')), $cpu, $mem, php_uname('s'), php_uname('r'), PHP_VERSION, $wpv, preg_replace('/^.*Ver\s+(\S+).*$/', 'MariaDB $1', $mdb) ?: 'MariaDB');
echo "The e2e network (tests/wordpress/harness.sh: a real WordPress multisite on MariaDB, the plugin network-activated, the Ultimate Multisite {$meta['um']} and Action Scheduler stand-ins, closte-sim answering every API request after {$latency} ms), set up afresh for each implementation and size. `bench/wp/generate.php N --aliases --missing={$missing}` bulk-inserts a network of N host names: its own host, N/10 sites (site hosts are aliases too, `closte_native_sync_subdomains` being on by default) and N − N/10 − 1 domain records (Ultimate Multisite's domain table; 89,999 at 100,000), ownership and active certificate records for the names on Closte, and on the simulator every name but the last {$adds} (at most N − 1), which a sync then adds; www twins off. N counts names, not records, because both implementations refuse a Closte listing of more than 100,000 aliases: 100,000 is the largest network a sync can read. ";
echo "**Preview** and **apply** are the Sync page's background jobs as Action Scheduler runs them: requested as the page does (`Sync_Service::request_preview`, `request_apply` of the confirmed plan), then run by queue runs in PHP processes of their own at `memory_limit=64M` (multisite's default `WP_MEMORY_LIMIT`; bench/wp/runner.php: the stand-in's claims and batches of 25, stopping between actions at 30 s or 90 % of the memory limit as Action Scheduler does), one after another until the sync is settled. Time is from the request to the end of the last sync job (each runner's start-up of about 0.15 s included); memory is the peak of each job (`memory_get_peak_usage(true)`, what `memory_limit` is checked against, reset at the job's start, so WordPress's own footprint is in it); queries are `\$wpdb->num_queries` over the sync jobs. The apply's certificate jobs for the added names are left out (counted, then dropped). ";
echo "**Pages** are requests to the network's web server (php -S) as the super admin, measured inside the request by a must-use plugin the bench installs (wall time from REQUEST_TIME_FLOAT to shutdown, peak memory, `\$wpdb->num_queries`); the Sync page shows the stored plan of {$adds} adds; the Closte Domains page and Ultimate Multisite's domain list (page 1) fetch Closte's listing each time (its transient deleted first). `wp closte sync --dry-run` runs in a PHP process of its own (tests/wordpress/bin/wp.php, the WP-CLI stand-in; `memory_limit=-1`, Debian's php-cli default). ";
printf("Times are min / median over the repetitions (%d for the pages and the CLI, 3 at 100,000; 3 previews, 1 at 100,000); the apply runs once.\n\n", (int) $meta['reps']);

// ---------------------------------------------------------------- preview and apply
$targets = [];
foreach (['preview' => 'Sync preview (background job)', 'apply' => "Apply of {$adds} adds (background job)"] as $what => $title) {
	echo "**$title**, `memory_limit=64M`; targets: each job within 64 MiB and 30 s\n\n";
	echo "| impl. | names | wall s (min / median) | jobs (runner processes) | per job s (max) | peak MiB per job (max) | queries | result | ≤ 64 MiB | each job ≤ 30 s |\n|---|---|---|---|---|---|---|---|---|---|\n";
	foreach ($impls as $impl) {
		foreach ($sizes as $n) {
			$runs = $pick($what, $impl, $n);
			if ([] === $runs) {
				continue;
			}
			$done = array_values(array_filter($runs, static fn ($r) => isset($r['jobs'])));
			if ([] === $done) {
				printf("| %s | %s | — | — | — | — | — | **not run**: %s | — | — |\n", $label($impl), $f($n, 0), $runs[0]['error'] ?? '?');
				continue;
			}
			$peak    = max(array_map(static fn ($r) => (int) ($r['died']['peak_bytes'] ?? $r['max_peak_bytes'] ?? 0), $done));
			$longest = max(array_map(static fn ($r) => (float) ($r['died']['seconds'] ?? $r['max_job_seconds'] ?? 0), $done));
			$died    = array_values(array_filter($done, static fn ($r) => null !== $r['died']));
			$bad     = array_values(array_filter($done, static fn ($r) => ! $r['ok']));
			$result  = [] !== $died ? '**died**: ' . $died[0]['died']['error'] . ' (in ' . $died[0]['died']['hook'] . ', sync left "' . $died[0]['status'] . '")'
				: ([] !== $bad ? '**' . $bad[0]['status'] . '**' . (isset($bad[0]['adds']) ? ', ' . var_export($bad[0]['adds'], true) . ' adds' : '') . ($bad[0]['timed_out'] ? ', timed out' : '') : ('preview' === $what ? 'planned, ' . $done[0]['adds'] . ' adds' : 'done, ' . $f((int) $done[0]['aliases_after'], 0) . ' aliases'));
			$jobs    = $range(array_map('intval', array_column($done, 'jobs'))) . ' (' . $range(array_map('intval', array_column($done, 'runners'))) . ')';
			$per_job = array_merge(...array_map(static fn ($r) => array_map('floatval', $r['job_seconds']), $done));
			$mem_ok  = [] === $died && $peak <= MEMORY_TARGET;
			$time_ok = [] === $died && $longest <= JOB_TARGET;
			printf(
				"| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				$label($impl), $f($n, 0), $spread(array_map('floatval', array_column($done, 'seconds'))), $jobs,
				count($per_job) > 3 ? 'median ' . $f($median($per_job)) . ', max ' . $f($longest) : implode(', ', array_map(static fn ($s) => $f($s), $per_job)),
				$mib($peak), $range(array_map('intval', array_column($done, 'queries'))), $result, $verdict($mem_ok), [] !== $died && $longest <= JOB_TARGET ? '— (died)' : $verdict($time_ok)
			);
			if ($n >= 100000) {
				$targets[] = sprintf('%s at %s names, %s: peak %s MiB per job (≤ 64 MiB): %s; longest job %s s (≤ 30 s): %s', $title, $f($n, 0), $label($impl), $mib($peak), $verdict($mem_ok), $f($longest), [] !== $died && $longest <= JOB_TARGET ? 'not reached (the job died)' : $verdict($time_ok))
					. ([] !== $died ? ' — the job died: ' . $died[0]['died']['error'] : '');
			}
		}
	}
	echo "\n";
}

// ---------------------------------------------------------------- pages and CLI
$views = [
	'sync page'      => "Sync page (plan of {$adds} adds)",
	'domains page'   => 'Closte Domains page, page 1',
	'um domain list' => "Ultimate Multisite's domain list, page 1",
	'cli dry run'    => '`wp closte sync --dry-run`',
];
echo "**Pages and the CLI**: wall s (min / median), peak MiB, queries\n\n";
echo '| view | ' . implode(' | ', array_map(static fn ($impl) => implode(' | ', array_map(static fn ($n) => $label($impl) . ' ' . $f($n, 0), $sizes)), $impls)) . " |\n";
echo '|---|' . str_repeat('---|', count($impls) * count($sizes)) . "\n";
foreach ($views as $what => $title) {
	$cells = [];
	foreach ($impls as $impl) {
		foreach ($sizes as $n) {
			$runs = $pick($what, $impl, $n);
			if ([] === $runs) {
				$cells[] = '—';
				continue;
			}
			$ok   = array_values(array_filter($runs, static fn ($r) => $r['ok']));
			$fail = count($runs) - count($ok);
			$cell = [] === $ok ? '**failed**' : sprintf('%s s, %s MiB, %s q', $spread(array_map('floatval', array_column($ok, 'seconds'))), $mib(max(array_column($ok, 'peak_bytes'))), $range(array_map('intval', array_column($ok, 'queries'))));
			if ($fail > 0) {
				$errors = array_filter(array_column($runs, 'error'));
				$cell  .= sprintf(' (**%d of %d failed**%s)', $fail, count($runs), $errors ? ': ' . reset($errors) : '');
			}
			$cells[] = $cell;
		}
	}
	echo "| $title | " . implode(' | ', $cells) . " |\n";
}
echo "\n";

echo "**Hook burst** (bench/wp/burst.php: 1,000 domain records created at once, 1,000 `wu_add_domain` jobs, the queue run by queue-runner processes; time from the first runner's start to the last alias present on the simulator, against `closte_sync` of the same names on an empty simulator; target: within 2× `closte_sync`)\n\n";
$bursts = array_values(array_filter($lines, static fn ($l) => 'wp-burst' === $l['bench']));
if ([] !== $bursts) {
	echo "| impl. | names | burst: s to all aliases | runners | /adddomainalias | most in flight | `closte_sync` s | ratio | ≤ 2× | certificate jobs after: s (DNS jobs run) | result |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
	foreach ($bursts as $b) {
		if (! isset($b['burst'])) {
			printf("| %s | — | — | — | — | — | — | — | — | — | **failed**: %s |\n", $label((string) ($b['impl'] ?? '?')), $b['error'] ?? '?');
			continue;
		}
		$ratio = $b['ratio'] ?? null;
		$ok    = ! empty($b['burst']['ok']) && (null === ($b['sync'] ?? null) || ! empty($b['sync']['ok']));
		printf(
			"| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			$label((string) $b['impl']), $f((int) $b['n'], 0), $f((float) $b['burst']['seconds_to_aliases']), $b['burst']['runners'] ?? '—', $b['burst']['requests'] ?? '—', $b['burst']['max_in_flight'] ?? '—',
			isset($b['sync']['seconds']) ? $f((float) $b['sync']['seconds']) : '—', null === $ratio ? '—' : $f((float) $ratio) . '×', null === $ratio ? '—' : $verdict($ok && $ratio <= 2.0),
			isset($b['certificates']['seconds']) ? $f((float) $b['certificates']['seconds']) . ' (' . ($b['certificates']['dns_jobs_run'] ?? '?') . ')' : '—',
			$ok ? 'all ' . $f((int) ($b['burst']['aliases'] ?? $b['n']), 0) . ' aliases' : '**incomplete**: ' . ($b['burst']['aliases'] ?? '?') . ' aliases'
		);
		if (null !== $ratio) {
			$targets[] = sprintf('hook burst of %s, %s: %s s against `closte_sync` %s s, %s× (≤ 2×): %s', $f((int) $b['n'], 0), $label((string) $b['impl']), $f((float) $b['burst']['seconds_to_aliases']), $f((float) $b['sync']['seconds']), $f((float) $ratio), $verdict($ok && $ratio <= 2.0));
		}
	}
	echo "\n";
} else {
	echo "Not measured in this run.\n\n";
}
if ('' !== $burst) {
	echo $burst, "\n\n";
}

if ([] !== $targets) {
	echo "**Targets** (issue 24: at 100,000 names each job within 64 MiB, multisite's default memory limit, and 30 s, Action Scheduler's time limit; the burst within 2× `closte_sync`):\n\n";
	foreach ($targets as $t) {
		echo "- $t\n";
	}
	echo "\n";
}
$sessions = array_values(array_filter($lines, static fn ($l) => 'wp-session' === $l['bench']));
if ([] !== $sessions) {
	echo 'Time per session (under the e2e lock: a fresh network, its generation and every measure): ' . implode(', ', array_map(static fn ($s) => $label($s['impl']) . ' ' . $f($s['n'], 0) . ' ' . $s['seconds'] . ' s', $sessions)) . ".\n";
}
