<?php
/**
 * closte.ca_file adds CAs to the system's roots (as in the extension); curl takes one bundle,
 * so the system bundle and the extra file are joined once per process and handed to curl in
 * memory (or, with an older libcurl, through a private file: see apply()).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\ConfigurationException;

final class CaBundle
{
    /** @var array<string, string> ca_file => joined bundle (PEM text), for this process */
    private static array $joined = [];

    /** @var array<string, string> ca_file => private bundle file, where curl cannot take it in memory */
    private static array $files = [];

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

    /**
     * Makes $handle trust the system's roots and $caFile's certificates. The joined bundle goes
     * to curl in memory (CURLOPT_CAINFO_BLOB, libcurl 7.77+ with a TLS backend that takes it);
     * only where curl cannot take it, into a file of this process's own (privateFile()). Never
     * a file at a predictable path in the shared temp directory: another local user could plant
     * their own CA there first, or a symlink.
     */
    public static function apply(\CurlHandle $handle, string $caFile): void
    {
        $bundle = self::bundle($caFile);
        if (self::blobSupported() && curl_setopt($handle, CURLOPT_CAINFO_BLOB, $bundle)) {
            return;
        }
        self::$files[$caFile] ??= self::privateFile($bundle);
        curl_setopt($handle, CURLOPT_CAINFO, self::$files[$caFile]);
    }

    /** Whether this PHP and the libcurl it runs with take a CA bundle in memory. */
    public static function blobSupported(): bool
    {
        return defined('CURLOPT_CAINFO_BLOB') && version_compare(curl_version()['version'], '7.77.0', '>=');
    }

    /**
     * $bundle in a new file only this process's user can read: a directory with a random name
     * made 0700 (mkdir fails on anything already there, a symlink included), the file created
     * inside it with O_EXCL (fopen 'x', which never follows a symlink), both removed when the
     * process ends.
     */
    public static function privateFile(string $bundle): string
    {
        $temp = rtrim(sys_get_temp_dir(), '/');
        $dir = $temp . '/closte-ca-' . bin2hex(random_bytes(16));
        $path = $dir . '/ca-bundle.pem';
        $file = @mkdir($dir, 0700) && chmod($dir, 0700) ? @fopen($path, 'x') : false;
        if ($file === false) {
            throw new ConfigurationException("cannot build the HTTP client: cannot create a private file for the closte.ca_file bundle in $temp", 2);
        }
        chmod($path, 0600);
        $written = fwrite($file, $bundle);
        fclose($file);
        register_shutdown_function(static function () use ($dir, $path): void {
            @unlink($path);
            @rmdir($dir);
        });
        if ($written !== strlen($bundle)) {
            throw new ConfigurationException("cannot build the HTTP client: cannot write the closte.ca_file bundle in $temp", 2);
        }
        return $path;
    }

    /** The system's roots and $caFile's certificates, joined once per process. */
    private static function bundle(string $caFile): string
    {
        if (isset(self::$joined[$caFile])) {
            return self::$joined[$caFile];
        }
        $system = '';
        foreach ([function_exists('openssl_get_cert_locations') ? (openssl_get_cert_locations()['default_cert_file'] ?? '') : '', '/etc/ssl/certs/ca-certificates.crt'] as $candidate) {
            if ($candidate !== '' && is_readable($candidate)) {
                $system = (string) file_get_contents($candidate);
                break;
            }
        }
        return self::$joined[$caFile] = $system . "\n" . file_get_contents($caFile);
    }
}
