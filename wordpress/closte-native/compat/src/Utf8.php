<?php
/**
 * UTF-8 without mbstring (which managed hosts do not always load): validation, lossy
 * decoding, characters and code points, and shortening by characters.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Utf8
{
    /** One well-formed UTF-8 sequence (RFC 3629), for validation without mbstring. */
    private const UTF8_CHAR = '(?:[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]'
        . '|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}'
        . '|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})';

    /** Length in bytes of the longest valid UTF-8 prefix of $bytes. */
    public static function validPrefix(string $bytes): int
    {
        preg_match('/\A' . self::UTF8_CHAR . '*+/', $bytes, $match);
        return strlen($match[0] ?? '');
    }

    /** $bytes with every invalid sequence replaced by U+FFFD (like Rust's from_utf8_lossy). */
    public static function lossy(string $bytes): string
    {
        return (string) preg_replace_callback(
            '/' . self::UTF8_CHAR . '|./s',
            static fn (array $m): string => strlen($m[0]) === 1 && ord($m[0]) >= 0x80 ? "\u{FFFD}" : $m[0],
            $bytes
        );
    }

    /** @return list<string> the characters of valid UTF-8 $text */
    public static function chars(string $text): array
    {
        return $text === '' ? [] : preg_split('//u', $text, -1, PREG_SPLIT_NO_EMPTY);
    }

    /** The code point of one UTF-8 character. */
    public static function codePoint(string $char): int
    {
        $bytes = array_values(unpack('C*', $char));
        $count = count($bytes);
        if ($count === 1) {
            return $bytes[0];
        }
        $point = $bytes[0] & (0xFF >> ($count + 1));
        for ($i = 1; $i < $count; $i++) {
            $point = ($point << 6) | ($bytes[$i] & 0x3F);
        }
        return $point;
    }

    /** The UTF-8 encoding of a code point. */
    public static function fromCodePoint(int $point): string
    {
        if ($point < 0x80) {
            return chr($point);
        }
        if ($point < 0x800) {
            return chr(0xC0 | ($point >> 6)) . chr(0x80 | ($point & 0x3F));
        }
        if ($point < 0x10000) {
            return chr(0xE0 | ($point >> 12)) . chr(0x80 | (($point >> 6) & 0x3F)) . chr(0x80 | ($point & 0x3F));
        }
        return chr(0xF0 | ($point >> 18)) . chr(0x80 | (($point >> 12) & 0x3F))
            . chr(0x80 | (($point >> 6) & 0x3F)) . chr(0x80 | ($point & 0x3F));
    }

    /**
     * Rust's str::trim: strips Unicode White_Space (U+00A0 no-break space, U+2003, U+3000, ...)
     * from both ends, where PHP's trim() strips only ASCII and NUL. Valid UTF-8 $text.
     */
    public static function trim(string $text): string
    {
        $space = '[\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]';
        return preg_replace("/\\A$space++|$space++\\z/u", '', $text) ?? $text;
    }

    /** $text cut after $max characters, with "…" when cut. */
    public static function truncate(string $text, int $max): string
    {
        $chars = self::chars($text);
        return count($chars) <= $max ? $text : implode('', array_slice($chars, 0, $max)) . '…';
    }
}
