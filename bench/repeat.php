<?php
/**
 * Repeated calls in one worker: N sequential single-request calls (closte_ssl_status, or the
 * baseline's POST /ssl/status with a new curl handle each). Counts the connections the
 * simulator accepted and, for the extension, its own connection/handshake counters.
 * Args: --port= --scheme= --ca= --mode= --n=. Prints one JSON line.
 */
require __DIR__ . '/lib.php';
$o = bench_options($argv);
$n = (int) $o['n'];
bench_configure($o);
sim_control($o, 'POST', '/domains', ['domains' => ['repeat.example.com']]);
$before = sim_control($o, 'GET', '/state')['connections'];
$samples = [];
for ($i = 0; $i < $n; $i++) {
    $t = hrtime(true);
    if ($o['mode'] === 'baseline') {
        baseline_post("{$o['base']}/ssl/status", $o['key'], ['domain' => 'repeat.example.com'], $o['ca']);
    } else {
        closte_ssl_status('repeat.example.com');
    }
    $samples[] = (hrtime(true) - $t) / 1e6;
}
// The control requests themselves open one connection each (Connection: close).
$accepted = sim_control($o, 'GET', '/state')['connections'] - $before - 1;
$extra = $o['mode'] === 'baseline' ? [] : ['connections' => closte_stats()['connections'], 'tls_handshakes' => closte_stats()['tls_handshakes']];
echo json_encode(['bench' => 'repeat', 'mode' => $o['mode'], 'accepted_connections' => $accepted] + $extra + bench_stats($samples)), "\n";
