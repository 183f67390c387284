<?php
/**
 * Calls a PHP function that reports failure with a warning (dns_get_record, stream sockets,
 * openssl) without letting the warning reach the caller's error handler or output: the warning's
 * text comes back instead, for the result's error.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Quiet
{
    /**
     * @template T
     * @param callable(): T $call
     * @return array{0: T, 1: ?string} what $call returned, and its last warning without the
     *         function name PHP puts in front ("dns_get_record(): ")
     */
    public static function call(callable $call): array
    {
        $warning = null;
        set_error_handler(static function (int $level, string $message) use (&$warning): bool {
            $warning = preg_replace('/^[a-z_0-9]+\(\): /', '', $message);
            return true;
        });
        try {
            return [$call(), $warning];
        } finally {
            restore_error_handler();
        }
    }
}
