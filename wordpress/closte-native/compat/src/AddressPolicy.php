<?php
/**
 * Which addresses the certificate check may connect to (closte-core net/address_policy.rs).
 * A mapped domain is chosen by a customer, and so is what it resolves to: the check connects only
 * to public addresses, never to loopback, private, link-local (cloud metadata at 169.254.169.254),
 * documentation or other special-purpose ranges, unless closte.allow_private_targets (tests only)
 * says otherwise. Judged after resolution, for every address tried.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class AddressPolicy
{
    /**
     * The special IPv4 ranges: [first address, prefix length, range name]. Disjoint, except that
     * the broadcast address lies in 240.0.0.0/4 and is listed first.
     */
    private const IPV4_RANGES = [
        ['255.255.255.255', 32, 'broadcast'],
        ['0.0.0.0', 8, 'unspecified'],
        ['10.0.0.0', 8, 'private'],
        ['100.64.0.0', 10, 'shared'],
        ['127.0.0.0', 8, 'loopback'],
        ['169.254.0.0', 16, 'link_local'],
        ['172.16.0.0', 12, 'private'],
        ['192.0.0.0', 24, 'protocol'],
        ['192.0.2.0', 24, 'documentation'],
        ['192.168.0.0', 16, 'private'],
        ['198.18.0.0', 15, 'benchmarking'],
        ['198.51.100.0', 24, 'documentation'],
        ['203.0.113.0', 24, 'documentation'],
        ['224.0.0.0', 4, 'multicast'],
        ['240.0.0.0', 4, 'reserved'],
    ];

    /** The special IPv6 ranges, as IPV4_RANGES; IPv4-mapped and NAT64 are judged by their IPv4 address. */
    private const IPV6_RANGES = [
        ['::', 128, 'unspecified'],
        ['::1', 128, 'loopback'],
        ['100::', 64, 'reserved'],
        ['2001:db8::', 32, 'documentation'],
        ['fc00::', 7, 'private'],
        ['fe80::', 10, 'link_local'],
        ['fec0::', 10, 'private'],
        ['ff00::', 8, 'multicast'],
    ];

    /** NAT64's well-known prefix 64:ff9b::/96 (RFC 6052): the last 32 bits are an IPv4 address. */
    private const NAT64_PREFIX = "\x00\x64\xff\x9b\x00\x00\x00\x00\x00\x00\x00\x00";
    private const MAPPED_PREFIX = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff";

    /**
     * $address in canonical text, whether the check may connect to it and the special range it
     * lies in (null: a public address).
     *
     * @return array{address: string, allowed: bool, range: ?string}
     * @throws \InvalidArgumentException when $address is not an IP address (the resolver gives only addresses)
     */
    public static function judge(string $address, bool $allowPrivate): array
    {
        $canonical = self::canonical($address);
        if ($canonical === null) {
            throw new \InvalidArgumentException("not an IP address: $address");
        }
        $range = self::range((string) inet_pton($canonical));
        return ['address' => $canonical, 'allowed' => $range === null || $allowPrivate, 'range' => $range];
    }

    /**
     * The canonical text of an IP address, null when $text is none: an IPv4-mapped IPv6 address
     * becomes its IPv4 address (Rust's IpAddr::to_canonical); IPv6 is written as RFC 5952 and
     * Rust's Display write it (lower case, the longest run of two or more zero groups as "::",
     * the first of equal runs; never dotted quads, which glibc's inet_ntop writes for ::a.b.c.d).
     */
    public static function canonical(string $text): ?string
    {
        if (filter_var($text, FILTER_VALIDATE_IP) === false) {
            return null;
        }
        $bytes = inet_pton($text);
        if ($bytes === false) {
            return null;
        }
        if (strlen($bytes) === 16 && str_starts_with($bytes, self::MAPPED_PREFIX)) {
            $bytes = substr($bytes, 12);
        }
        if (strlen($bytes) === 4) {
            return (string) inet_ntop($bytes);
        }
        $groups = array_values(unpack('n8', $bytes));
        [$bestStart, $bestLength] = [-1, 0];
        for ($i = 0; $i < 8; $i++) {
            $length = 0;
            while ($i + $length < 8 && $groups[$i + $length] === 0) {
                $length++;
            }
            if ($length > $bestLength) {
                [$bestStart, $bestLength] = [$i, $length];
            }
            $i += $length;
        }
        $hex = array_map(static fn (int $group): string => dechex($group), $groups);
        if ($bestLength < 2) {
            return implode(':', $hex);
        }
        return implode(':', array_slice($hex, 0, $bestStart)) . '::' . implode(':', array_slice($hex, $bestStart + $bestLength));
    }

    /** The special range of a packed address (4 or 16 bytes), null for a public one. */
    private static function range(string $bytes): ?string
    {
        if (strlen($bytes) === 16 && str_starts_with($bytes, self::NAT64_PREFIX)) {
            $bytes = substr($bytes, 12);
        }
        foreach (strlen($bytes) === 4 ? self::IPV4_RANGES : self::IPV6_RANGES as [$first, $prefix, $name]) {
            if (self::inPrefix($bytes, (string) inet_pton($first), $prefix)) {
                return $name;
            }
        }
        return null;
    }

    private static function inPrefix(string $bytes, string $network, int $prefix): bool
    {
        $whole = intdiv($prefix, 8);
        if (substr($bytes, 0, $whole) !== substr($network, 0, $whole)) {
            return false;
        }
        $bits = $prefix % 8;
        if ($bits === 0) {
            return true;
        }
        $mask = (0xFF << (8 - $bits)) & 0xFF;
        return (ord($bytes[$whole]) & $mask) === (ord($network[$whole]) & $mask);
    }
}
