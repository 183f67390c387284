<?php
/**
 * `Retry-After` (RFC 9110 §10.2.3): a number of seconds or an HTTP-date in any of the three
 * formats. A number too large saturates; a past date means "now"; anything else is ignored.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class RetryAfter
{
    private const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

    /** Seconds to wait, from the header's value, relative to $now (Unix seconds). */
    public static function parse(string $value, int $now): ?int
    {
        $value = trim($value);
        if ($value !== '' && Ascii::isDigits($value)) {
            return strlen(ltrim($value, '0')) > 18 ? PHP_INT_MAX : (int) $value;
        }
        $at = self::httpDate($value);
        return $at === null ? null : max(0, $at - $now);
    }

    private static function httpDate(string $value): ?int
    {
        $parts = preg_split('/\s+/', $value, -1, PREG_SPLIT_NO_EMPTY) ?: [];
        if (count($parts) === 6 && $parts[5] === 'GMT') {
            [, $day, $month, $year, $time] = $parts;
        } elseif (count($parts) === 4 && $parts[3] === 'GMT') {
            $date = explode('-', $parts[1]);
            if (count($date) < 3) {
                return null;
            }
            [$day, $month, $year] = $date;
            if (!Ascii::isDigits($year)) {
                return null;
            }
            $year = (int) $year;
            $year = $year < 70 ? 2000 + $year : ($year < 100 ? 1900 + $year : $year);
            $time = $parts[2];
        } elseif (count($parts) === 5) {
            [, $month, $day, $time, $year] = $parts;
        } else {
            return null;
        }
        if (!Ascii::isDigits((string) $year) || !Ascii::isDigits($day) || (int) $day < 1 || (int) $day > 31) {
            return null;
        }
        $monthIndex = array_search($month, self::MONTHS, true);
        $hms = explode(':', $time);
        if ($monthIndex === false || count($hms) !== 3) {
            return null;
        }
        foreach ($hms as $part) {
            if (!Ascii::isDigits($part)) {
                return null;
            }
        }
        [$h, $m, $s] = array_map('intval', $hms);
        if ($h > 23 || $m > 59 || $s > 60) {
            return null;
        }
        return gmmktime(0, 0, 0, $monthIndex + 1, (int) $day, (int) $year) + $h * 3600 + $m * 60 + $s;
    }
}
