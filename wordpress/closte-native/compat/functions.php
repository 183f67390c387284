<?php
/**
 * The closte_* functions of the PHP implementation, with the extension's signatures
 * (php-stubs/closte.php documents them; the stub check compares both implementations) and its
 * argument rules: the parameters are untyped, their types named by #[Accepts] and checked
 * without coercion by Arguments::check() (a typed parameter would coerce "12" to 12 for a
 * caller without strict_types; the extension throws TypeError).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

use Closte\Compat\Accepts;
use Closte\Compat\Api;
use Closte\Compat\Arguments;
use Closte\Compat\DomainName;
use Closte\Compat\JobTable;
use Closte\Compat\Operation;
use Closte\Compat\Settings;
use Closte\Compat\Stats;
use Closte\Compat\Sync;
use Closte\Compat\Version;

function closte_add_domain(#[Accepts('string')] $domain, #[Accepts('int')] $site_id = 0, #[Accepts('bool')] $request_ssl = true): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::addDomain($domain, $site_id, $request_ssl);
}

function closte_remove_domain(#[Accepts('string')] $domain, #[Accepts('int')] $site_id = 0): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::domainCall(Operation::RemoveDomain, $domain, $site_id);
}

function closte_request_ssl(#[Accepts('string')] $domain): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::domainCall(Operation::RequestSsl, $domain, null);
}

function closte_ssl_status(#[Accepts('string')] $domain): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::domainCall(Operation::SslStatus, $domain, null);
}

function closte_check_dns(#[Accepts('string')] $domain, #[Accepts('string')] $expected_host): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::checkDns($domain, $expected_host);
}

function closte_verify_certificate(#[Accepts('string')] $domain): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::verifyCertificate($domain);
}

function closte_list_domains(): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::listDomains();
}

function closte_test_connection(): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::testConnection();
}

function closte_normalize_domain(#[Accepts('string')] $domain): string
{
    Arguments::check(__FUNCTION__, func_get_args());
    return DomainName::parse($domain)->name;
}

function closte_detect(): bool
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Settings::apiKey()[0] !== null;
}

function closte_stats(): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Stats::snapshot();
}

function closte_version(): string
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Version::VERSION . '+php';
}

function closte_enqueue(#[Accepts('string')] $operation, #[Accepts('string')] $domain, #[Accepts('int')] $site_id = 0, #[Accepts('?array')] $options = null): int
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::enqueue($operation, $domain, $site_id, $options);
}

function closte_wait(#[Accepts('array')] $job_ids = [], #[Accepts('float')] $timeout = 30.0): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Api::wait($job_ids, $timeout);
}

function closte_pending(): int
{
    Arguments::check(__FUNCTION__, func_get_args());
    return JobTable::pending();
}

function closte_sync(#[Accepts('array')] $domains, #[Accepts('?array')] $options = null): array
{
    Arguments::check(__FUNCTION__, func_get_args());
    return Sync::run($domains, $options);
}
