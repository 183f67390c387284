<?php
/**
 * Shared code of the benchmarks: statistics, the simulator's control API, and the BASELINE —
 * our own pure-PHP reproduction of the request sequence the stock Ultimate Multisite Closte
 * integration makes (docs/closte-api.md), not its code: a new curl handle per request (as
 * wp_remote_post does), POST /adddomainalias, then the SSL endpoint search in the stock order,
 * stopping at the first endpoint that does not answer HTTP 4xx/5xx.
 */

declare(strict_types=1);

function bench_stats(array $samples): array
{
    sort($samples);
    $n = count($samples);
    $pick = static fn (float $q) => $samples[min($n - 1, (int) floor($q * ($n - 1) + 0.5))];
    return [
        'n' => $n,
        'median' => $n % 2 ? $samples[intdiv($n, 2)] : ($samples[$n / 2 - 1] + $samples[$n / 2]) / 2,
        'p90' => $pick(0.9),
        'min' => $samples[0],
        'max' => $samples[$n - 1],
        'mean' => array_sum($samples) / $n,
    ];
}

/** The simulator's control API (over TLS too when the simulator serves HTTPS). */
function sim_control(array $o, string $method, string $path, ?array $body = null): array
{
    $context = stream_context_create([
        'http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\nConnection: close\r\n",
            'content' => $body === null ? '' : json_encode($body),
            'ignore_errors' => true,
        ],
        'ssl' => ['cafile' => $o['ca'] ?? '', 'peer_name' => '127.0.0.1'],
    ]);
    return json_decode((string) file_get_contents("{$o['scheme']}://127.0.0.1:{$o['port']}/__sim$path", false, $context), true);
}

/** One POST as the stock class sends it: form body with the key, new handle, 45 s timeout. */
function baseline_post(string $url, string $key, array $fields, ?string $caFile): array
{
    $handle = curl_init($url);
    curl_setopt_array($handle, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => http_build_query(['apikey' => $key] + $fields),
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 45,
        CURLOPT_HTTPHEADER => ['Content-Type: application/x-www-form-urlencoded', 'User-Agent: WP-Ultimo-Closte-Integration/2.0'],
    ]);
    if ($caFile !== null) {
        curl_setopt($handle, CURLOPT_CAINFO, $caFile);
    }
    $body = curl_exec($handle);
    $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
    curl_close($handle);
    if ($body === false) {
        return ['success' => false, 'error' => 'transport error'];
    }
    if ($status >= 400) {
        return ['success' => false, 'error' => "HTTP $status error"];
    }
    return json_decode((string) $body, true) ?? ['success' => false, 'error' => 'Invalid JSON response'];
}

/** The stock sequence for one mapped domain. */
function baseline_add_domain(string $base, string $key, string $domain, ?string $caFile): bool
{
    $added = baseline_post("$base/adddomainalias", $key, ['domain' => $domain, 'wildcard' => str_starts_with($domain, '*.') ? '1' : ''], $caFile);
    foreach (['/ssl/install', '/installssl', '/ssl', '/certificate/install'] as $endpoint) {
        $ssl = baseline_post($base . $endpoint, $key, ['domain' => $domain, 'type' => 'letsencrypt'], $caFile);
        if (!isset($ssl['error']) || !preg_match('/HTTP [45]\d\d/', $ssl['error'])) {
            break;
        }
    }
    return !empty($added['success']);
}

/** php.ini-independent settings of the extension for one benchmark run. */
function bench_configure(array $opts): void
{
    // The extension's INI settings, or the same settings of the PHP implementation.
    $set = extension_loaded('closte') ? 'ini_set' : [\Closte\Compat\Settings::class, 'set'];
    $set('closte.api_url', $opts['base']);
    $set('closte.api_key', $opts['key']);
    if ($opts['ca'] !== null) {
        $set('closte.ca_file', $opts['ca']);
    }
}

function bench_options(array $argv): array
{
    $opts = ['port' => 0, 'scheme' => 'http', 'key' => 'bench-key', 'ca' => null];
    foreach (array_slice($argv, 1) as $arg) {
        [$name, $value] = explode('=', $arg, 2) + [1 => ''];
        $opts[ltrim($name, '-')] = $value;
    }
    $opts['port'] = (int) $opts['port'];
    $opts['ca'] = $opts['ca'] === '' ? null : $opts['ca'];
    $opts['base'] = "{$opts['scheme']}://127.0.0.1:{$opts['port']}/api/client";
    return $opts;
}
