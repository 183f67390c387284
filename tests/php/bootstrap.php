<?php
/**
 * PHPUnit bootstrap: the real extension must be loaded (php -n -d extension=...), and a real
 * closte-sim process is started on a free loopback port for the whole run.
 *
 * Environment: CLOSTE_SO (the .so under test), CLOSTE_SIM (the simulator binary). The Makefile
 * sets both; the defaults point at the release build.
 */

declare(strict_types=1);

if (!extension_loaded('closte')) {
    fwrite(STDERR, "The closte extension is not loaded: run through `make phpunit`.\n");
    exit(1);
}

require __DIR__ . '/Support/Simulator.php';
require __DIR__ . '/Support/PhpProcess.php';
require __DIR__ . '/Support/ClosteTestCase.php';

$root = dirname(__DIR__, 2);
define('CLOSTE_TEST_SO', getenv('CLOSTE_SO') ?: "$root/target/release/libcloste.so");
define('CLOSTE_TEST_SIM', getenv('CLOSTE_SIM') ?: "$root/target/release/closte-sim");
define('CLOSTE_TEST_KEY', 'phpunit-secret-key-7f3a9c21');
// A debug build with the cargo feature `test-hooks` (deliberate panics); `make phpunit` builds it.
define('CLOSTE_TEST_HOOKS_SO', getenv('CLOSTE_TEST_HOOKS_SO') ?: "$root/target/debug/libcloste-test-hooks.so");

Closte\Tests\Support\Simulator::startShared(CLOSTE_TEST_SIM, CLOSTE_TEST_KEY);
