<?php
/**
 * Prepended (auto_prepend_file) to every PhpProcess script: the PHP implementation when the
 * process runs without the extension under CLOSTE_IMPL=php, the settings helpers, and the
 * simulator's request log for a script that waits until a request of its own has arrived.
 */

declare(strict_types=1);

if (getenv('CLOSTE_TEST_PRELUDE_COMPAT') === '1') {
    require dirname(__DIR__, 3) . '/wordpress/closte-native/compat/bootstrap.php';
}
require __DIR__ . '/settings.php';

/**
 * What a closte-sim recorded so far ($url: its /__sim/requests), oldest first: each request's
 * method, path and form fields.
 *
 * @return list<array<string, mixed>>
 */
function closte_test_sim_requests(string $url): array
{
    return json_decode((string) file_get_contents($url), true)['requests'] ?? [];
}
