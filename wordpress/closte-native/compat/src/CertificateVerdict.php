<?php
/**
 * What a certificate presented in a handshake means for a name (closte-core
 * net/certificate.rs): whether its DNS names cover the name, and its status.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class CertificateVerdict
{
    /** A certificate expiring within this many seconds is `expiring` (a warning, not yet a problem). */
    public const EXPIRING_WITHIN_SECS = 14 * 86400;

    /**
     * Whether $names (the leaf's subjectAltName DNS names) cover $name, as browsers apply RFC
     * 6125: case-insensitive, trailing dots ignored, a wildcard only as the whole leftmost label
     * followed by at least two labels, standing for exactly one label. The subject CN is not used.
     *
     * @param list<string> $names
     */
    public static function covers(string $name, array $names): bool
    {
        $name = self::comparable($name);
        foreach ($names as $pattern) {
            $pattern = self::comparable($pattern);
            if ($pattern === $name) {
                return true;
            }
            if (!str_starts_with($pattern, '*.')) {
                continue;
            }
            $suffix = substr($pattern, 2);
            if (str_contains($suffix, '*') || !str_contains($suffix, '.')) {
                continue;
            }
            $dot = strpos($name, '.');
            if ($dot !== false && $dot > 0 && substr($name, $dot + 1) === $suffix) {
                return true;
            }
        }
        return false;
    }

    /**
     * The status of a certificate and its whole days left, floor((not_after - now) / 86400). The
     * first that applies: expired, not_yet_valid, name_mismatch, untrusted, expiring, active.
     *
     * @param array{name: string, names: list<string>, not_before: int, not_after: int, now: int, trusted: bool} $facts
     * @return array{status: string, days_left: int}
     */
    public static function status(array $facts): array
    {
        $left = $facts['not_after'] - $facts['now'];
        $status = match (true) {
            $facts['now'] > $facts['not_after'] => 'expired',
            $facts['now'] < $facts['not_before'] => 'not_yet_valid',
            !self::covers($facts['name'], $facts['names']) => 'name_mismatch',
            !$facts['trusted'] => 'untrusted',
            $left <= self::EXPIRING_WITHIN_SECS => 'expiring',
            default => 'active',
        };
        return ['status' => $status, 'days_left' => self::daysLeft($left)];
    }

    /** Whole days in $seconds, rounded down (negative once expired: -1 for the first day after). */
    public static function daysLeft(int $seconds): int
    {
        return intdiv($seconds, 86400) - ($seconds % 86400 < 0 ? 1 : 0);
    }

    private static function comparable(string $name): string
    {
        return rtrim(strtolower($name), '.');
    }
}
