<?php
/**
 * ASCII tests without ctype (which is not always loaded).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Ascii
{
    /** True for a non-empty run of ASCII digits (ctype is not always loaded). */
    public static function isDigits(string $text): bool
    {
        return preg_match('/^[0-9]+$/D', $text) === 1;
    }
}
