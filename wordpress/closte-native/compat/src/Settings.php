<?php
/**
 * The extension's settings, for the PHP implementation.
 *
 * Without the extension PHP has no `closte.*` INI entries, so `ini_set('closte.timeout', ...)`
 * returns false and `ini_get()` knows nothing. The values are read, in this order, from:
 *   1. Settings::set() (this implementation's ini_set(): for the rest of the request);
 *   2. php.ini, a pool's php_admin_value or `php -d` (get_cfg_var() sees them without the
 *      extension registering the names);
 *   3. the extension's defaults.
 * The API key: the constant CLOSTE_CLIENT_API_KEY wins, then `closte.api_key` as above.
 * Every value is validated when a call reads it, with the extension's messages.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\ConfigurationException;

final class Settings
{
    /**
     * Every setting with its default, as the extension registers them. The extension's table
     * (closte-core config.rs SETTINGS) is the reference: PHPUnit (SettingsTableTest) checks these
     * defaults, SECRET and the bounds enforced below against its copy, docs/settings.json.
     */
    public const DEFAULTS = [
        'closte.api_key' => '',
        'closte.api_url' => 'https://app.closte.com/api/client',
        'closte.timeout' => '15',
        'closte.connect_timeout' => '5',
        'closte.max_retries' => '2',
        'closte.user_agent' => '',
        'closte.ca_file' => '',
        'closte.proxy' => '',
        'closte.worker_threads' => '2',
        'closte.drain_timeout' => '5',
        'closte.concurrency' => '8',
        'closte.resolve' => '',
        'closte.allow_private_targets' => '0',
        'closte.tls_check_port' => '443',
        'closte.verify_ca_file' => '',
    ];

    /**
     * The settings whose values are secret: the extension's phpinfo() masks exactly these (only
     * whether they are set shows); this implementation displays no setting's value (closte_stats()
     * has the key's source only). The proxy URL may carry credentials.
     */
    public const SECRET = ['closte.api_key', 'closte.proxy'];

    public const KEY_CONSTANT = 'CLOSTE_CLIENT_API_KEY';
    public const MAX_TIMEOUT_SECS = 300.0;
    public const MAX_RETRIES = 10;
    public const MAX_WORKER_THREADS = 16;
    public const MAX_DRAIN_TIMEOUT_SECS = 60.0;
    public const MAX_CONCURRENCY = 256;
    public const MAX_PORT = 65535;

    /** @var array<string, string> values set for this request */
    private static array $overrides = [];

    public string $apiUrl = self::DEFAULTS['closte.api_url'];
    public float $timeout = 15.0;
    public float $connectTimeout = 5.0;
    public int $maxRetries = 2;
    public string $userAgent = '';
    public ?string $caFile = null;
    public ?string $proxy = null;
    public float $drainTimeout = 5.0;
    public int $concurrency = 8;
    /** closte.resolve, parsed: the names the certificate check resolves without DNS. */
    public ResolveOverrides $resolve;
    /** closte.allow_private_targets: the certificate check may connect to loopback, private, ... (tests only). */
    public bool $allowPrivateTargets = false;
    public int $tlsCheckPort = 443;
    /** closte.verify_ca_file: extra trust anchors of the certificate check, besides the system's. */
    public ?string $verifyCaFile = null;

    /**
     * Sets a closte.* value for the rest of the request, like ini_set() does with the extension:
     * returns the old value, or false for a name that is not a closte setting.
     */
    public static function set(string $name, string $value): string|false
    {
        if (!array_key_exists($name, self::DEFAULTS)) {
            return false;
        }
        $old = self::raw($name);
        self::$overrides[$name] = $value;
        return $old;
    }

    /** Back to php.ini (or the default): like ini_restore(); every setting when $name is null. */
    public static function restore(?string $name = null): void
    {
        if ($name === null) {
            self::$overrides = [];
        } else {
            unset(self::$overrides[$name]);
        }
    }

    /** The value in force, unvalidated (like ini_get()), or false for an unknown name. */
    public static function raw(string $name): string|false
    {
        if (!array_key_exists($name, self::DEFAULTS)) {
            return false;
        }
        if (array_key_exists($name, self::$overrides)) {
            return self::$overrides[$name];
        }
        $configured = get_cfg_var($name);
        return is_string($configured) ? $configured : self::DEFAULTS[$name];
    }

    /** The validated settings, or ConfigurationException (code 2) naming the setting. */
    public static function current(): self
    {
        $get = static function (string $name): ?string {
            $value = trim((string) self::raw($name));
            return $value === '' ? null : $value;
        };
        $settings = new self();
        $settings->userAgent = self::defaultUserAgent();
        if (($url = $get('closte.api_url')) !== null) {
            $settings->apiUrl = self::parseApiUrl($url);
        }
        if (($raw = $get('closte.timeout')) !== null) {
            $settings->timeout = self::seconds('closte.timeout', $raw);
        }
        if (($raw = $get('closte.connect_timeout')) !== null) {
            $settings->connectTimeout = self::seconds('closte.connect_timeout', $raw);
        }
        if (($raw = $get('closte.max_retries')) !== null) {
            $settings->maxRetries = self::bounded('closte.max_retries', $raw, 0, self::MAX_RETRIES);
        }
        if (($agent = $get('closte.user_agent')) !== null) {
            // Rust's char::is_control: C0, DEL and the C1 controls U+0080-U+009F (UTF-8 C2 80-9F).
            if (preg_match('/[\x00-\x1F\x7F]|\xC2[\x80-\x9F]/', $agent) === 1) {
                throw new ConfigurationException('closte.user_agent contains a control character', 2);
            }
            $settings->userAgent = $agent;
        }
        $settings->caFile = $get('closte.ca_file');
        if (($raw = $get('closte.proxy')) !== null) {
            $parts = parse_url($raw);
            if (!is_array($parts) || !in_array(strtolower($parts['scheme'] ?? ''), ['http', 'https'], true) || ($parts['host'] ?? '') === '') {
                throw new ConfigurationException('closte.proxy must be an http:// or https:// URL with a host', 2);
            }
            $settings->proxy = $raw;
        }
        if (($raw = $get('closte.worker_threads')) !== null) {
            // Read for parity with the extension (which starts threads); PHP runs none.
            self::bounded('closte.worker_threads', $raw, 1, self::MAX_WORKER_THREADS);
        }
        if (($raw = $get('closte.drain_timeout')) !== null) {
            $settings->drainTimeout = self::secondsWithin('closte.drain_timeout', $raw, 0.0, self::MAX_DRAIN_TIMEOUT_SECS);
        }
        if (($raw = $get('closte.concurrency')) !== null) {
            $settings->concurrency = self::bounded('closte.concurrency', $raw, 1, self::MAX_CONCURRENCY);
        }
        $settings->resolve = ResolveOverrides::parse((string) self::raw('closte.resolve'));
        if (($raw = $get('closte.allow_private_targets')) !== null) {
            $settings->allowPrivateTargets = self::flag('closte.allow_private_targets', $raw);
        }
        if (($raw = $get('closte.tls_check_port')) !== null) {
            $settings->tlsCheckPort = self::bounded('closte.tls_check_port', $raw, 1, self::MAX_PORT);
        }
        $settings->verifyCaFile = $get('closte.verify_ca_file');
        return $settings;
    }

    /** The API key and where it came from: [?key, source]. Never logged, never shown. */
    public static function apiKey(): array
    {
        if (defined(self::KEY_CONSTANT)) {
            $value = constant(self::KEY_CONSTANT);
            $key = is_scalar($value) ? trim((string) $value) : '';
            if ($key !== '') {
                return [$key, 'constant CLOSTE_CLIENT_API_KEY'];
            }
        }
        $key = trim((string) self::raw('closte.api_key'));
        return $key !== '' ? [$key, 'ini closte.api_key'] : [null, 'not configured'];
    }

    /**
     * Every API key configured in this process, the one in force or not: the constant, the
     * value of Settings::set() and php.ini's. For scrubbing text (the plugin's logger); never
     * logged, never shown.
     *
     * @return list<string>
     */
    public static function secrets(): array
    {
        $constant = defined(self::KEY_CONSTANT) ? constant(self::KEY_CONSTANT) : '';
        $configured = get_cfg_var('closte.api_key');
        $values = [
            is_scalar($constant) ? trim((string) $constant) : '',
            trim(self::$overrides['closte.api_key'] ?? ''),
            is_string($configured) ? trim($configured) : '',
        ];
        return array_values(array_unique(array_filter($values, static fn (string $value): bool => $value !== '')));
    }

    /** The key, or ConfigurationException naming the constant. */
    public static function requireKey(): string
    {
        [$key] = self::apiKey();
        if ($key === null) {
            throw new ConfigurationException(
                "no Closte API key: define('" . self::KEY_CONSTANT . "', '...') in wp-config.php or set closte.api_key",
                2
            );
        }
        return $key;
    }

    public static function defaultUserAgent(): string
    {
        return 'closte-php/' . Version::VERSION;
    }

    private static function parseApiUrl(string $raw): string
    {
        $shown = Escape::debug($raw);
        $lower = strtolower($raw);
        if (str_starts_with($lower, 'https://')) {
            $rest = substr($raw, 8);
        } elseif (str_starts_with($lower, 'http://')) {
            $rest = substr($raw, 7);
        } else {
            throw new ConfigurationException("closte.api_url must start with https:// or http://, got \"$shown\"", 2);
        }
        if ($rest === '' || $rest[0] === '/' || preg_match('/\s/u', $raw) === 1) {
            throw new ConfigurationException("closte.api_url has no host or contains whitespace: \"$shown\"", 2);
        }
        if (strpbrk($raw, '?#@') !== false) {
            throw new ConfigurationException('closte.api_url must be a plain base URL without query, fragment or credentials', 2);
        }
        $parts = parse_url($raw);
        $host = is_array($parts) ? (string) ($parts['host'] ?? '') : '';
        $bracketed = str_starts_with($host, '[');
        $usable = $host !== ''
            && ($bracketed
                ? str_ends_with($host, ']') && filter_var(substr($host, 1, -1), FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) !== false
                : preg_match('/^[A-Za-z0-9._~!$&\'()*+,;=%-]+$/', $host) === 1);
        if (!is_array($parts) || !$usable) {
            throw new ConfigurationException("closte.api_url is not a usable URL (invalid host or port): \"$shown\"", 2);
        }
        if (isset($parts['port']) && ($parts['port'] < 1 || $parts['port'] > 65535)) {
            throw new ConfigurationException("closte.api_url has no usable host or port: \"$shown\"", 2);
        }
        // Every request carries the API key (in the body, or the query string of /getdomains):
        // over plain HTTP it may only cross this machine's loopback interface, which the
        // simulator and the tests use; anything else is a typo that would hand the key to the
        // network path. The same rule and text as the extension's (closte-core config.rs).
        $authority = explode('/', strtolower($rest), 2)[0];
        if (str_starts_with($lower, 'http://') && !self::isLoopbackAuthority($authority)) {
            throw new ConfigurationException(
                'closte.api_url must use https:// (http:// only for a loopback host: 127.0.0.0/8, [::1] or localhost), '
                . "because the API key would otherwise travel in cleartext: \"$shown\"",
                2
            );
        }
        return rtrim($raw, '/');
    }

    /**
     * Whether a lowercased host[:port] names this machine as written: localhost exactly (not
     * "localhost.", which a resolver may send to DNS), a dotted-decimal IPv4 address in
     * 127.0.0.0/8, or a bracketed IPv6 literal equal to ::1. Other spellings that happen to
     * reach loopback (127.1, 0x7f000001, [::ffff:127.0.0.1]) are refused, as by the extension.
     */
    private static function isLoopbackAuthority(string $authority): bool
    {
        if (str_starts_with($authority, '[')) {
            $literal = explode(']', substr($authority, 1), 2)[0];
            return filter_var($literal, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) !== false
                && inet_pton($literal) === inet_pton('::1');
        }
        $host = explode(':', $authority, 2)[0];
        return $host === 'localhost'
            || (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false && str_starts_with($host, '127.'));
    }

    private static function seconds(string $key, string $raw): float
    {
        $secs = self::number($raw);
        if ($secs === null || $secs <= 0.0 || $secs > self::MAX_TIMEOUT_SECS) {
            throw new ConfigurationException(sprintf(
                '%s must be a number of seconds above 0 and at most %s, got "%s"',
                $key,
                self::MAX_TIMEOUT_SECS,
                Escape::debug($raw)
            ), 2);
        }
        return $secs;
    }

    private static function secondsWithin(string $key, string $raw, float $min, float $max): float
    {
        $secs = self::number($raw);
        if ($secs === null || $secs < $min || $secs > $max) {
            throw new ConfigurationException(sprintf(
                '%s must be a number of seconds from %s to %s, got "%s"',
                $key,
                $min,
                $max,
                Escape::debug($raw)
            ), 2);
        }
        return $secs;
    }

    private static function bounded(string $key, string $raw, int $min, int $max): int
    {
        if (preg_match('/^\+?\d{1,10}$/', $raw) !== 1 || (int) $raw < $min || (int) $raw > $max) {
            throw new ConfigurationException(sprintf(
                '%s must be a whole number from %d to %d, got "%s"',
                $key,
                $min,
                $max,
                Escape::debug($raw)
            ), 2);
        }
        return (int) $raw;
    }

    /** An on/off setting: 1/0, on/off, true/false, yes/no (any case). */
    private static function flag(string $key, string $raw): bool
    {
        $value = strtolower($raw);
        if (in_array($value, ['1', 'on', 'true', 'yes'], true)) {
            return true;
        }
        if (in_array($value, ['0', 'off', 'false', 'no'], true)) {
            return false;
        }
        throw new ConfigurationException(sprintf('%s must be 0 or 1 (or on/off, true/false, yes/no), got "%s"', $key, Escape::debug($raw)), 2);
    }

    /** A finite decimal number as Rust's f64 parser reads it, or null. */
    private static function number(string $raw): ?float
    {
        if (preg_match('/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/', $raw) !== 1) {
            return null;
        }
        $value = (float) $raw;
        return is_finite($value) ? $value : null;
    }
}
