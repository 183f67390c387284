<?php
/**
 * closte_check_dns and closte_verify_certificate of the PHP implementation (closte-core
 * net/verify.rs in the extension): a name's DNS compared with the network's main host, and the
 * certificate a visitor of the name is shown, by a TLS handshake with SNI = the name at the
 * address it resolves to.
 *
 * The handshake accepts whatever certificate is presented (so that its details can be
 * reported); trust is decided afterwards, separately: the presented chain must verify for a TLS
 * server against the system's roots (and closte.verify_ca_file), name ignored
 * (openssl_x509_checkpurpose); whether it covers the name, and when, is CertificateVerdict's.
 * A mapped domain and what it resolves to are chosen by a customer: every address is judged by
 * AddressPolicy before anything connects to it. Nothing is sent after the handshake. Every
 * failure is a result, never a warning or an exception.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\ConfigurationException;
use Closte\InvalidDomainException;

final class CertificateCheck
{
    /** How often a connect or handshake in progress is looked at (the loop stays free meanwhile). */
    private const POLL_SECS = 0.005;
    /** TLS 1.2 and 1.3, what the extension's rustls speaks. */
    private const TLS_METHODS = STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT | STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT;

    public function __construct(private readonly Settings $settings)
    {
    }

    /**
     * A name the checks resolve: a valid domain name, not a wildcard (which has no address of
     * its own), or InvalidDomainException (code 1).
     */
    public static function name(string $input): DomainName
    {
        $name = DomainName::parse($input);
        if ($name->wildcard) {
            throw new InvalidDomainException("invalid domain \"{$name->name}\": a wildcard name has no address of its own; check a name under it", 1);
        }
        return $name;
    }

    /**
     * closte.verify_ca_file holds at least one PEM certificate, or ConfigurationException (code 2),
     * thrown before the check connects anywhere (the extension's message).
     */
    public static function checkCaFile(string $path): void
    {
        $pem = is_file($path) && is_readable($path) ? (string) @file_get_contents($path) : '';
        if (preg_match_all('/-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+\/=\s]+?)\s*-----END CERTIFICATE-----/', $pem, $blocks) < 1
            || in_array(false, array_map(static fn (string $body): bool => base64_decode($body, true) !== false, $blocks[1]), true)) {
            throw new ConfigurationException(sprintf(
                'closte.verify_ca_file must be a readable PEM file with at least one certificate, got "%s"',
                Escape::debug($path)
            ), 2);
        }
    }

    /** closte_check_dns: both names through THE resolver, then DnsReadiness. */
    public function checkDns(DomainName $name, DomainName $expected): Outcome
    {
        $started = microtime(true);
        $outcome = new Outcome(Operation::CheckDns, $name->name);
        $outcome->addAttempts(1);
        $resolved = Resolver::resolve($name->name, $this->settings->resolve);
        $main = isset($resolved['failure']) ? $resolved : Resolver::resolve($expected->name, $this->settings->resolve);
        if (isset($main['failure'])) {
            $outcome->failWith(State::Failed, ErrorKind::NETWORK, $main['failure']);
        } else {
            $readiness = DnsReadiness::decide($resolved['addresses'], $main['addresses']);
            $outcome->succeed($readiness['ready'] ? State::DnsReady : State::DnsNotReady, 0, null);
            $outcome->setDetails([
                'ready' => $readiness['ready'],
                'reason' => $readiness['reason'],
                'addresses' => $resolved['addresses'],
                'expected' => $expected->name,
                'expected_addresses' => $main['addresses'],
                'unexpected' => $readiness['unexpected'],
                'source' => $resolved['source'],
            ]);
        }
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }

    /**
     * closte_verify_certificate, as a coroutine of the Scheduler (it yields Sleep while a
     * connect or handshake is under way, so that jobs check several names at once).
     *
     * @return \Generator<int, Sleep, mixed, Outcome>
     */
    public function verify(DomainName $name): \Generator
    {
        $started = microtime(true);
        $deadline = $started + $this->settings->timeout;
        $outcome = new Outcome(Operation::VerifyCertificate, $name->name);
        $port = $this->settings->tlsCheckPort;
        $certificate = [
            'status' => null, 'address' => null, 'port' => $port, 'issuer' => null, 'issuer_organization' => null,
            'subject' => null, 'names' => [], 'not_before' => null, 'not_after' => null, 'days_left' => null,
            'fingerprint' => null, 'checked_at' => time(), 'detail' => '',
        ];
        $finish = static function (string $status, ?string $kind, string $detail, array $facts = []) use ($outcome, &$certificate, $started): Outcome {
            $certificate = array_replace($certificate, ['status' => $status], $facts); // keys in the documented order
            $certificate['detail'] = $detail;
            $classified = !in_array($status, ['no_tls', 'unreachable', 'no_address', 'refused_address'], true);
            if ($kind === null) {
                $outcome->succeed(State::Verified, 0, null);
            } else {
                $outcome->failWith($classified ? State::Verified : State::Failed, $kind, $detail);
            }
            $outcome->setDetails($certificate);
            $outcome->setElapsedMs((microtime(true) - $started) * 1000);
            return $outcome;
        };

        if (!extension_loaded('openssl')) {
            // This PHP cannot speak TLS: nothing is known about the certificate (not the server's fault).
            return $finish('unreachable', ErrorKind::INTERNAL, "cannot check the certificate of {$name->name}: PHP's openssl extension is not loaded");
        }
        $resolved = Resolver::resolve($name->name, $this->settings->resolve);
        if (isset($resolved['failure'])) {
            return $finish('unreachable', ErrorKind::NETWORK, $resolved['failure']);
        }
        if ($resolved['addresses'] === []) {
            return $finish('no_address', ErrorKind::NETWORK, "{$name->name} has no address");
        }
        $refused = null;
        $last = null; // [address, kind, why] of the last connection that failed
        foreach ($resolved['addresses'] as $address) {
            $judgement = AddressPolicy::judge($address, $this->settings->allowPrivateTargets);
            if (!$judgement['allowed']) {
                $refused ??= $judgement;
                continue;
            }
            $outcome->addAttempts(1);
            [$stream, $kind, $why] = yield from $this->connect($address, $port, $deadline);
            if ($stream === null) {
                $last = [$address, $kind, $why];
                continue;
            }
            $facts = ['address' => $address];
            [$presented, $kind, $why] = yield from $this->handshake($stream, $name->name, $deadline);
            if ($presented === null) {
                $detail = 'no TLS on ' . self::target($address, $port) . ": $why";
                return $kind === ErrorKind::TIMEOUT
                    ? $finish('unreachable', $kind, $detail, $facts) // the server never finished: try again later
                    : $finish('no_tls', ErrorKind::TLS, $detail, $facts);
            }
            return $this->classify($name->name, $presented, $facts, $finish);
        }
        if ($last !== null) {
            return $finish('unreachable', $last[1], $last[2], ['address' => $last[0]]);
        }
        // Every address refused by the policy ($refused is set: the list was not empty).
        return $finish('refused_address', ErrorKind::INVALID_DOMAIN, sprintf(
            '%s resolves to %s (%s): not connected',
            $name->name,
            $refused['address'],
            $refused['range'] ?? 'special'
        ), ['address' => $refused['address']]);
    }

    /**
     * A TCP connection to $address:$port within closte.connect_timeout (and the check's
     * deadline), without blocking the loop.
     *
     * @return \Generator<int, Sleep, mixed, array{0: resource|null, 1: ?string, 2: ?string}> [stream, failure kind, why]
     */
    private function connect(string $address, int $port, float $deadline): \Generator
    {
        $target = self::target($address, $port);
        $context = stream_context_create(['ssl' => [
            'verify_peer' => false, // trust is decided afterwards, from what was presented
            'verify_peer_name' => false,
            'allow_self_signed' => true,
            'SNI_enabled' => true,
            'capture_peer_cert' => true,
            'capture_peer_cert_chain' => true,
        ]]);
        $connectTimeout = $this->settings->connectTimeout;
        $errno = 0;
        $errstr = '';
        [$stream, $warning] = Quiet::call(static function () use ($target, $context, $connectTimeout, &$errno, &$errstr) {
            return stream_socket_client("tcp://$target", $errno, $errstr, $connectTimeout, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT, $context);
        });
        if (!is_resource($stream)) {
            return [null, ErrorKind::NETWORK, "cannot connect to $target: " . ($errstr !== '' ? $errstr : ($warning ?? 'connection failed'))];
        }
        $budget = max(0.0, min($connectTimeout, $deadline - microtime(true)));
        $until = microtime(true) + $budget;
        while (true) {
            $read = $except = null;
            $write = [$stream];
            [$ready] = Quiet::call(static fn () => stream_select($read, $write, $except, 0, 0));
            if (is_int($ready) && $ready > 0) {
                break;
            }
            if (microtime(true) >= $until) {
                fclose($stream);
                return [null, ErrorKind::TIMEOUT, sprintf('cannot connect to %s: no answer within %s s', $target, round($budget, 3))];
            }
            yield new Sleep(self::POLL_SECS);
        }
        if (stream_socket_get_name($stream, true) === false) {
            // Writable but not connected: the connect failed. Streams do not tell why; the
            // sockets extension, where loaded, reads the socket's error.
            $why = 'the connection was refused or reset';
            if (function_exists('socket_import_stream')) {
                [$socket] = Quiet::call(static fn () => socket_import_stream($stream));
                [$errno] = $socket instanceof \Socket ? Quiet::call(static fn () => socket_get_option($socket, SOL_SOCKET, SO_ERROR)) : [0];
                if (is_int($errno) && $errno > 0) {
                    $why = socket_strerror($errno);
                }
            }
            fclose($stream);
            return [null, ErrorKind::NETWORK, "cannot connect to $target: $why"];
        }
        return [$stream, null, null];
    }

    /**
     * One TLS handshake with SNI = $name on a connected stream; the stream is closed afterwards.
     *
     * @param resource $stream
     * @return \Generator<int, Sleep, mixed, array{0: ?array{leaf: \OpenSSLCertificate, chain: list<\OpenSSLCertificate>}, 1: ?string, 2: ?string}>
     */
    private function handshake($stream, string $name, float $deadline): \Generator
    {
        stream_context_set_option($stream, 'ssl', 'peer_name', $name);
        stream_set_blocking($stream, false);
        try {
            while (true) {
                [$done, $warning] = Quiet::call(static fn () => stream_socket_enable_crypto($stream, true, self::TLS_METHODS));
                if ($done === true) {
                    break;
                }
                if ($done === false) {
                    return [null, ErrorKind::TLS, self::opensslReason($warning)];
                }
                if (microtime(true) >= $deadline) {
                    return [null, ErrorKind::TIMEOUT, sprintf('no handshake within %s s (closte.timeout)', $this->settings->timeout)];
                }
                yield new Sleep(self::POLL_SECS);
            }
            $options = stream_context_get_options($stream)['ssl'] ?? [];
            $leaf = $options['peer_certificate'] ?? null;
            if (!$leaf instanceof \OpenSSLCertificate) {
                return [null, ErrorKind::TLS, 'the server presented no certificate'];
            }
            $chain = array_values(array_filter($options['peer_certificate_chain'] ?? [], static fn ($c): bool => $c instanceof \OpenSSLCertificate));
            return [['leaf' => $leaf, 'chain' => $chain], null, null];
        } finally {
            Quiet::call(static fn () => fclose($stream));
            self::clearOpensslErrors();
        }
    }

    /**
     * The presented certificate's facts and status.
     *
     * @param array{leaf: \OpenSSLCertificate, chain: list<\OpenSSLCertificate>} $presented
     */
    private function classify(string $name, array $presented, array $facts, \Closure $finish): Outcome
    {
        $leaf = $presented['leaf'];
        [$parsed] = Quiet::call(static fn () => openssl_x509_parse($leaf, false));
        if (!is_array($parsed) || !isset($parsed['validFrom_time_t'], $parsed['validTo_time_t'])) {
            // A certificate nobody can read is nothing a visitor's browser trusts (as net/mod.rs).
            self::clearOpensslErrors();
            return $finish('untrusted', ErrorKind::TLS, "the certificate presented for $name cannot be read", $facts);
        }
        [$fingerprint] = Quiet::call(static fn () => openssl_x509_fingerprint($leaf, 'sha256'));
        $facts += [
            'issuer' => self::field($parsed['issuer'] ?? [], 'commonName'),
            'issuer_organization' => self::field($parsed['issuer'] ?? [], 'organizationName'),
            'subject' => self::field($parsed['subject'] ?? [], 'commonName'),
            'names' => self::dnsNames($parsed['extensions']['subjectAltName'] ?? ''),
            'not_before' => (int) $parsed['validFrom_time_t'],
            'not_after' => (int) $parsed['validTo_time_t'],
            'fingerprint' => is_string($fingerprint) ? strtolower($fingerprint) : null,
        ];
        $now = time();
        $verdict = CertificateVerdict::status([
            'name' => $name,
            'names' => $facts['names'],
            'not_before' => $facts['not_before'],
            'not_after' => $facts['not_after'],
            'now' => $now,
            'trusted' => $this->trusted($leaf, array_slice($presented['chain'], 1)),
        ]);
        $facts['days_left'] = $verdict['days_left'];
        $facts['checked_at'] = $now;
        // The log line, in net/mod.rs's words.
        $issuer = $facts['issuer'] ?? 'unknown';
        $detail = match ($verdict['status']) {
            'active', 'expiring' => sprintf('certificate of %s (issuer %s) expires on %s (in %d days)', $name, $issuer, gmdate('Y-m-d', $facts['not_after']), $verdict['days_left']),
            'expired' => sprintf('certificate of %s (issuer %s) expired on %s', $name, $issuer, gmdate('Y-m-d', $facts['not_after'])),
            'not_yet_valid' => sprintf('certificate of %s (issuer %s) is not valid before %s', $name, $issuer, gmdate('Y-m-d', $facts['not_before'])),
            'name_mismatch' => sprintf('the certificate names %s, not %s', $facts['names'] === [] ? 'no DNS name' : implode(', ', $facts['names']), $name),
            'untrusted' => sprintf('certificate of %s (issuer %s) does not chain to a trusted root', $name, $issuer),
        };
        $good = in_array($verdict['status'], ['active', 'expiring'], true);
        return $finish($verdict['status'], $good ? null : ErrorKind::TLS, $detail, $facts);
    }

    /**
     * Whether $leaf verifies for a TLS server against the system's roots and
     * closte.verify_ca_file, with the other presented certificates as untrusted intermediates
     * (given to OpenSSL as a temporary PEM file, removed afterwards). The name is not checked
     * here (CertificateVerdict::covers decides it).
     *
     * @param list<\OpenSSLCertificate> $intermediates
     */
    private function trusted(\OpenSSLCertificate $leaf, array $intermediates): bool
    {
        $anchors = [];
        $locations = openssl_get_cert_locations();
        foreach (['default_cert_file', 'default_cert_dir'] as $key) {
            $path = $locations[$key] ?? '';
            if (is_string($path) && $path !== '' && file_exists($path)) {
                $anchors[] = $path;
            }
        }
        if ($this->settings->verifyCaFile !== null) {
            $anchors[] = $this->settings->verifyCaFile;
        }
        $untrusted = null;
        try {
            if ($intermediates !== []) {
                $pem = '';
                foreach ($intermediates as $certificate) {
                    openssl_x509_export($certificate, $text);
                    $pem .= $text;
                }
                $untrusted = tempnam(sys_get_temp_dir(), 'closte-chain-');
                if ($untrusted === false || file_put_contents($untrusted, $pem) !== strlen($pem)) {
                    return false;
                }
            }
            [$verified] = Quiet::call(static fn () => $untrusted === null
                ? openssl_x509_checkpurpose($leaf, X509_PURPOSE_SSL_SERVER, $anchors)
                : openssl_x509_checkpurpose($leaf, X509_PURPOSE_SSL_SERVER, $anchors, $untrusted));
            return $verified === true;
        } finally {
            if (is_string($untrusted)) {
                @unlink($untrusted);
            }
            self::clearOpensslErrors();
        }
    }

    /** "DNS:a.example, IP Address:1.2.3.4, DNS:b.example" → [a.example, b.example], in certificate order. */
    private static function dnsNames(mixed $subjectAltName): array
    {
        $names = [];
        foreach (is_string($subjectAltName) ? explode(',', $subjectAltName) : [] as $entry) {
            $entry = trim($entry);
            if (str_starts_with($entry, 'DNS:')) {
                $names[] = substr($entry, 4);
            }
        }
        return $names;
    }

    /** A distinguished name's field (the first, when given more than once), or null. */
    private static function field(mixed $dn, string $key): ?string
    {
        $value = is_array($dn) ? ($dn[$key] ?? null) : null;
        if (is_array($value)) {
            $value = $value[0] ?? null;
        }
        return is_string($value) ? $value : null;
    }

    private static function target(string $address, int $port): string
    {
        return str_contains($address, ':') ? "[$address]:$port" : "$address:$port";
    }

    /** The OpenSSL reason of a failed handshake, from PHP's warning. */
    private static function opensslReason(?string $warning): string
    {
        if ($warning === null) {
            return 'the TLS handshake failed';
        }
        if (preg_match('/error:[0-9A-Fa-f]+:[^:]*:[^:]*:(.+)$/', $warning, $m) === 1) {
            return trim($m[1]);
        }
        return $warning;
    }

    /** OpenSSL's error queue emptied, so that nothing of this check shows in a later openssl_error_string(). */
    private static function clearOpensslErrors(): void
    {
        while (openssl_error_string() !== false) {
            // drained
        }
    }
}
