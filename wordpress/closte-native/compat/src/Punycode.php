<?php
/**
 * RFC 3492 decoding, for `xn--` labels when PHP's intl extension is missing: the look-alike
 * check needs the characters a punycode label stands for, and a label that does not decode is
 * refused like the extension refuses it.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Punycode
{
    private const BASE = 36;
    private const TMIN = 1;
    private const TMAX = 26;
    private const SKEW = 38;
    private const DAMP = 700;
    private const INITIAL_BIAS = 72;
    private const INITIAL_N = 128;

    /**
     * The Unicode text of a punycode string (without the `xn--` prefix), or null when it is
     * not valid punycode, decodes to plain ASCII, or holds characters no host name may hold.
     */
    public static function decode(string $input): ?string
    {
        if ($input === '' || preg_match('/[^a-z0-9-]/', $input) === 1) {
            return null;
        }
        $split = strrpos($input, '-');
        $output = [];
        if ($split !== false) {
            foreach (str_split(substr($input, 0, $split)) as $char) {
                $output[] = ord($char);
            }
            $rest = substr($input, $split + 1);
        } else {
            $rest = $input;
        }
        $n = self::INITIAL_N;
        $i = 0;
        $bias = self::INITIAL_BIAS;
        $position = 0;
        $length = strlen($rest);
        while ($position < $length) {
            $old = $i;
            $w = 1;
            for ($k = self::BASE; ; $k += self::BASE) {
                if ($position >= $length) {
                    return null;
                }
                $digit = self::digit($rest[$position++]);
                if ($digit === null || $digit > intdiv(PHP_INT_MAX - $i, $w)) {
                    return null;
                }
                $i += $digit * $w;
                $t = $k <= $bias ? self::TMIN : ($k >= $bias + self::TMAX ? self::TMAX : $k - $bias);
                if ($digit < $t) {
                    break;
                }
                $w *= self::BASE - $t;
                if ($w > 0x10FFFF * self::BASE) {
                    return null;
                }
            }
            $count = count($output) + 1;
            $bias = self::adapt($i - $old, $count, $old === 0);
            $n += intdiv($i, $count);
            $i %= $count;
            if ($n > 0x10FFFF || ($n >= 0xD800 && $n <= 0xDFFF)) {
                return null;
            }
            array_splice($output, $i, 0, [$n]);
            $i++;
        }
        $text = implode('', array_map([Utf8::class, 'fromCodePoint'], $output));
        $hasNonAscii = max($output ?: [0]) >= 0x80;
        // Upper case, controls, separators and symbols never survive IDNA mapping.
        if (!$hasNonAscii || preg_match('/[\p{Lu}\p{C}\p{Z}\p{S}\p{P}]/u', str_replace('-', '', $text)) === 1) {
            return null;
        }
        return $text;
    }

    private static function digit(string $char): ?int
    {
        $code = ord($char);
        if ($code >= 0x30 && $code <= 0x39) {
            return $code - 22;
        }
        if ($code >= 0x61 && $code <= 0x7A) {
            return $code - 0x61;
        }
        return null;
    }

    private static function adapt(int $delta, int $points, bool $first): int
    {
        $delta = $first ? intdiv($delta, self::DAMP) : intdiv($delta, 2);
        $delta += intdiv($delta, $points);
        $k = 0;
        while ($delta > intdiv((self::BASE - self::TMIN) * self::TMAX, 2)) {
            $delta = intdiv($delta, self::BASE - self::TMIN);
            $k += self::BASE;
        }
        return $k + intdiv((self::BASE - self::TMIN + 1) * $delta, $delta + self::SKEW);
    }
}
