<?php
/**
 * Whether a name's DNS points at this network (closte-core net/dns.rs readiness): every address
 * the name resolves to is one of the network's main host's. A certificate is requested only then,
 * since Let's Encrypt validates over HTTP at whatever the name resolves to, and a failed
 * validation counts against its limits.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class DnsReadiness
{
    /**
     * @param list<string> $addresses what the name resolves to, in the resolver's order
     * @param list<string> $expected what the network's main host resolves to
     * @return array{ready: bool, reason: string, unexpected: list<string>} reason: ready |
     *         no_address | elsewhere | expected_unresolved; unexpected: the name's addresses that
     *         are not the main host's (canonical, each once, in the order resolved)
     */
    public static function decide(array $addresses, array $expected): array
    {
        $expectedSet = array_fill_keys(self::canonicalList($expected), true);
        $found = self::canonicalList($addresses);
        if ($expectedSet === []) {
            return ['ready' => false, 'reason' => 'expected_unresolved', 'unexpected' => []];
        }
        if ($found === []) {
            return ['ready' => false, 'reason' => 'no_address', 'unexpected' => []];
        }
        $unexpected = array_values(array_filter($found, static fn (string $address): bool => !isset($expectedSet[$address])));
        return $unexpected === []
            ? ['ready' => true, 'reason' => 'ready', 'unexpected' => []]
            : ['ready' => false, 'reason' => 'elsewhere', 'unexpected' => $unexpected];
    }

    /**
     * @param list<string> $addresses
     * @return list<string> canonical, duplicates dropped, order kept
     */
    public static function canonicalList(array $addresses): array
    {
        $seen = [];
        foreach ($addresses as $address) {
            $canonical = AddressPolicy::canonical($address);
            if ($canonical === null) {
                throw new \InvalidArgumentException("not an IP address: $address");
            }
            $seen[$canonical] = true;
        }
        return array_map('strval', array_keys($seen));
    }
}
