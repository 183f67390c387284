<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;

/** The API key never appears in results, exceptions, stats, phpinfo or the simulator's record. */
final class SecretsTest extends ClosteTestCase
{
    public function testTheKeyAppearsNowhere(): void
    {
        $seen = [];
        $seen[] = closte_add_domain('example.com');
        $seen[] = closte_remove_domain('example.com');
        $seen[] = closte_list_domains();
        $seen[] = closte_test_connection();
        $seen[] = closte_ssl_status('example.com');

        $this->sim->fault(['kind' => 'reset', 'count' => 3]);
        $seen[] = closte_list_domains();
        $this->sim->fault(['kind' => 'html', 'status' => 503, 'count' => 3]);
        $seen[] = closte_list_domains();

        closte_test_ini('closte.api_url', 'http://127.0.0.1:1/api/client');
        $seen[] = closte_add_domain('example.com');
        closte_test_ini('closte.api_url', $this->sim->apiUrl());

        try {
            closte_add_domain('bad domain');
        } catch (\Closte\Exception $e) {
            $seen[] = $e->getMessage() . (string) $e;
        }
        closte_test_ini('closte.timeout', 'x');
        try {
            closte_list_domains();
        } catch (\Closte\Exception $e) {
            $seen[] = $e->getMessage() . (string) $e;
        }
        closte_test_ini('closte.timeout', '5');
        $seen[] = closte_stats();
        $seen[] = $this->sim->requests();
        $seen[] = $this->sim->state();

        $simulatorLog = (string) file_get_contents($this->sim->logFile);
        $this->assertStringContainsString('POST /api/client/adddomainalias', $simulatorLog, 'the simulator logged the requests');
        $seen[] = $simulatorLog;

        $haystack = var_export($seen, true);
        $this->assertStringContainsString('network', $haystack, 'the failures above really happened');
        $this->assertStringNotContainsString(CLOSTE_TEST_KEY, $haystack);
        // not even a prefix, as the stock integration logs the first 10 characters
        $this->assertStringNotContainsString(substr(CLOSTE_TEST_KEY, 0, 10), $haystack);
    }

    public function testKeyIsAbsentFromPhpinfoAndErrorOutput(): void
    {
        $result = PhpProcess::run(
            'phpinfo(); closte_test_ini("closte.api_url", "http://127.0.0.1:1/x"); var_dump(closte_list_domains()); '
            . 'try { closte_add_domain("a b"); } catch (Throwable $e) { echo $e; }',
            ['closte.api_key' => CLOSTE_TEST_KEY, 'display_errors' => '1', 'error_reporting' => '-1']
        );
        $this->assertSame(0, $result['exit'], $result['stderr']);
        if (CLOSTE_TEST_IMPL === 'extension') {
            $this->assertStringContainsString('closte.api_key', $result['stdout'], 'phpinfo lists the setting, masked');
        }
        $this->assertStringContainsString('"network"', $result['stdout'], 'the failing call ran, with the key configured');
        $this->assertStringNotContainsString(CLOSTE_TEST_KEY, $result['stdout'] . $result['stderr']);
    }

    public function testAKeyEchoedByTheServerIsCutFromEveryResultAndLogLine(): void
    {
        // The key is refused, and the answer quotes it back: in the error text and in a field.
        $this->sim->configure(['api_keys' => ['another-key'], 'auth_error_message' => 'Invalid API key: ' . CLOSTE_TEST_KEY]);
        try {
            $blocking = closte_add_domain('echo.example.com');
            $this->assertSame('auth', $blocking['error_kind']);
            $this->assertStringContainsString('Invalid API key: [redacted]', (string) $blocking['error']);
            $listing = closte_list_domains();
            $result = PhpProcess::run(
                "closte_enqueue('add_domain', 'uncollected.example.com'); echo 'queued';",
                ['closte.api_key' => CLOSTE_TEST_KEY, 'closte.api_url' => $this->sim->apiUrl(), 'log_errors' => '1', 'error_log' => '']
            );
            $this->assertStringContainsString('never collected', $result['stderr'], 'the uncollected failure was logged');
            $everything = json_encode([$blocking, $listing]) . $result['stdout'] . $result['stderr'];
            $this->assertStringNotContainsString(CLOSTE_TEST_KEY, $everything);
            $this->assertStringContainsString('[redacted]', $result['stderr']);
        } finally {
            $this->sim->configure(['api_keys' => [CLOSTE_TEST_KEY], 'auth_error_message' => 'Invalid API Key']);
        }
    }
}
