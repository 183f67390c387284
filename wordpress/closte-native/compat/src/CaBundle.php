<?php
/**
 * closte.ca_file adds CAs to the system's roots (as in the extension); curl takes one bundle,
 * so the system bundle and the extra file are joined once into a file in the temp directory.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\ConfigurationException;

final class CaBundle
{
    /** @var array<string, string> ca_file => joined bundle, for this process */
    private static array $joined = [];

    /** @var array<string, true> ca files found usable in this process (read once, like the extension's client) */
    private static array $usable = [];

    /** Checks that $caFile holds at least one PEM certificate, or ConfigurationException. */
    public static function check(string $caFile): void
    {
        if (isset(self::$usable[$caFile])) {
            return;
        }
        $error = null;
        if (!is_file($caFile) || !is_readable($caFile)) {
            $error = is_dir($caFile) ? 'is a directory' : 'cannot be read (no such file, or no permission)';
        } else {
            $pem = (string) file_get_contents($caFile);
            if (preg_match_all('/-----BEGIN CERTIFICATE-----[A-Za-z0-9+\/=\s]+-----END CERTIFICATE-----/', $pem) < 1) {
                $error = 'holds no PEM certificate';
            }
        }
        if ($error !== null) {
            throw new ConfigurationException("cannot build the HTTP client: closte.ca_file $caFile: $error", 2);
        }
        self::$usable[$caFile] = true;
    }

    /** The path of a bundle with the system's roots and $caFile's certificates. */
    public static function with(string $caFile): string
    {
        if (isset(self::$joined[$caFile]) && is_file(self::$joined[$caFile])) {
            return self::$joined[$caFile];
        }
        $system = '';
        foreach ([function_exists('openssl_get_cert_locations') ? (openssl_get_cert_locations()['default_cert_file'] ?? '') : '', '/etc/ssl/certs/ca-certificates.crt'] as $candidate) {
            if ($candidate !== '' && is_readable($candidate)) {
                $system = (string) file_get_contents($candidate);
                break;
            }
        }
        $bundle = $system . "\n" . file_get_contents($caFile);
        $path = sys_get_temp_dir() . '/closte-ca-' . hash('sha256', $bundle) . '.pem';
        if (!is_file($path)) {
            $temp = $path . '.' . getmypid();
            file_put_contents($temp, $bundle);
            rename($temp, $path);
        }
        return self::$joined[$caFile] = $path;
    }
}
