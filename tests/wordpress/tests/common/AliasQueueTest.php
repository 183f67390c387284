<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Changes;
use Closte_Native\Alias_Queue;
use Closte_Native\Alias_Registry;
use Closte_Native\Certificate_Lifecycle;

/**
 * Domain events run by Action Scheduler queue their change; one drain job sends them together
 * through closte_enqueue/closte_wait, with the same checks, log lines and follow-ups as one by one.
 */
final class AliasQueueTest extends E2eTestCase
{
    public function testABurstOfMappingsGoesOutTogetherWithTheLogLinesOfEachDomain(): void
    {
        $names = array_map(static fn (int $i) => "burst-$i.example", range(1, 60));
        foreach ($names as $name) {
            Standin_Domain_Manager::create_domain($name, 1);
        }
        $this->assertCount(60, $this->pendingJobs('wu_add_domain'));
        $this->sim->configure(['latency_ms' => 200]);
        $this->runQueue();
        $this->sim->configure(['latency_ms' => 0]);

        $onCloste = $this->sim->domains();
        sort($onCloste);
        $expected = $names;
        sort($expected);
        $this->assertSame($expected, $onCloste);
        $this->assertCount(1, standin_as_jobs(Alias_Queue::DRAIN_HOOK, 'complete'), 'one drain job sent them all');
        $this->assertSame(0, Alias_Queue::size());

        // The adds overlapped: at 200 ms per answer, one by one would have 1 request per 200 ms.
        $arrivals = array_map(static fn (array $r): float => (float) $r['at_ms'], $this->requestsTo('/adddomainalias'));
        $this->assertCount(60, $arrivals, 'one add per name');
        sort($arrivals);
        $mostInOneLatency = 0;
        foreach ($arrivals as $i => $at) {
            $inWindow = count(array_filter($arrivals, static fn (float $other): bool => $other >= $at && $other < $at + 150.0));
            $mostInOneLatency = max($mostInOneLatency, $inWindow);
        }
        $this->assertGreaterThanOrEqual(4, $mostInOneLatency, 'several adds in flight at once');
        $this->assertSame([], array_filter($this->sim->state()['domains'], static fn (array $d): bool => (bool) $d['ssl_requested']), 'no certificate request with the adds');

        $log = $this->log();
        $ssl = $this->log('integration-closte-ssl');
        foreach ($names as $name) {
            $this->assertMatchesRegularExpression('/add_domain ' . preg_quote($name, '/') . ' \(site 1\): OK state=added status=200 attempts=1 [0-9.]+ ms \(wu_add_domain, attempt 1\/6\)/', $log);
            $this->assertStringContainsString("certificate for $name: alias added without a certificate request (wu_add_domain)", $ssl);
            $this->assertTrue(Alias_Registry::owns(Alias_Registry::get($name)), "$name is recorded as ours");
        }
        $this->assertCount(60, $this->pendingJobs(Certificate_Lifecycle::DNS_HOOK), 'each name has its DNS check, as before');
    }

    public function testEachDomainsChangesKeepTheirOrderWithinABurst(): void
    {
        // map, unmap, map of one name; map, unmap of another: all queued before the drain runs.
        $first = Standin_Domain_Manager::create_domain('again.example', 1);
        $gone = Standin_Domain_Manager::create_domain('gone.example', 1);
        Standin_Domain_Manager::delete_domain($first);
        Standin_Domain_Manager::delete_domain($gone);
        Standin_Domain_Manager::create_domain('again.example', 1);
        $this->runQueue();

        $this->assertSame(['again.example'], $this->sim->domains(), 'the last change of each name wins');
        // In queue order; the unmap finds the name mapped again by then (the record is back), so
        // it is left in place as when each event ran on its own, and the second map finds it there.
        $lines = array_values(array_filter(explode("\n", $this->log()), static fn (string $l): bool => str_contains($l, ' again.example ')));
        $this->assertCount(3, $lines, implode("\n", $lines));
        $this->assertStringContainsString('add_domain again.example (site 1): OK state=added', $lines[0]);
        $this->assertStringContainsString('remove_domain again.example (site 1): left in place on Closte: still used by', $lines[1]);
        $this->assertStringContainsString('add_domain again.example (site 1): OK state=already_exists', $lines[2]);
        $this->assertStringContainsString('remove_domain gone.example (site 1): OK state=removed', $this->log());
        $this->assertTrue(Alias_Registry::owns(Alias_Registry::get('again.example')));
        $this->assertFalse(Alias_Registry::owns(Alias_Registry::get('gone.example')), 'its ownership ended with the removal');
        $dns = array_map(static fn (array $j) => $j['args'][0], $this->pendingJobs(Certificate_Lifecycle::DNS_HOOK));
        $this->assertSame(['again.example'], $dns, 'only the mapped name is followed for its certificate');
    }

    public function testAnAliasSomeoneElseAddedStaysWhenAQueuedUnmapRuns(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['theirs.example']]);
        $id = Standin_Domain_Manager::create_domain('theirs.example', 1);
        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        $this->assertSame(['theirs.example'], $this->sim->domains());
        $this->assertStringContainsString('remove_domain theirs.example (site 1): left in place on Closte: this integration did not add it', $this->log());
        $this->assertSame([], $this->requestsTo('/deletedomainalias'));
    }

    public function testFailuresInABatchAreRetriedOneByOne(): void
    {
        add_filter('closte_native_retry_base_delay', $fast = static fn () => 2);
        try {
            $this->sim->fault(['kind' => 'status', 'status' => 503, 'path' => '/adddomainalias']);
            $names = ['fail-1.example', 'fail-2.example', 'fail-3.example'];
            foreach ($names as $name) {
                Standin_Domain_Manager::create_domain($name, 1);
            }
            $this->runQueue();
            $this->assertSame([], $this->sim->domains());
            $retries = $this->pendingJobs(Alias_Changes::RETRY_HOOK);
            $this->assertCount(3, $retries, 'one retry job per failed change');
            $this->assertEqualsCanonicalizing($names, array_map(static fn (array $j) => $j['args'][1], $retries));
            foreach ($names as $name) {
                $this->assertStringContainsString("add_domain $name (site 1): FAILED state=failed status=503", $this->log());
                $this->assertStringContainsString("add_domain $name (site 1): rescheduled as attempt 2/6", $this->log());
            }

            $this->sim->control('POST', '/faults/clear');
            $this->runQueue(60);
            $onCloste = $this->sim->domains();
            sort($onCloste);
            $this->assertSame($names, $onCloste);
            foreach ($names as $name) {
                $this->assertMatchesRegularExpression('/add_domain ' . preg_quote($name, '/') . ' \(site 1\): OK state=added .*\(retry, attempt 2\/6\)/', $this->log());
            }
            $this->assertSame([], $this->pendingJobs(Alias_Changes::RETRY_HOOK));
        } finally {
            remove_filter('closte_native_retry_base_delay', $fast);
        }
    }

    public function testAnEventBehindAChangeLeftInTheQueueLongAgoStillQueuesADrain(): void
    {
        // A change queued by a process that died before queuing a drain: an event queued behind
        // a recent change leaves the drain to that change's, but not behind one this old.
        global $wpdb;
        Alias_Queue::append('add', 'left.example', 1, 'wu_add_domain');
        $wpdb->update(Alias_Queue::table(), ['queued_at' => time() - Alias_Queue::WATCHDOG_DELAY - 60], ['domain' => 'left.example']);
        Standin_Domain_Manager::create_domain('later.example', 1);
        standin_as_run_queue(null, 1000, ['wu_add_domain']);
        $this->assertCount(1, $this->pendingJobs(Alias_Queue::DRAIN_HOOK), 'the event queued a drain');

        $this->runQueue();
        $onCloste = $this->sim->domains();
        sort($onCloste);
        $this->assertSame(['later.example', 'left.example'], $onCloste);
        $this->assertSame(0, Alias_Queue::size());
    }

    public function testAnEventFiredOutsideActionSchedulerIsSentAtOnce(): void
    {
        do_action('wu_add_domain', 'direct.example', '1');
        $this->assertSame(['direct.example'], $this->sim->domains());
        $this->assertSame(0, Alias_Queue::size());
        $this->assertSame([], $this->pendingJobs(Alias_Queue::DRAIN_HOOK), 'no drain job needed');
    }
}
