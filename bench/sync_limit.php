<?php
/**
 * One bulk sync against the independent stand-in (bench/standin.py): --n= new domains at --c=
 * concurrency, in a fresh process (so the SSL endpoint is discovered and the pool filled as on
 * a first sync). The runtime, one connection and the code are warmed before the clock.
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
// Warm the code: the PHP implementation compiles Sync and its classes on first use (an FPM
// worker has them in opcache); the extension has nothing to compile. One /getdomains, unmeasured.
closte_sync([], ['dry_run' => true]);
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
