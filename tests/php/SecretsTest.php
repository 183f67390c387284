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

        ini_set('closte.api_url', 'http://127.0.0.1:1/api/client');
        $seen[] = closte_add_domain('example.com');
        ini_set('closte.api_url', $this->sim->apiUrl());

        try {
            closte_add_domain('bad domain');
        } catch (\Closte\Exception $e) {
            $seen[] = $e->getMessage() . (string) $e;
        }
        ini_set('closte.timeout', 'x');
        try {
            closte_list_domains();
        } catch (\Closte\Exception $e) {
            $seen[] = $e->getMessage() . (string) $e;
        }
        ini_set('closte.timeout', '5');
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
            'phpinfo(); ini_set("closte.api_url", "http://127.0.0.1:1/x"); var_dump(closte_list_domains()); '
            . 'try { closte_add_domain("a b"); } catch (Throwable $e) { echo $e; }',
            ['closte.api_key' => CLOSTE_TEST_KEY, 'display_errors' => '1', 'error_reporting' => '-1']
        );
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertStringContainsString('closte.api_key', $result['stdout']);
        $this->assertStringNotContainsString(CLOSTE_TEST_KEY, $result['stdout'] . $result['stderr']);
    }
}
