<?php
/**
 * closte, pure-PHP implementation: the `closte` extension's API (every closte_* function, the
 * Closte\Exception tree, the result shapes and the settings) for servers where the extension
 * cannot be loaded, e.g. managed hosting. Require this file; it defines nothing when the
 * extension is loaded (the extension is the fast path), and nothing twice.
 *
 * Needs PHP 8.2+ with curl; intl for internationalised names given in Unicode. See
 * docs/php-implementation.md for what differs from the extension.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

if (extension_loaded('closte') || function_exists('closte_add_domain') || !function_exists('curl_multi_init')) {
    return;
}

(static function (): void {
    foreach ([
        'Exceptions', 'Ascii', 'Utf8', 'Escape', 'Punycode', 'Version', 'DomainName', 'Settings',
        'AddressPolicy', 'DnsReadiness', 'CertificateVerdict', 'ResolveOverrides', 'Quiet', 'Resolver',
        'CertificateCheck',
        'ErrorKind', 'Failure', 'Answer', 'RetryAfter', 'Operation', 'State', 'Outcome', 'HttpRequest',
        'HttpResponse', 'Sleep', 'CaBundle', 'Stats', 'SslEndpoints', 'Scheduler', 'Client/Request',
        'Client/Ssl', 'Client/Operations', 'Client', 'JobTable', 'Sync', 'Api', 'Arguments',
    ] as $file) {
        require_once __DIR__ . "/src/$file.php";
    }
    require_once __DIR__ . '/functions.php';
})();
