<?php
/**
 * Bulk: N domains. mode=sync runs closte_sync() at --c= concurrency; mode=baseline runs the
 * stock sequence for each domain in a loop. Args: --port= --scheme= --ca= --mode= --n=
 * --c= --prefix=. Prints one JSON line.
 */
require __DIR__ . '/lib.php';
$o = bench_options($argv);
$n = (int) $o['n'];
bench_configure($o);
$domains = [];
for ($i = 0; $i < $n; $i++) {
    $domains[] = "{$o['prefix']}-$i.example.com";
}
if ($o['mode'] === 'sync') {
    closte_test_connection(); // runtime and first connection outside the timing, like the baseline's warm DNS
    $t = hrtime(true);
    $r = closte_sync($domains, ['concurrency' => (int) $o['c']]);
    $seconds = (hrtime(true) - $t) / 1e9;
    $ok = count($r['added']) + count($r['unchanged']);
    $stats = closte_stats();
    $extra = ['connections' => $stats['connections'], 'tls_handshakes' => $stats['tls_handshakes']];
} else {
    $t = hrtime(true);
    $ok = 0;
    foreach ($domains as $domain) {
        $ok += baseline_add_domain($o['base'], $o['key'], $domain, $o['ca']) ? 1 : 0;
    }
    $seconds = (hrtime(true) - $t) / 1e9;
    $extra = [];
}
echo json_encode(['bench' => 'bulk', 'mode' => $o['mode'], 'c' => (int) ($o['c'] ?? 1), 'n' => $n, 'ok' => $ok, 'seconds' => $seconds] + $extra), "\n";
