<?php

declare(strict_types=1);

namespace Closte\Tests\Support;

/**
 * A real closte-sim process and a client for its control API (plain PHP streams, so it does
 * not share code with the extension under test).
 */
final class Simulator
{
    private static ?Simulator $shared = null;

    /** @var resource|null */
    private $process = null;
    public int $port;
    /** Everything the simulator printed (it runs with --verbose). */
    public string $logFile = '';

    private function __construct(string $binary, string $key, array $extra)
    {
        $portFile = tempnam(sys_get_temp_dir(), 'closte-sim-port-');
        unlink($portFile);
        $this->logFile = tempnam(sys_get_temp_dir(), 'closte-sim-log-');
        $cmd = array_merge(
            [$binary, '--api-key', $key, '--port-file', $portFile, '--parent-pid', (string) getmypid(), '--verbose'],
            $extra
        );
        $this->process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->logFile, 'a'], 2 => ['file', $this->logFile, 'a']], $pipes);
        if (!is_resource($this->process)) {
            throw new \RuntimeException("cannot start $binary");
        }
        $deadline = microtime(true) + 10;
        while (!is_file($portFile)) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException('closte-sim did not report its port');
            }
            usleep(20000);
        }
        $this->port = (int) file_get_contents($portFile);
        unlink($portFile);
    }

    /** A simulator someone else started (the e2e harness), by port. */
    public static function attach(int $port): self
    {
        $sim = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $sim->port = $port;
        return $sim;
    }

    public static function start(string $binary, string $key, array $extra = []): self
    {
        return new self($binary, $key, $extra);
    }

    public static function startShared(string $binary, string $key): void
    {
        self::$shared = new self($binary, $key, []);
        register_shutdown_function(static function (): void {
            self::$shared?->stop();
        });
    }

    public static function shared(): self
    {
        return self::$shared;
    }

    /** Stops a simulator this object started and deletes its log (again: nothing). */
    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
        if ($this->logFile !== '' && is_file($this->logFile)) {
            unlink($this->logFile);
        }
    }

    /** A test that never called stop() leaves neither the process nor its log behind. */
    public function __destruct()
    {
        $this->stop();
    }

    public function port(): int
    {
        return $this->port;
    }

    public function apiUrl(): string
    {
        return "http://127.0.0.1:{$this->port}/api/client";
    }

    public function control(string $method, string $path, ?array $body = null): array
    {
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\nConnection: close\r\n",
            'content' => $body === null ? '' : json_encode($body),
            'ignore_errors' => true,
            'timeout' => 10,
        ]]);
        $raw = file_get_contents("http://127.0.0.1:{$this->port}/__sim$path", false, $context);
        $decoded = json_decode((string) $raw, true);
        if (!is_array($decoded)) {
            throw new \RuntimeException("bad control answer for $path: $raw");
        }
        return $decoded;
    }

    public function reset(): void
    {
        $this->control('POST', '/reset');
        $this->configure([
            'latency_ms' => 0,
            'ssl_endpoint' => '/ssl/install',
            'already_exists_message' => 'Domain alias already exists',
            'not_found_message' => 'Domain alias not found',
            'auth_status' => 200,
        ]);
    }

    public function configure(array $config): void
    {
        $this->control('POST', '/config', $config);
    }

    public function fault(array $fault): void
    {
        $answer = $this->control('POST', '/fault', $fault);
        if (($answer['ok'] ?? false) !== true) {
            throw new \RuntimeException('fault refused: ' . json_encode($answer));
        }
    }

    /** @return list<array<string, mixed>> */
    public function requests(): array
    {
        return $this->control('GET', '/requests')['requests'];
    }

    /** @return list<string> */
    public function domains(): array
    {
        return array_column($this->control('GET', '/state')['domains'], 'domain');
    }

    public function state(): array
    {
        return $this->control('GET', '/state');
    }

    /** The TLS front door's port (it serves, by SNI, the certificate held for each name). */
    public function frontDoorPort(): int
    {
        return (int) $this->state()['front_door_port'];
    }

    private ?string $caFile = null;

    /** A file with the simulator's test CA (PEM), for closte.verify_ca_file. */
    public function caFile(): string
    {
        if ($this->caFile === null) {
            $pem = file_get_contents("http://127.0.0.1:{$this->port}/__sim/ca.pem");
            if (!is_string($pem) || !str_contains($pem, '-----BEGIN CERTIFICATE-----')) {
                throw new \RuntimeException('closte-sim gave no CA certificate');
            }
            $file = tempnam(sys_get_temp_dir(), 'closte-sim-ca-');
            file_put_contents($file, $pem);
            register_shutdown_function(static fn () => @unlink($file));
            $this->caFile = $file;
        }
        return $this->caFile;
    }

    /**
     * Installs the certificate served for $name: ['kind' => valid|expiring|expired|not_yet_valid|
     * wrong_name|untrusted, 'days_left' => N, 'names' => [...]] or ['cert_pem' => .., 'key_pem' => ..].
     *
     * @return array<string, mixed> what the certificate says (names, issuer, dates, fingerprint)
     */
    public function installCertificate(string $name, array $certificate): array
    {
        $answer = $this->control('POST', '/certificates', ['name' => $name] + $certificate);
        if (($answer['ok'] ?? false) !== true) {
            throw new \RuntimeException('certificate refused: ' . json_encode($answer));
        }
        return $answer['certificate'];
    }

    /** @return array<string, array<string, mixed>> per SNI name: what is served, handshakes, requested */
    public function certificates(): array
    {
        return $this->control('GET', '/certificates')['certificates'];
    }
}
