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

    /**
     * Ways of saying "this alias is on the app already" (in lower case, matched as whole
     * words). Not "already" alone: "already in use by another application" is a refusal.
     */
    private const ALREADY_HERE = [
        'already exists', 'already exist', 'exists already', 'already added', 'already been added',
        'already present', 'already an alias',
    ];

    /**
     * Words that put the domain with another owner: with any of them a text is not proof that
     * the alias is on this app, whatever else it says.
     */
    private const OTHER_OWNER = ['another', 'other app', 'other application', 'in use', 'used by', 'belongs to'];

    /**
     * Texts that name another app or account as the domain's holder: a refusal no retry can
     * change (invalid_domain), not a server error retried later. Not "another" alone: "another
     * request is running" is worth retrying.
     */
    private const CLAIMED_ELSEWHERE = [
        'another app', 'another application', 'another account',
        'other app', 'other application', 'other account',
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
        if ($has('invalid or empty domain', 'invalid domain') || self::hasPhrase($text, self::CLAIMED_ELSEWHERE)) {
            return self::INVALID_DOMAIN; // a domain another app holds is refused like a bad one: retrying cannot help
        }
        if ($has('too many requests', 'rate limit')) {
            return self::RATE_LIMITED;
        }
        if (self::isNotFoundText($text)) {
            return self::NOT_FOUND;
        }
        return $status >= 400 ? self::INVALID_DOMAIN : self::SERVER;
    }

    /**
     * Closte's wording for "the alias exists already" is not documented, but only a text that
     * says the alias is already here may turn a refused add into a success (and a certificate
     * request): one of ALREADY_HERE, and no word of OTHER_OWNER. Any other refusal is
     * classified; an unclear one is confirmed with /getdomains.
     */
    public static function saysAlreadyExists(string $message): bool
    {
        $text = strtolower($message);
        return self::hasPhrase($text, self::ALREADY_HERE) && !self::hasPhrase($text, self::OTHER_OWNER);
    }

    /** Closte's wording for "no such alias" is not documented; match loosely. */
    public static function saysNotFound(string $message): bool
    {
        return self::isNotFoundText(strtolower($message));
    }

    /**
     * True when $lower holds one of $phrases as whole words (no letter or digit right before or
     * after), so "in use" is not found in "domain user" nor "used by" in "caused by".
     *
     * @param list<string> $phrases
     */
    private static function hasPhrase(string $lower, array $phrases): bool
    {
        foreach ($phrases as $phrase) {
            if (preg_match('/(?<![a-z0-9])' . preg_quote($phrase, '/') . '(?![a-z0-9])/', $lower) === 1) {
                return true;
            }
        }
        return false;
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
