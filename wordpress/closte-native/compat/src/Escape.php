<?php
/**
 * The escaping the extension applies to every input it quotes in a message (Rust's
 * escape_debug), so a message or log line never carries a quote, a control or an invisible
 * character raw.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Escape
{
    /**
     * Quotes, backslashes and invisible characters escaped the way the extension's messages
     * show them (`\n`, `\"`, `\u{200b}`), so a message or log line never carries them raw.
     */
    public static function debug(string $text): string
    {
        $out = '';
        foreach (Utf8::chars(Utf8::lossy($text)) as $char) {
            $out .= match ($char) {
                "\0" => '\\0',
                "\t" => '\\t',
                "\r" => '\\r',
                "\n" => '\\n',
                '\\' => '\\\\',
                '"' => '\\"',
                "'" => "\\'",
                default => self::isPrintable($char) ? $char : sprintf('\\u{%x}', Utf8::codePoint($char)),
            };
        }
        return $out;
    }

    private static function isPrintable(string $char): bool
    {
        if ($char === ' ') {
            return true;
        }
        // Controls, format characters (zero-width, bidi), separators and unassigned points.
        return preg_match('/^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]$/u', $char) !== 1;
    }
}
