<?php

declare(strict_types=1);

namespace Closte\Tests\Support;

use PHPUnit\Framework\TestCase;

/**
 * Every test starts with an empty simulator, the implementation under test pointed at it, and
 * the key set as a setting (the constant cannot be undefined again, so constant tests run in a
 * subprocess). The same tests run against the extension and against the PHP implementation
 * (CLOSTE_IMPL=php); what only the native build can do is in the group `native-only`.
 */
abstract class ClosteTestCase extends TestCase
{
    protected Simulator $sim;

    protected const RESULT_KEYS = [
        'ok', 'operation', 'domain', 'state', 'status', 'error', 'error_kind',
        'retryable', 'attempts', 'elapsed_ms', 'endpoint', 'response',
    ];

    protected function setUp(): void
    {
        // Jobs a previous test left behind must not leak into this one.
        if (closte_pending() > 0) {
            closte_wait([], 60.0);
        }
        closte_wait([], 0.0);
        $this->sim = Simulator::shared();
        $this->sim->reset();
        closte_test_ini_restore_all();
        closte_test_ini('closte.api_url', $this->sim->apiUrl());
        closte_test_ini('closte.api_key', CLOSTE_TEST_KEY);
        closte_test_ini('closte.timeout', '5');
        closte_test_ini('closte.max_retries', '2');
    }

    protected function assertResultShape(array $result, string $operation, array $extraKeys = []): void
    {
        $expected = array_merge(self::RESULT_KEYS, $extraKeys);
        sort($expected);
        $actual = array_keys($result);
        sort($actual);
        $this->assertSame($expected, $actual, "result keys of $operation");
        $this->assertSame($operation, $result['operation']);
        $this->assertIsBool($result['ok']);
        $this->assertIsString($result['state']);
        $this->assertIsInt($result['status']);
        $this->assertIsBool($result['retryable']);
        $this->assertIsInt($result['attempts']);
        $this->assertIsFloat($result['elapsed_ms']);
        $this->assertGreaterThanOrEqual(0.0, $result['elapsed_ms']);
        if ($result['ok'] || in_array($result['state'], ['pending', 'unknown'], true)) {
            $this->assertNull($result['error']);
            $this->assertNull($result['error_kind']);
        } else {
            $this->assertIsString($result['error']);
            $this->assertContains($result['error_kind'], [
                'auth', 'invalid_domain', 'rate_limited', 'server', 'timeout', 'network',
                'bad_response', 'not_found', 'tls', 'internal',
            ]);
        }
    }
}
