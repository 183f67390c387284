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
            $year = self::number($year);
        } elseif (count($parts) === 4 && $parts[3] === 'GMT') {
            $date = explode('-', $parts[1]);
            if (count($date) < 3) {
                return null;
            }
            [$day, $month, $year] = $date;
            $year = self::number($year);
            if ($year !== null) {
                // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
                $year = $year < 70 ? 2000 + $year : ($year < 100 ? 1900 + $year : $year);
            }
            $time = $parts[2];
        } elseif (count($parts) === 5) {
            [, $month, $day, $time, $year] = $parts;
            $year = self::number($year);
        } else {
            return null;
        }
        $day = self::number($day);
        if ($year === null || $day === null || $day < 1 || $day > 31) {
            return null;
        }
        $monthIndex = array_search($month, self::MONTHS, true);
        $hms = array_map([self::class, 'number'], explode(':', $time));
        if ($monthIndex === false || count($hms) !== 3 || in_array(null, $hms, true)) {
            return null;
        }
        [$h, $m, $s] = $hms;
        if ($h > 23 || $m > 59 || $s > 60) {
            return null;
        }
        return self::daysFromCivil($year, $monthIndex + 1, $day) * 86400 + $h * 3600 + $m * 60 + $s;
    }

    /**
     * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm, as
     * retry_after.rs): not gmmktime(), which reads the years 0-100 as 1970-2069.
     */
    private static function daysFromCivil(int $year, int $month, int $day): int
    {
        $y = $month <= 2 ? $year - 1 : $year;
        $era = intdiv($y >= 0 ? $y : $y - 399, 400);
        $yoe = $y - $era * 400;
        $mp = ($month + 9) % 12;
        $doy = intdiv(153 * $mp + 2, 5) + $day - 1;
        $doe = $yoe * 365 + intdiv($yoe, 4) - intdiv($yoe, 100) + $doy;
        return $era * 146097 + $doe - 719468;
    }

    /**
     * A date's number: one to four ASCII digits (RFC 9110 writes every part as 2DIGIT or
     * 4DIGIT). No sign: `+1` is not an hour, the whole date is then invalid (retry_after.rs).
     */
    private static function number(string $text): ?int
    {
        $length = strlen($text);
        return $length >= 1 && $length <= 4 && Ascii::isDigits($text) ? (int) $text : null;
    }
}
