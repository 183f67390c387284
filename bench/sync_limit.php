<?php
/**
 * One bulk sync against the independent stand-in (bench/standin.py): --n= new domains at --c=
 * concurrency, in a fresh process (so the SSL endpoint is discovered and the pool filled as on
 * a first sync). The runtime and one connection are started before the clock, as in bulk.php.
 * Args: --port= --scheme= --ca= --n= --c= --prefix=. Prints one JSON line; `started`/`ended`
 * are hrtime nanoseconds (CLOCK_MONOTONIC, the stand-in's log clock).
 */
require __DIR__ . '/lib.php';
$o = bench_options($argv);
$n = (int) $o['n'];
bench_configure($o);
$domains = [];
for ($i = 0; $i < $n; $i++) {
    $domains[] = "{$o['prefix']}-$i.example.com";
}
closte_test_connection();
$started = hrtime(true);
$r = closte_sync($domains, ['concurrency' => (int) $o['c']]);
$ended = hrtime(true);
$ok = 0;
// Done means added and its certificate requested.
foreach ($r['results'] as $result) {
    $ok += $result['ok'] && ($result['ssl']['ok'] ?? false) ? 1 : 0;
}
echo json_encode([
    'bench' => 'limit',
    'impl' => extension_loaded('closte') ? 'extension' : 'php',
    'n' => $n,
    'c' => (int) $o['c'],
    'ok' => $ok,
    'seconds' => ($ended - $started) / 1e9,
    'started' => $started,
    'ended' => $ended,
    'connections' => closte_stats()['connections'] ?? null,
]), "\n";
