<?php
/**
 * THE resolver of closte_check_dns and closte_verify_certificate (closte-core net/dns.rs):
 * closte.resolve's entries first, else the system's DNS, A and AAAA records (CNAME chains
 * followed by the DNS server; only the A/AAAA rows of the answer are kept). "No such name" and
 * "no records" are an empty answer; a resolver that does not answer is a failure.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Resolver
{
    /**
     * The addresses of $name (normalised) in canonical text, each once, in the order given, and
     * where they came from: ['addresses' => [...], 'source' => 'override'|'system'], or
     * ['failure' => why] when the system resolver failed.
     *
     * @return array{addresses: list<string>, source: string}|array{failure: string}
     */
    public static function resolve(string $name, ResolveOverrides $overrides): array
    {
        $override = $overrides->lookup($name);
        if ($override !== null) {
            return ['addresses' => $override, 'source' => 'override'];
        }
        if (!function_exists('dns_get_record')) {
            return ['failure' => "cannot resolve $name: this PHP has no dns_get_record()"];
        }
        $found = [];
        foreach ([DNS_A => 'ip', DNS_AAAA => 'ipv6'] as $type => $field) {
            [$records, $warning] = Quiet::call(static fn () => dns_get_record($name, $type));
            if (!is_array($records)) {
                // PHP returns an empty array for NXDOMAIN and NODATA, false (with a warning)
                // when the resolver gave no answer: SERVFAIL, a timeout, no server.
                return ['failure' => "cannot resolve $name: the resolver failed: " . ($warning ?? 'DNS Query failed')];
            }
            foreach ($records as $record) {
                $address = is_array($record) && is_string($record[$field] ?? null) ? AddressPolicy::canonical($record[$field]) : null;
                if ($address !== null) {
                    $found[$address] = true;
                }
            }
        }
        return ['addresses' => array_map('strval', array_keys($found)), 'source' => 'system'];
    }
}
