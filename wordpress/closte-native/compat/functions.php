<?php
/**
 * The closte_* functions of the PHP implementation, with the extension's signatures
 * (php-stubs/closte.php documents them; the stub check compares both implementations).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

use Closte\Compat\Api;
use Closte\Compat\DomainName;
use Closte\Compat\JobTable;
use Closte\Compat\Operation;
use Closte\Compat\Settings;
use Closte\Compat\Stats;
use Closte\Compat\Sync;
use Closte\Compat\Version;

function closte_add_domain(string $domain, int $site_id = 0): array
{
    return Api::domainCall(Operation::AddDomain, $domain, $site_id);
}

function closte_remove_domain(string $domain, int $site_id = 0): array
{
    return Api::domainCall(Operation::RemoveDomain, $domain, $site_id);
}

function closte_request_ssl(string $domain): array
{
    return Api::domainCall(Operation::RequestSsl, $domain, null);
}

function closte_ssl_status(string $domain): array
{
    return Api::domainCall(Operation::SslStatus, $domain, null);
}

function closte_list_domains(): array
{
    return Api::listDomains();
}

function closte_test_connection(): array
{
    return Api::testConnection();
}

function closte_normalize_domain(string $domain): string
{
    return DomainName::parse($domain)->name;
}

function closte_detect(): bool
{
    return Settings::apiKey()[0] !== null;
}

function closte_stats(): array
{
    return Stats::snapshot();
}

function closte_version(): string
{
    return Version::VERSION . '+php';
}

function closte_enqueue(string $operation, string $domain, int $site_id = 0): int
{
    return Api::enqueue($operation, $domain, $site_id);
}

function closte_wait(array $job_ids = [], float $timeout = 30.0): array
{
    return Api::wait($job_ids, $timeout);
}

function closte_pending(): int
{
    return JobTable::pending();
}

function closte_sync(array $domains, ?array $options = null): array
{
    return Sync::run($domains, $options);
}
