<?php
/**
 * The bodies of the closte_* functions of the PHP implementation (functions.php holds only
 * their signatures): validate arguments and configuration, throwing before any request; run
 * the client; return the result array.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\Exception as ClosteException;

final class Api
{
    /** Longest closte_wait timeout, in seconds. */
    private const MAX_WAIT_SECS = 3600.0;

    /** A client for this call: settings validated, key present, CA file usable. */
    public static function client(?Settings $settings = null): Client
    {
        $settings ??= Settings::current();
        $key = Settings::requireKey();
        if ($settings->caFile !== null) {
            CaBundle::check($settings->caFile);
        }
        Stats::operation();
        return new Client($settings, $key);
    }

    public static function domainCall(Operation $operation, string $domain, ?int $siteId): array
    {
        $name = DomainName::parse($domain);
        $client = self::client();
        $name = $name->refuseApiHost($client->settings->apiUrl);
        return Scheduler::get()->run($client->run($operation, $name))->toArray($siteId);
    }

    /** closte_add_domain: the alias, then its certificate request unless $requestSsl is false. */
    public static function addDomain(string $domain, int $siteId, bool $requestSsl): array
    {
        $name = DomainName::parse($domain);
        $client = self::client();
        $name = $name->refuseApiHost($client->settings->apiUrl);
        return Scheduler::get()->run($client->addDomain($name, $requestSsl))->toArray($siteId);
    }

    /** closte_check_dns: both names validated (no wildcard) and the settings read before any lookup. */
    public static function checkDns(string $domain, string $expectedHost): array
    {
        $name = CertificateCheck::name($domain);
        $expected = CertificateCheck::name($expectedHost);
        $settings = Settings::current();
        Stats::operation();
        return (new CertificateCheck($settings))->checkDns($name, $expected)->toArray();
    }

    /** closte_verify_certificate: the name validated and closte.verify_ca_file read before any connection. */
    public static function verifyCertificate(string $domain): array
    {
        $name = CertificateCheck::name($domain);
        $settings = self::checkSettings();
        Stats::operation();
        return Scheduler::get()->run((new CertificateCheck($settings))->verify($name))->toArray();
    }

    /** The settings of the certificate check: every setting valid, closte.verify_ca_file a PEM file. */
    private static function checkSettings(): Settings
    {
        $settings = Settings::current();
        if ($settings->verifyCaFile !== null) {
            CertificateCheck::checkCaFile($settings->verifyCaFile);
        }
        return $settings;
    }

    public static function listDomains(): array
    {
        return Scheduler::get()->run(self::client()->listDomains())->toArray();
    }

    public static function testConnection(): array
    {
        return Scheduler::get()->run(self::client()->testConnection())->toArray();
    }

    public static function enqueue(string $operationName, string $domain, int $siteId, ?array $options = null): int
    {
        $operation = Operation::enqueued($operationName);
        if ($operation === null) {
            throw new ClosteException(sprintf(
                'unknown operation "%s": expected one of %s',
                Escape::debug($operationName),
                implode(', ', array_map(static fn (Operation $known): string => $known->value, Operation::ENQUEUED))
            ), 4);
        }
        [$requestSsl, $expectedHost] = self::enqueueOptions($operation, $options ?? []);
        if ($operation === Operation::CheckDns) {
            return self::enqueueCheckDns($domain, (string) $expectedHost);
        }
        $name = $operation === Operation::VerifyCertificate ? CertificateCheck::name($domain) : DomainName::parse($domain);
        if ($operation === Operation::VerifyCertificate) {
            self::checkSettings();
        }
        $client = self::client();
        $name = $name->refuseApiHost($client->settings->apiUrl);
        return JobTable::submit($client, $operation, $name, $operation->takesSiteId() ? $siteId : null, $requestSsl);
    }

    /**
     * closte_check_dns as a job: both names checked as it checks them and the settings read
     * before anything starts; no API key, as nothing is sent to Closte. PHP's resolver
     * (dns_get_record) blocks, so the check runs whole when its turn comes: the same result as
     * the extension's, without its concurrency.
     */
    private static function enqueueCheckDns(string $domain, string $expectedHost): int
    {
        $name = CertificateCheck::name($domain);
        $expected = CertificateCheck::name($expectedHost);
        $settings = Settings::current();
        Stats::operation();
        $check = new CertificateCheck($settings);
        return JobTable::submitWork(
            Operation::CheckDns,
            $name->name,
            null,
            $settings->concurrency,
            static function () use ($check, $name, $expected): \Generator {
                yield from [];
                return $check->checkDns($name, $expected);
            }
        );
    }

    /**
     * closte_enqueue's options (EnqueueOptions in the extension's enqueue.rs): 'request_ssl' (a
     * bool, add_domain only; false adds the alias without its certificate request) and
     * 'expected_host' (a string, check_dns only and required there). Anything else is a code-4
     * error before any request.
     *
     * @param array<array-key, mixed> $options
     * @return array{0: bool, 1: ?string} request_ssl, expected_host
     */
    private static function enqueueOptions(Operation $operation, array $options): array
    {
        $requestSsl = true;
        $expectedHost = null;
        foreach ($options as $key => $value) {
            if ($key === 'request_ssl') {
                if ($operation !== Operation::AddDomain) {
                    throw new ClosteException(sprintf('option "request_ssl" applies to add_domain only, not to %s', $operation->value), 4);
                }
                if (!is_bool($value)) {
                    throw new ClosteException('option "request_ssl" must be a bool', 4);
                }
                $requestSsl = $value;
            } elseif ($key === 'expected_host') {
                if ($operation !== Operation::CheckDns) {
                    throw new ClosteException(sprintf('option "expected_host" applies to check_dns only, not to %s', $operation->value), 4);
                }
                if (!is_string($value)) {
                    throw new ClosteException('option "expected_host" must be a string', 4);
                }
                $expectedHost = $value;
            } else {
                throw new ClosteException(sprintf('unknown option "%s": expected request_ssl or expected_host', Escape::debug((string) $key)), 4);
            }
        }
        if ($operation === Operation::CheckDns && $expectedHost === null) {
            throw new ClosteException('check_dns needs the option "expected_host" (the host the name must resolve like)', 4);
        }
        return [$requestSsl, $expectedHost];
    }

    public static function wait(array $jobIds, float $timeout): array
    {
        if (!is_finite($timeout) || $timeout < 0.0 || $timeout > self::MAX_WAIT_SECS) {
            throw new ClosteException(sprintf('timeout must be from 0 to %s seconds, got %s', self::MAX_WAIT_SECS, $timeout), 4);
        }
        $ids = null;
        if ($jobIds !== []) {
            $ids = [];
            foreach ($jobIds as $id) {
                if (!is_int($id)) {
                    throw new \TypeError('closte_wait(): Argument #1 ($job_ids) must be an array of int');
                }
                $ids[] = max(0, $id);
            }
        }
        return JobTable::wait($ids, $timeout);
    }
}
