<?php
/**
 * The SSL endpoint found for an API URL: its path, false when Closte exposes none, null when
 * not discovered yet. Remembered for the process and, so that each PHP request does not probe
 * again, in a WordPress site transient (when WordPress is loaded) or APCu (when enabled).
 * Discovery is single flight within a process: who finds it under way waits for its result.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class SslEndpoints
{
    /** How long a discovery result is trusted across requests. */
    public const REMEMBER_SECS = 86400;
    private const NONE = 'none';

    /** @var array<string, string> api url => path or NONE */
    private static array $known = [];
    /**
     * api url => the pid of the process whose request is finding its endpoint. Keyed by pid
     * because a pcntl_fork copies this table: the parent's request goes on in the parent only,
     * so a child that took its flag as its own would wait for an answer it never gets.
     *
     * @var array<string, int>
     */
    private static array $discovering = [];

    public static function get(string $apiUrl): string|false|null
    {
        if (!isset(self::$known[$apiUrl])) {
            $stored = self::load($apiUrl);
            if ($stored === null) {
                return null;
            }
            self::$known[$apiUrl] = $stored;
        }
        return self::$known[$apiUrl] === self::NONE ? false : self::$known[$apiUrl];
    }

    public static function remember(string $apiUrl, ?string $path): void
    {
        $value = $path ?? self::NONE;
        self::$known[$apiUrl] = $value;
        $name = self::storageKey($apiUrl);
        if (function_exists('set_site_transient')) {
            set_site_transient($name, $value, self::REMEMBER_SECS);
        } elseif (function_exists('apcu_enabled') && apcu_enabled()) {
            apcu_store($name, $value, self::REMEMBER_SECS);
        }
    }

    /** Forgets what this process and the shared store know (a test, or an operator's reset). */
    public static function forget(string $apiUrl): void
    {
        unset(self::$known[$apiUrl]);
        $name = self::storageKey($apiUrl);
        if (function_exists('delete_site_transient')) {
            delete_site_transient($name);
        } elseif (function_exists('apcu_enabled') && apcu_enabled()) {
            apcu_delete($name);
        }
    }

    /** True while a request of this process is finding the endpoint of $apiUrl. */
    public static function isDiscovering(string $apiUrl): bool
    {
        if (!isset(self::$discovering[$apiUrl])) {
            return false;
        }
        if (self::$discovering[$apiUrl] !== getmypid()) {
            // A parent's, copied by a fork: gone, so that a grandchild given the parent's pid
            // again (pids are reused) cannot take it for its own.
            unset(self::$discovering[$apiUrl]);
            return false;
        }
        return true;
    }

    /**
     * Marks this process's discovery as begun or ended. An end in a forked child of the
     * discovering process (its coroutine dropped there) leaves a discovery of the child's own
     * alone.
     */
    public static function discovering(string $apiUrl, bool $on): void
    {
        if ($on) {
            self::$discovering[$apiUrl] = getmypid();
        } elseif ((self::$discovering[$apiUrl] ?? null) === getmypid()) {
            unset(self::$discovering[$apiUrl]);
        }
    }

    private static function load(string $apiUrl): ?string
    {
        $name = self::storageKey($apiUrl);
        $value = false;
        if (function_exists('get_site_transient')) {
            $value = get_site_transient($name);
        } elseif (function_exists('apcu_enabled') && apcu_enabled()) {
            $value = apcu_fetch($name);
        }
        return is_string($value) && ($value === self::NONE || str_starts_with($value, '/')) ? $value : null;
    }

    private static function storageKey(string $apiUrl): string
    {
        return 'closte_ssl_endpoint_' . substr(hash('sha256', $apiUrl), 0, 24);
    }
}
