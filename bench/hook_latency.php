<?php
/**
 * Hook latency: time spent inside the hook call for one mapped domain.
 *   enqueue   closte_enqueue('add_domain') (results collected after the timed part)
 *   blocking  closte_add_domain()
 *   baseline  the stock request sequence in pure PHP (bench/lib.php)
 * Args: --port= --scheme= --ca= --mode= --n= --prefix=
 * Prints one JSON line.
 */
require __DIR__ . '/lib.php';
$o = bench_options($argv);
$n = (int) $o['n'];
$mode = $o['mode'];
bench_configure($o);
$samples = [];
$ok = 0;
// Warm-up (runtime start, first connection and TLS handshake; the baseline's DNS/TLS caches).
if ($mode === 'baseline') {
    baseline_add_domain($o['base'], $o['key'], "{$o['prefix']}-warm.example.com", $o['ca']);
} else {
    closte_add_domain("{$o['prefix']}-warm.example.com");
}
for ($i = 0; $i < $n; $i++) {
    $domain = "{$o['prefix']}-$i.example.com";
    $t = hrtime(true);
    switch ($mode) {
        case 'enqueue':
            closte_enqueue('add_domain', $domain, $i);
            break;
        case 'blocking':
            $ok += closte_add_domain($domain, $i)['ok'] ? 1 : 0;
            break;
        case 'baseline':
            $ok += baseline_add_domain($o['base'], $o['key'], $domain, $o['ca']) ? 1 : 0;
            break;
    }
    $samples[] = (hrtime(true) - $t) / 1e6;
    if ($mode === 'enqueue' && $i % 50 === 49) {
        foreach (closte_wait([], 120.0) as $r) {
            $ok += $r['ok'] ? 1 : 0;
        }
    }
}
if ($mode === 'enqueue') {
    foreach (closte_wait([], 120.0) as $r) {
        $ok += $r['ok'] ? 1 : 0;
    }
}
echo json_encode(['bench' => 'hook', 'mode' => $mode, 'ok' => $ok] + bench_stats($samples)), "\n";
