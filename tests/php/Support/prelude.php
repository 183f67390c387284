<?php
/**
 * Prepended (auto_prepend_file) to every PhpProcess script: the PHP implementation when the
 * process runs without the extension under CLOSTE_IMPL=php, and the settings helpers.
 */

declare(strict_types=1);

if (getenv('CLOSTE_TEST_PRELUDE_COMPAT') === '1') {
    require dirname(__DIR__, 3) . '/wordpress/closte-native/compat/bootstrap.php';
}
require __DIR__ . '/settings.php';
