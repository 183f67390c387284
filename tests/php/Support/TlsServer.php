<?php

declare(strict_types=1);

namespace Closte\Tests\Support;

/**
 * A TLS server on 127.0.0.1 for the certificate check's tests: a child `php -n` process that
 * presents, by SNI, the certificate chain given for that name (an unknown name gets the default
 * chain, like a real server's default virtual host), and counts the connections it accepted;
 * or, $plain, a server that answers in plain text and closes (no TLS).
 * The certificates come from TestPki. Nothing is read or sent after the handshake.
 */
final class TlsServer
{
    /** @var resource */
    private $process;
    private int $port;
    private string $log;

    /**
     * @param array<string, array{cert: string, key: string}> $byName SNI name => PEM files
     *        (cert: the leaf, then any intermediates)
     * @param array{cert: string, key: string} $default
     * @param bool $plain no TLS at all: each connection gets a line of plain text and is closed
     */
    public function __construct(string $dir, array $byName, array $default, bool $plain = false)
    {
        $this->log = $dir . ($plain ? '/plain-connections.log' : '/connections.log');
        $script = "$dir/server.php";
        file_put_contents($script, self::SCRIPT);
        $config = json_encode(['by_name' => $byName, 'default' => $default, 'log' => $this->log, 'plain' => $plain], JSON_THROW_ON_ERROR);
        $process = proc_open([PHP_BINARY, '-n', $script, $config], [1 => ['pipe', 'w'], 2 => ['file', "$dir/server.err", 'a']], $pipes);
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot start the TLS server');
        }
        $this->process = $process;
        $line = fgets($pipes[1]);
        if (!is_string($line) || preg_match('/^port (\d+)$/', trim($line), $m) !== 1) {
            throw new \RuntimeException('the TLS server did not start: ' . var_export($line, true) . ' ' . @file_get_contents("$dir/server.err"));
        }
        $this->port = (int) $m[1];
    }

    public function port(): int
    {
        return $this->port;
    }

    /** Connections accepted so far. */
    public function connections(): int
    {
        clearstatcache();
        return is_file($this->log) ? count(file($this->log)) : 0;
    }

    public function stop(): void
    {
        proc_terminate($this->process);
        proc_close($this->process);
    }

    private const SCRIPT = <<<'PHP'
        <?php
        $config = json_decode($argv[1], true);
        $sni = [];
        foreach ($config['by_name'] as $name => $files) {
            $sni[$name] = ['local_cert' => $files['cert'], 'local_pk' => $files['key']];
        }
        $context = stream_context_create(['ssl' => [
            'local_cert' => $config['default']['cert'],
            'local_pk' => $config['default']['key'],
            'SNI_server_certs' => $sni,
            'verify_peer' => false,
        ]]);
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $context);
        if ($server === false) {
            fwrite(STDERR, "$errstr\n");
            exit(1);
        }
        echo 'port ', parse_url('tcp://' . stream_socket_get_name($server, false), PHP_URL_PORT), "\n";
        fflush(STDOUT);
        while (true) {
            $client = @stream_socket_accept($server, 3600);
            if ($client === false) {
                continue;
            }
            file_put_contents($config['log'], "connection\n", FILE_APPEND);
            if ($config['plain']) {
                @fwrite($client, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
                @fclose($client);
                continue;
            }
            stream_set_timeout($client, 5);
            @stream_socket_enable_crypto($client, true, STREAM_CRYPTO_METHOD_TLS_SERVER);
            @fread($client, 1); // until the client closes
            @fclose($client);
        }
        PHP;
}

/**
 * Certificates for the TLS server: a test CA (its PEM file is what closte.verify_ca_file
 * names), an intermediate under it, a second CA nobody trusts, and leaves signed by any of them.
 */
final class TestPki
{
    private const KEY = ['private_key_type' => OPENSSL_KEYTYPE_EC, 'curve_name' => 'prime256v1'];

    /** @var array<string, array{cert: \OpenSSLCertificate, key: \OpenSSLAsymmetricKey, pem: string}> */
    private array $cas = [];
    private int $serial = 1;

    public function __construct(public readonly string $dir)
    {
        $this->cas['root'] = $this->authority('Closte Test Root', null);
        $this->cas['intermediate'] = $this->authority('Closte Test R1', 'root');
        $this->cas['stranger'] = $this->authority('Stranger Root', null);
    }

    /** The PEM file of a CA ('root', 'intermediate', 'stranger'). */
    public function caFile(string $ca): string
    {
        $path = "{$this->dir}/ca-$ca.pem";
        file_put_contents($path, $this->cas[$ca]['pem']);
        return $path;
    }

    /**
     * A leaf for $names (SAN DNS), signed by $ca, valid from now for $days days: PEM files (the
     * intermediate follows the leaf when it signed).
     *
     * @param list<string> $names
     * @return array{cert: string, key: string}
     */
    public function leaf(string $file, array $names, string $ca = 'intermediate', int $days = 90): array
    {
        $key = openssl_pkey_new(self::KEY);
        $config = $this->config('subjectAltName = ' . implode(',', array_map(static fn (string $n): string => "DNS:$n", $names))
            . "\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth");
        $options = ['config' => $config, 'x509_extensions' => 'ext', 'digest_alg' => 'sha256'];
        $csr = openssl_csr_new(['commonName' => $names[0] ?? 'nameless'], $key, $options);
        $cert = openssl_csr_sign($csr, $this->cas[$ca]['cert'], $this->cas[$ca]['key'], $days, $options, $this->serial++);
        openssl_x509_export($cert, $pem);
        return $this->write($file, $pem . ($ca === 'intermediate' ? $this->cas['intermediate']['pem'] : ''), $key);
    }

    /**
     * A leaf for $name signed by the intermediate that expired a day ago, made with the openssl
     * command (PHP cannot sign with a validity in the past); null without it.
     *
     * @return array{cert: string, key: string}|null
     */
    public function expiredLeaf(string $file, string $name): ?array
    {
        $key = openssl_pkey_new(self::KEY);
        $options = ['config' => $this->config(''), 'digest_alg' => 'sha256'];
        $csr = openssl_csr_new(['commonName' => $name], $key, $options);
        openssl_csr_export($csr, $csrPem);
        $base = "{$this->dir}/$file";
        file_put_contents("$base.csr", $csrPem);
        file_put_contents("$base.ext", "subjectAltName = DNS:$name\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n");
        file_put_contents("$base.ca.pem", $this->cas['intermediate']['pem']);
        openssl_pkey_export($this->cas['intermediate']['key'], $caKey);
        file_put_contents("$base.ca.key", $caKey);
        $command = ['openssl', 'x509', '-req', '-in', "$base.csr", '-CA', "$base.ca.pem", '-CAkey', "$base.ca.key",
            '-set_serial', (string) $this->serial++, '-extfile', "$base.ext", '-sha256', '-out', "$base.leaf.pem"];
        // OpenSSL 3.0 (Debian 12) signs with '-days -1'; 3.4+ (trixie's 3.5) refuses a negative
        // count and takes the dates instead.
        $validity = [
            ['-days', '-1'],
            ['-not_before', gmdate('YmdHis\\Z', time() - 2 * 86400), '-not_after', gmdate('YmdHis\\Z', time() - 86400)],
        ];
        foreach ($validity as $dates) {
            if (is_file("$base.leaf.pem")) {
                unlink("$base.leaf.pem");
            }
            $process = @proc_open([...$command, ...$dates], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
            if (is_resource($process) && proc_close($process) === 0 && is_file("$base.leaf.pem")) {
                break;
            }
        }
        if (!is_file("$base.leaf.pem")) {
            return null;
        }
        return $this->write($file, file_get_contents("$base.leaf.pem") . $this->cas['intermediate']['pem'], $key);
    }

    /** @return array{cert: \OpenSSLCertificate, key: \OpenSSLAsymmetricKey, pem: string} */
    private function authority(string $commonName, ?string $issuer): array
    {
        $key = openssl_pkey_new(self::KEY);
        $config = $this->config("basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash");
        $options = ['config' => $config, 'x509_extensions' => 'ext', 'digest_alg' => 'sha256'];
        $csr = openssl_csr_new(['commonName' => $commonName, 'organizationName' => 'closte tests'], $key, $options);
        $signer = $issuer === null ? [null, $key] : [$this->cas[$issuer]['cert'], $this->cas[$issuer]['key']];
        $cert = openssl_csr_sign($csr, $signer[0], $signer[1], 30, $options, $this->serial++);
        openssl_x509_export($cert, $pem);
        return ['cert' => $cert, 'key' => $key, 'pem' => $pem];
    }

    private function config(string $extensions): string
    {
        $path = "{$this->dir}/openssl-" . md5($extensions) . '.cnf';
        file_put_contents($path, "[req]\ndistinguished_name = dn\n[dn]\n[ext]\n$extensions\n");
        return $path;
    }

    /** @return array{cert: string, key: string} */
    private function write(string $file, string $chainPem, \OpenSSLAsymmetricKey $key): array
    {
        openssl_pkey_export($key, $keyPem);
        $files = ['cert' => "{$this->dir}/$file.pem", 'key' => "{$this->dir}/$file.key"];
        file_put_contents($files['cert'], $chainPem);
        file_put_contents($files['key'], $keyPem);
        return $files;
    }
}
