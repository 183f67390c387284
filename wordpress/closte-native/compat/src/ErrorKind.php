<?php
/**
 * The `error_kind` vocabulary and the pure classifier of refusals, as in the extension.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class ErrorKind
{
    public const AUTH = 'auth';
    public const INVALID_DOMAIN = 'invalid_domain';
    public const RATE_LIMITED = 'rate_limited';
    public const SERVER = 'server';
    public const TIMEOUT = 'timeout';
    public const NETWORK = 'network';
    public const BAD_RESPONSE = 'bad_response';
    public const NOT_FOUND = 'not_found';
    public const TLS = 'tls';
    public const INTERNAL = 'internal';

    public const ALL = [
        self::AUTH, self::INVALID_DOMAIN, self::RATE_LIMITED, self::SERVER, self::TIMEOUT,
        self::NETWORK, self::BAD_RESPONSE, self::NOT_FOUND, self::TLS, self::INTERNAL,
    ];

    /** Worth trying again later: add and remove are idempotent on Closte's side. */
    public static function isRetryable(string $kind): bool
    {
        return in_array($kind, [self::RATE_LIMITED, self::SERVER, self::TIMEOUT, self::NETWORK, self::INTERNAL], true);
    }

    /**
     * An answer that is not a success: the HTTP status decides first, then Closte's text
     * (Closte often answers HTTP 200 with {"success": false, "error": ...}).
     */
    public static function classifyRejection(int $status, string $message): string
    {
        if ($status === 401 || $status === 403) {
            return self::AUTH;
        }
        if (in_array($status, [404, 405, 410], true)) {
            return self::NOT_FOUND;
        }
        if ($status >= 300 && $status <= 399) {
            return self::BAD_RESPONSE; // redirects are never followed: the key stays here
        }
        if ($status === 408) {
            return self::TIMEOUT;
        }
        if ($status === 429) {
            return self::RATE_LIMITED;
        }
        if ($status >= 500 && $status <= 599) {
            return self::SERVER;
        }
        $text = strtolower($message);
        $has = static function (string ...$needles) use ($text): bool {
            foreach ($needles as $needle) {
                if (str_contains($text, $needle)) {
                    return true;
                }
            }
            return false;
        };
        if ($has('api key', 'apikey', 'api_key', 'unauthori', 'forbidden', 'permission', 'not allowed', 'authenticat')) {
            return self::AUTH;
        }
        if ($has('invalid or empty domain', 'invalid domain')) {
            return self::INVALID_DOMAIN;
        }
        if ($has('too many requests', 'rate limit')) {
            return self::RATE_LIMITED;
        }
        if (self::isNotFoundText($text)) {
            return self::NOT_FOUND;
        }
        return $status >= 400 ? self::INVALID_DOMAIN : self::SERVER;
    }

    /** Closte's wording for "the alias exists already" is not documented; match loosely. */
    public static function saysAlreadyExists(string $message): bool
    {
        $text = strtolower($message);
        return str_contains($text, 'already') || (str_contains($text, 'exists') && !str_contains($text, 'not exist'));
    }

    /** Closte's wording for "no such alias" is not documented; match loosely. */
    public static function saysNotFound(string $message): bool
    {
        return self::isNotFoundText(strtolower($message));
    }

    private static function isNotFoundText(string $lower): bool
    {
        foreach (['not found', 'does not exist', "doesn't exist", 'not exist', 'no such', 'not present'] as $needle) {
            if (str_contains($lower, $needle)) {
                return true;
            }
        }
        return false;
    }
}
