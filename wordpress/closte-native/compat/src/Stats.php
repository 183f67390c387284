<?php
/**
 * closte_stats() of the PHP implementation: the extension's keys, counted for this process
 * (PHP-FPM and CLI start them at zero with each request; the extension counts per worker).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Stats
{
    private static int $operations = 0;
    private static int $requests = 0;
    private static int $successes = 0;
    private static int $retries = 0;
    private static int $connections = 0;
    private static int $tlsHandshakes = 0;
    /** @var array<string, int> */
    private static array $failures = [];

    public static function operation(): void
    {
        self::$operations++;
    }

    public static function request(?string $failureKind): void
    {
        self::$requests++;
        if ($failureKind === null) {
            self::$successes++;
        } else {
            self::$failures[$failureKind] = (self::$failures[$failureKind] ?? 0) + 1;
        }
    }

    public static function retry(): void
    {
        self::$retries++;
    }

    /** New connections one transfer opened (a TLS handshake each, for https). */
    public static function connected(int $count, bool $https): void
    {
        self::$connections += $count;
        if ($https) {
            self::$tlsHandshakes += $count;
        }
    }

    public static function snapshot(): array
    {
        $failures = [];
        foreach (ErrorKind::ALL as $kind) {
            $failures[$kind] = self::$failures[$kind] ?? 0;
        }
        [$key, $source] = Settings::apiKey();
        try {
            $apiUrl = Settings::current()->apiUrl;
        } catch (\Closte\ConfigurationException) {
            $apiUrl = null;
        }
        return [
            'version' => Version::VERSION,
            'build' => 'php',
            'implementation' => Version::IMPLEMENTATION,
            'operations' => self::$operations,
            'requests' => self::$requests,
            'successes' => self::$successes,
            'retries' => self::$retries,
            'connections' => self::$connections,
            'tls_handshakes' => self::$tlsHandshakes,
            'failures' => $failures,
            'failed_requests' => array_sum($failures),
            'key_configured' => $key !== null,
            'key_source' => $source,
            'api_url' => $apiUrl,
            'ssl_endpoint' => $apiUrl === null ? null : SslEndpoints::get($apiUrl),
            'runtime' => [
                'started' => false,
                'pid' => getmypid(),
                'worker_threads' => 0,
                'owned_by_this_process' => true,
                'http_clients_built' => 0,
            ],
        ];
    }
}
