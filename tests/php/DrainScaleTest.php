<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;

/**
 * The request-end drain with many jobs: bounded by closte.drain_timeout whatever their number,
 * and every job not finished reported.
 */
final class DrainScaleTest extends ClosteTestCase
{
    private const JOBS = 10000;

    public function testTenThousandPendingJobsAreCutAtTheDrainTimeoutAndEachIsReported(): void
    {
        $url = $this->sim->apiUrl();
        $this->sim->configure(['latency_ms' => 20000]); // no job can finish within the drain
        $log = tempnam(sys_get_temp_dir(), 'closte-drain-scale-');
        $jobs = self::JOBS;
        $result = PhpProcess::run(<<<PHP
            closte_test_ini('closte.api_url', '$url');
            file_put_contents('$log.start', (string) microtime(true));
            for (\$i = 1; \$i <= $jobs; \$i++) {
                closte_enqueue('add_domain', "job\$i.example.com", \$i);
            }
            echo 'pending=', closte_pending();
            file_put_contents('$log.end', (string) microtime(true));
            PHP, [
                'closte.api_key' => CLOSTE_TEST_KEY,
                'closte.drain_timeout' => '1',
                'closte.timeout' => '30',
                'error_log' => $log,
            ], timeout: 120);
        $exited = microtime(true);
        $text = (string) file_get_contents($log);
        $started = (float) file_get_contents("$log.start");
        $scriptEnded = (float) file_get_contents("$log.end");
        unlink($log);
        unlink("$log.start");
        unlink("$log.end");
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertSame("pending=$jobs", $result['stdout']);
        $this->assertSame($jobs, substr_count($text, 'was not finished when the request ended (1.0 s drain): aborted, re-queue it'));
        $this->assertStringContainsString("closte: add_domain job1.example.com (site 1) (job 1) was not finished", $text);
        $this->assertStringContainsString("closte: add_domain job$jobs.example.com (site $jobs) (job $jobs) was not finished", $text);
        // The bounds asserted are loose (a slow, shared 2-core machine measured about 1.1 s for the
        // drain and 1.6 s in all, on both implementations): while the PHP implementation polled every waiting job in every loop
        // round, each closte_enqueue cost a scan of all the others, about 17 s here in all.
        $this->assertLessThan(4.0, $exited - $scriptEnded, 'the drain ends at closte.drain_timeout, not after a scan per job');
        $this->assertLessThan(8.0, $exited - $started, 'enqueueing costs no scan of the jobs already waiting');
    }
}
