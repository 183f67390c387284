<?php
/**
 * PHPUnit bootstrap. One suite, two implementations: CLOSTE_IMPL=extension (the default) needs
 * the real extension loaded (php -n -d extension=...); CLOSTE_IMPL=php needs it absent and
 * loads the pure-PHP implementation the plugin ships. A real closte-sim process is started on a
 * free loopback port for the whole run.
 *
 * Environment: CLOSTE_IMPL, CLOSTE_SO (the .so under test), CLOSTE_SIM (the simulator binary).
 * The Makefile sets them; the defaults point at the release build.
 */

declare(strict_types=1);

$root = dirname(__DIR__, 2);
define('CLOSTE_TEST_IMPL', getenv('CLOSTE_IMPL') ?: 'extension');
define('CLOSTE_TEST_COMPAT', "$root/wordpress/closte-native/compat/bootstrap.php");
if (CLOSTE_TEST_IMPL === 'php') {
    if (extension_loaded('closte')) {
        fwrite(STDERR, "CLOSTE_IMPL=php, but the closte extension is loaded: run through `make phpunit-php`.\n");
        exit(1);
    }
    require CLOSTE_TEST_COMPAT;
    if (!function_exists('closte_add_domain')) {
        fwrite(STDERR, "The PHP implementation did not load (is curl loaded?).\n");
        exit(1);
    }
} elseif (!extension_loaded('closte')) {
    fwrite(STDERR, "The closte extension is not loaded: run through `make phpunit`.\n");
    exit(1);
}

require __DIR__ . '/Support/settings.php';

require __DIR__ . '/Support/Simulator.php';
require __DIR__ . '/Support/PhpProcess.php';
require __DIR__ . '/Support/ClosteTestCase.php';

define('CLOSTE_TEST_SO', getenv('CLOSTE_SO') ?: "$root/target/release/libcloste.so");
define('CLOSTE_TEST_SIM', getenv('CLOSTE_SIM') ?: "$root/target/release/closte-sim");
define('CLOSTE_TEST_KEY', 'phpunit-secret-key-7f3a9c21');
// A debug build with the cargo feature `test-hooks` (deliberate panics); `make phpunit` builds it.
define('CLOSTE_TEST_HOOKS_SO', getenv('CLOSTE_TEST_HOOKS_SO') ?: "$root/target/debug/libcloste-test-hooks.so");

Closte\Tests\Support\Simulator::startShared(CLOSTE_TEST_SIM, CLOSTE_TEST_KEY);
