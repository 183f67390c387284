<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * Every fault Closte (or the network in front of it) can produce, through the blocking call and
 * through closte_enqueue: the result kind, the call's duration bound, how many requests were
 * made (retries only where safe), and, once the fault clears, the domain added exactly once.
 */
final class FaultMatrixTest extends ClosteTestCase
{
    private const TIMEOUT = 1.0;
    private const RETRIES = 2;
    private const DOMAIN = 'matrix.example.com';

    protected function setUp(): void
    {
        parent::setUp();
        closte_test_ini('closte.timeout', (string) self::TIMEOUT);
        closte_test_ini('closte.connect_timeout', '1');
        closte_test_ini('closte.max_retries', (string) self::RETRIES);
    }

    /**
     * name => [fault (null: set up by the test), expected error_kind (null: ends ok), expected
     * /adddomainalias requests, retryable].
     *
     * @return array<string, array{0: ?array, 1: ?string, 2: int, 3: bool}>
     */
    public static function faults(): array
    {
        $all = 1 + self::RETRIES;
        return [
            'HTTP 500' => [['kind' => 'status', 'status' => 500], 'server', 1, true],
            'HTTP 502' => [['kind' => 'status', 'status' => 502], 'server', $all, true],
            'HTTP 503' => [['kind' => 'status', 'status' => 503], 'server', $all, true],
            '429 with Retry-After' => [['kind' => 'status', 'status' => 429, 'retry_after' => 1], 'rate_limited', $all, true],
            'hang past the timeout' => [['kind' => 'hang'], 'timeout', $all, true],
            'connection refused' => [null, 'network', $all, true],
            'reset mid-body' => [['kind' => 'reset'], 'network', $all, true],
            'malformed JSON' => [['kind' => 'malformed'], 'bad_response', 1, false],
            'HTML error page' => [['kind' => 'html', 'status' => 502], 'server', $all, true],
            'empty body' => [['kind' => 'empty'], 'bad_response', 1, false],
            'oversized body' => [['kind' => 'oversized', 'size' => 16 * 1024 * 1024], 'bad_response', 1, false],
            'wrong key' => [null, 'auth', 1, false],
            // Closte acted, but the answer trickles in past the timeout: the /getdomains
            // confirmation finds the alias, so the call ends well.
            'slow body trickle' => [['kind' => 'trickle', 'delay_ms' => 300], null, $all, false],
        ];
    }

    /** @dataProvider faults */
    #[DataProvider('faults')]
    public function testBlockingCall(?array $fault, ?string $kind, int $requests, bool $retryable): void
    {
        $this->check($fault, $kind, $requests, $retryable, static fn () => closte_add_domain(self::DOMAIN, 9));
    }

    /** @dataProvider faults */
    #[DataProvider('faults')]
    public function testEnqueuedCall(?array $fault, ?string $kind, int $requests, bool $retryable): void
    {
        $this->check($fault, $kind, $requests, $retryable, static function () {
            $id = closte_enqueue('add_domain', self::DOMAIN, 9);
            $results = closte_wait([$id], 60.0);
            return $results[$id];
        });
    }

    private function check(?array $fault, ?string $kind, int $requests, bool $retryable, callable $call): void
    {
        $restore = $this->inject($fault, $kind);

        $started = microtime(true);
        $result = $call();
        $elapsed = microtime(true) - $started;

        $addRequests = count(array_filter($this->sim->requests(), static fn ($r) => $r['path'] === '/adddomainalias'));
        if ($kind === 'network' && $fault === null) {
            $this->assertSame(0, $addRequests, 'the refused connection never reached the simulator');
            $this->assertSame($requests, $result['attempts']);
        } else {
            $this->assertSame($requests, $addRequests, 'requests to /adddomainalias (retries only where safe)');
        }
        // The bound of the contract: every attempt at its timeout plus the waits between them
        // (Retry-After 1 s here), plus one /getdomains confirmation, with room for a slow CI.
        $this->assertLessThan((self::TIMEOUT + 1.0) * (self::RETRIES + 1) * 2 + 5.0, $elapsed, 'returned within its deadline');

        if ($kind === null) {
            $this->assertTrue($result['ok'], json_encode($result));
            $this->assertSame('already_exists', $result['state']);
        } else {
            $this->assertFalse($result['ok'], json_encode($result));
            $this->assertSame($kind, $result['error_kind'], json_encode($result));
            $this->assertSame($retryable, $result['retryable']);
            $this->assertIsString($result['error']);
            $this->assertNotSame('', $result['error']);
            $this->assertNull($result['ssl']);
        }
        $this->assertSame(9, $result['site_id']);

        // The fault clears; the operation is done again (as the queue would) and the alias
        // exists exactly once.
        $restore();
        $again = closte_add_domain(self::DOMAIN, 9);
        $this->assertTrue($again['ok'], json_encode($again));
        $this->assertContains($again['state'], ['added', 'already_exists']);
        $this->assertSame([self::DOMAIN], $this->sim->domains());
        $applied = array_filter(
            $this->sim->requests(),
            static fn ($r) => $r['path'] === '/adddomainalias' && $r['fault'] === null && $r['key'] === 'valid'
        );
        $this->assertGreaterThanOrEqual(1, count($applied));
    }

    /** @return callable(): void that removes the fault */
    private function inject(?array $fault, ?string $kind): callable
    {
        if ($fault !== null) {
            $this->sim->fault($fault + ['path' => '/adddomainalias']);
            return fn () => $this->sim->control('POST', '/faults/clear');
        }
        if ($kind === 'network') {
            $socket = stream_socket_server('tcp://127.0.0.1:0');
            $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
            fclose($socket);
            closte_test_ini('closte.api_url', "http://127.0.0.1:$port/api/client");
            return fn () => closte_test_ini('closte.api_url', $this->sim->apiUrl());
        }
        closte_test_ini('closte.api_key', 'not-the-right-key');
        return static fn () => closte_test_ini('closte.api_key', CLOSTE_TEST_KEY);
    }

    public function testAnAnswerOfManySmallObjectsIsABadResponseNotAFatal(): void
    {
        // A legal JSON answer just under the 4 MiB body cap, made of a million tiny objects:
        // converted to PHP arrays it would need far more than a 64 MB memory_limit.
        $url = $this->sim->apiUrl();
        $this->sim->fault(['kind' => 'many', 'count' => 2]);
        $result = PhpProcess::run(<<<PHP
            closte_test_ini('closte.api_url', '$url');
            \$r = closte_list_domains();
            \$s = closte_ssl_status('example.com');
            echo json_encode([\$r['ok'], \$r['error_kind'], \$r['retryable'], \$s['error_kind'], memory_get_peak_usage() < 32 * 1024 * 1024]);
            PHP, ['closte.api_key' => CLOSTE_TEST_KEY, 'memory_limit' => '64M']);
        $this->assertSame(0, $result['exit'], 'no fatal: ' . $result['stderr'] . $result['stdout']);
        $this->assertSame([false, 'bad_response', false, 'bad_response', true], json_decode($result['stdout'], true));
    }

    /**
     * The 4 MiB body cap at its boundary: an answer of exactly the cap is read, one byte more is
     * refused, whether the size is announced (Content-Length) or only found while streaming
     * (chunked).
     *
     * @return array<string, array{0: int, 1: bool, 2: bool}>
     */
    public static function bodySizes(): array
    {
        $cap = 4 * 1024 * 1024;
        return [
            'exactly the cap, with a length' => [$cap, false, true],
            'exactly the cap, chunked' => [$cap, true, true],
            'one byte past, with a length' => [$cap + 1, false, false],
            'one byte past, chunked' => [$cap + 1, true, false],
        ];
    }

    /** @dataProvider bodySizes */
    #[DataProvider('bodySizes')]
    public function testTheBodyCapAcceptsItsOwnSizeAndRefusesOneByteMore(int $size, bool $chunked, bool $accepted): void
    {
        $this->sim->fault(['kind' => 'padded', 'size' => $size, 'chunked' => $chunked, 'count' => 1, 'path' => '/getdomains']);
        $result = closte_list_domains();
        if ($accepted) {
            $this->assertTrue($result['ok'], json_encode($result));
            $this->assertSame('listed', $result['state']);
        } else {
            $this->assertFalse($result['ok']);
            $this->assertSame('bad_response', $result['error_kind']);
            $this->assertSame("Closte's answer exceeds 4194304 bytes; not read", $result['error']);
            $this->assertSame(1, $result['attempts']);
        }
    }
}
