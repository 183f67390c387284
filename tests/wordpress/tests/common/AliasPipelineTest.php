<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Pipeline;
use Closte_Native\Alias_Queue;
use Closte_Native\Alias_Registry;
use Closte_Native\Certificate_Lifecycle;

/**
 * Inside a queue runner's run (Action Scheduler's QueueRunner::run(), the stand-in's
 * standin_as_run(): action_scheduler_before/after_process_queue around its batches), the event
 * that queues an alias change also sends it, so the requests overlap the runner's next actions
 * instead of waiting for a drain job behind them (Alias_Pipeline). The drain's rules hold: the
 * drain lock, each domain's order, ownership, log lines, and a bounded number in flight.
 */
final class AliasPipelineTest extends E2eTestCase
{
    private const PROBE_HOOK = 'e2e_probe_alias_requests';

    protected function tearDown(): void
    {
        remove_all_actions(self::PROBE_HOOK);
        $this->sim->configure(['latency_ms' => 0]);
        parent::tearDown();
    }

    private function setSetting(string $name, string $value): void
    {
        if (extension_loaded('closte')) {
            ini_set($name, $value);
        } else {
            \Closte\Compat\Settings::set($name, $value);
        }
    }

    private function concurrency(): string
    {
        return extension_loaded('closte') ? (string) ini_get('closte.concurrency') : (string) \Closte\Compat\Settings::raw('closte.concurrency');
    }

    /** @return list<string> */
    private function sortedAliases(): array
    {
        $names = $this->sim->domains();
        sort($names);
        return $names;
    }

    public function testAQueueRunnerSendsEachMappingWhileItGoesOnWithTheActionsAfterIt(): void
    {
        $names = array_map(static fn (int $i) => "piped-$i.example", range(1, 30));
        foreach ($names as $name) {
            Standin_Domain_Manager::create_domain($name, 1);
        }
        // An action queued after every domain event: what the simulator had received when the
        // runner got to it. With the changes left to a drain job (queued behind it), nothing.
        $seen = null;
        add_action(self::PROBE_HOOK, function () use (&$seen): void {
            $seen = count($this->requestsTo('/adddomainalias'));
        });
        as_enqueue_async_action(self::PROBE_HOOK);

        standin_as_run();

        $this->assertNotNull($seen, 'the probe ran');
        $this->assertGreaterThanOrEqual(20, $seen, 'most adds had gone out before the runner reached the action queued after the events');
        $expected = $names;
        sort($expected);
        $this->assertSame($expected, $this->sortedAliases());
        $this->assertCount(30, $this->requestsTo('/adddomainalias'), 'one add per name, none twice');
        $this->assertSame([], standin_as_jobs(Alias_Queue::DRAIN_HOOK), 'no drain job was needed');
        $this->assertSame([], $this->pendingJobs(Alias_Queue::WATCHDOG_HOOK), 'nothing left taken');
        $this->assertSame(0, Alias_Queue::size());
        $this->assertFalse(Alias_Queue::holds_lock(), 'the drain lock is released at the end of the run');
        $log = $this->log();
        foreach ($names as $name) {
            $this->assertMatchesRegularExpression('/add_domain ' . preg_quote($name, '/') . ' \(site 1\): OK state=added status=200 attempts=1 [0-9.]+ ms \(wu_add_domain, attempt 1\/6\)/', $log);
            $this->assertTrue(Alias_Registry::owns(Alias_Registry::get($name)), "$name is recorded as ours");
        }
        $this->assertCount(30, $this->pendingJobs(Certificate_Lifecycle::DNS_HOOK), 'each name has its DNS check, as from a drain');
    }

    public function testEachDomainsChangesKeepTheirOrderWhenTheRunnerSendsThem(): void
    {
        // map, unmap, map of one name; map, unmap of another, all queued before the runner runs:
        // the same outcome and log lines as when a drain job sends them (AliasQueueTest).
        $first = Standin_Domain_Manager::create_domain('again.example', 1);
        $gone = Standin_Domain_Manager::create_domain('gone.example', 1);
        Standin_Domain_Manager::delete_domain($first);
        Standin_Domain_Manager::delete_domain($gone);
        Standin_Domain_Manager::create_domain('again.example', 1);
        standin_as_run();

        $this->assertSame(['again.example'], $this->sim->domains(), 'the last change of each name wins');
        $lines = array_values(array_filter(explode("\n", $this->log()), static fn (string $l): bool => str_contains($l, ' again.example ')));
        $this->assertCount(3, $lines, implode("\n", $lines));
        $this->assertStringContainsString('add_domain again.example (site 1): OK state=added', $lines[0]);
        $this->assertStringContainsString('remove_domain again.example (site 1): left in place on Closte: still used by', $lines[1]);
        $this->assertStringContainsString('add_domain again.example (site 1): OK state=already_exists', $lines[2]);
        $this->assertStringContainsString('remove_domain gone.example (site 1): OK state=removed', $this->log());
        $this->assertTrue(Alias_Registry::owns(Alias_Registry::get('again.example')));
        $this->assertFalse(Alias_Registry::owns(Alias_Registry::get('gone.example')), 'its ownership ended with the removal');
        $this->assertSame(0, Alias_Queue::size());
        $this->assertFalse(Alias_Queue::holds_lock());
    }

    public function testARunnerLeavesItsChangesToTheDrainThatHoldsTheLock(): void
    {
        global $wpdb;
        // Another web node's drain holds the lock (a second database connection here).
        $lockName = $wpdb->get_var("SELECT CONCAT('closte_native_queue_', MD5(CONCAT('" . esc_sql(DB_NAME) . "', '|', '" . esc_sql($wpdb->base_prefix) . "')))");
        $other = new \wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
        $this->assertSame('1', (string) $other->get_var($other->prepare('SELECT GET_LOCK(%s, 0)', $lockName)));
        try {
            foreach (['held-1.example', 'held-2.example', 'held-3.example'] as $name) {
                Standin_Domain_Manager::create_domain($name, 1);
            }
            standin_as_run();
            $this->assertSame([], $this->requestsTo('/adddomainalias'), 'nothing sent while another drain holds the lock');
            $this->assertSame(3, Alias_Queue::size(), 'the changes wait in the queue');
            $this->assertFalse(Alias_Queue::holds_lock());
        } finally {
            $other->close(); // the holder ends; it drains what was queued meanwhile
        }
        Alias_Queue::ensure_drain();
        standin_as_run();
        $this->assertSame(['held-1.example', 'held-2.example', 'held-3.example'], $this->sortedAliases());
        $this->assertSame(0, Alias_Queue::size());
    }

    public function testAtMostFourSlicesOfChangesAreInFlight(): void
    {
        $concurrency = $this->concurrency();
        $this->setSetting('closte.concurrency', '2');
        try {
            foreach (range(1, 40) as $i) {
                Standin_Domain_Manager::create_domain("window-$i.example", 1);
            }
            $most = 0;
            $record = static function () use (&$most): void {
                $most = max($most, Alias_Pipeline::in_flight());
            };
            add_action('action_scheduler_after_execute', $record);
            $this->sim->configure(['latency_ms' => 100]);
            try {
                standin_as_run();
            } finally {
                remove_action('action_scheduler_after_execute', $record);
            }
            $this->sim->configure(['latency_ms' => 0]);
            // Seen after each event: the event that fills the window waits for the oldest slice.
            $this->assertGreaterThan(2 * 2, $most, 'more than two slices in flight: the requests overlapped the events');
            $this->assertLessThan(Alias_Pipeline::WINDOW * 2, $most, 'never a full window left in flight');
            $this->assertCount(40, $this->sim->domains());
            $this->assertSame(0, Alias_Pipeline::in_flight());
            $this->assertSame(0, Alias_Queue::size());
        } finally {
            $this->setSetting('closte.concurrency', $concurrency);
        }
    }

    public function testChangesStillInFlightWhenTheRunnerIsKilledAreSentAgainByTheWatchdogsDrain(): void
    {
        $names = array_map(static fn (int $i) => "killed-$i.example", range(1, 6));
        foreach ($names as $name) {
            Standin_Domain_Manager::create_domain($name, 1);
        }
        // Answers take 3 s: the runner is killed with its adds in flight, unhandled.
        $this->sim->configure(['latency_ms' => 3000]);
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', '-d', 'error_reporting=-1', ...self::implementationArgs(), dirname(__DIR__, 2) . '/bin/queue-runner.php'];
        $runner = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        $deadline = microtime(true) + 20;
        while (count($this->requestsTo('/adddomainalias')) < 6 && microtime(true) < $deadline) {
            usleep(20000);
        }
        $this->assertCount(6, $this->requestsTo('/adddomainalias'), 'the runner sent every add');
        proc_terminate($runner, 9);
        proc_close($runner);
        $this->sim->configure(['latency_ms' => 0]);
        wp_cache_flush();
        global $wpdb;
        // 300 s later: Action Scheduler's cleaner frees the dead runner's claim (its action in
        // progress is failed), and the watchdog is due.
        $wpdb->query('UPDATE ' . standin_as_table() . " SET last_attempt = last_attempt - 301 WHERE claim_id != 0 OR status = 'in-progress'");

        $this->assertSame(6, Alias_Queue::size(), 'no change was handled, so none left the queue');
        $this->assertCount(1, $this->pendingJobs(Alias_Queue::WATCHDOG_HOOK), 'the watchdog is queued');
        // The database released the dead runner's lock: the watchdog's drain sends them again.
        standin_as_run(STANDIN_AS_BATCH_SIZE, time() + Alias_Queue::WATCHDOG_DELAY + 1);
        standin_as_run(STANDIN_AS_BATCH_SIZE, time() + Alias_Queue::WATCHDOG_DELAY + 1);
        $expected = $names;
        sort($expected);
        $this->assertSame($expected, $this->sortedAliases());
        $this->assertSame(0, Alias_Queue::size());
        foreach ($names as $name) {
            // Added by the first send (answered after the kill): "already exists" to the second,
            // so not counted as ours, as for a killed drain; or added by the second.
            $owned = Alias_Registry::owns(Alias_Registry::get($name));
            $this->assertTrue($owned || str_contains($this->log(), "add_domain $name (site 1): the alias was already on Closte"), "$name: owned, or said to be left in place");
        }
    }
}
