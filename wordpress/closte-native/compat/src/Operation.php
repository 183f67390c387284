<?php
/**
 * The operations, by the names every result array carries in `operation` (Operation in the
 * extension's client/outcome.rs, with DomainOperation's list and rules).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

enum Operation: string
{
    case AddDomain = 'add_domain';
    case RemoveDomain = 'remove_domain';
    case RequestSsl = 'request_ssl';
    case SslStatus = 'ssl_status';
    case ListDomains = 'list_domains';
    case TestConnection = 'test_connection';
    case CheckDns = 'check_dns';
    case VerifyCertificate = 'verify_certificate';

    /** The operations that act on one domain, in this order. */
    public const ON_ONE_DOMAIN = [self::AddDomain, self::RemoveDomain, self::RequestSsl, self::SslStatus, self::VerifyCertificate];

    /** What closte_enqueue starts (EnqueueOperation in the extension's enqueue.rs), in this order. */
    public const ENQUEUED = [...self::ON_ONE_DOMAIN, self::CheckDns];

    /** The operation on one domain named $name; null for any other name. */
    public static function onOneDomain(string $name): ?self
    {
        $operation = self::tryFrom($name);
        return in_array($operation, self::ON_ONE_DOMAIN, true) ? $operation : null;
    }

    /** The operation closte_enqueue starts for $name; null for any other name. */
    public static function enqueued(string $name): ?self
    {
        $operation = self::tryFrom($name);
        return in_array($operation, self::ENQUEUED, true) ? $operation : null;
    }

    /** Add and remove carry the site id into their result. */
    public function takesSiteId(): bool
    {
        return $this === self::AddDomain || $this === self::RemoveDomain;
    }
}
