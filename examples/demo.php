<?php
/**
 * Demo: map, list and remove domains through the closte extension. `make run` runs it against
 * the simulator; pointed at Closte (closte.api_url left at its default, CLOSTE_CLIENT_API_KEY
 * defined) it would do the same for real.
 */

declare(strict_types=1);

function show(string $title, array $result): void
{
    $line = sprintf(
        "%-34s ok=%-5s state=%-14s status=%3d attempts=%d %6.1f ms",
        $title,
        var_export($result['ok'], true),
        $result['state'],
        $result['status'],
        $result['attempts'],
        $result['elapsed_ms']
    );
    if ($result['error'] !== null) {
        $line .= "  error({$result['error_kind']}): {$result['error']}";
    }
    echo $line, "\n";
    if (isset($result['ssl'])) {
        show('  └ SSL certificate request', $result['ssl']);
    }
}

printf("closte %s, key configured: %s\n\n", closte_version(), closte_detect() ? 'yes' : 'no');

show('test connection', closte_test_connection());
show('add customer-shop.com (site 2)', closte_add_domain('customer-shop.com', 2));
show('add *.agency.example (site 3)', closte_add_domain('*.agency.example', 3));
show('add Bücher.example (site 4)', closte_add_domain('Bücher.example', 4));
show('add customer-shop.com again', closte_add_domain('customer-shop.com', 2));

$list = closte_list_domains();
show('list domains', $list);
foreach ($list['domains'] as $domain) {
    echo "    - $domain\n";
}

show('SSL status of customer-shop.com', closte_ssl_status('customer-shop.com'));
usleep(600000);
$status = closte_ssl_status('customer-shop.com');
show('SSL status, 0.6 s later', $status);
echo "    certificate: {$status['response']['status']}\n";

show('remove customer-shop.com', closte_remove_domain('customer-shop.com', 2));
show('remove customer-shop.com again', closte_remove_domain('customer-shop.com', 2));

try {
    closte_add_domain('https://not-a-domain.example/path');
} catch (Closte\InvalidDomainException $e) {
    echo "\nrejected before any request: ", $e->getMessage(), "\n";
}

$after = closte_list_domains();
echo "\naliases left on Closte: ", implode(', ', $after['domains']), "\n";

$stats = closte_stats();
printf(
    "stats: %d operations, %d HTTP requests, %d retries, SSL endpoint %s, runtime pid %d with %d worker threads\n",
    $stats['operations'],
    $stats['requests'],
    $stats['retries'],
    var_export($stats['ssl_endpoint'], true),
    $stats['runtime']['pid'],
    $stats['runtime']['worker_threads']
);
