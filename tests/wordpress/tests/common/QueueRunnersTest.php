<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Queue;
use Closte_Native\Alias_Registry;
use Closte_Native\Certificate_Lifecycle;
use Closte_Native\Sync_Service;
use Closte_Native\Sync_State;

/**
 * Several web nodes on one database (issue 24): each runs Action Scheduler's queue, so two
 * queue runners take jobs from the same table at the same time. Here they are two PHP processes
 * (bin/queue-runner.php) started together against the simulator with latency, so that their
 * batches overlap; Action Scheduler is the STAND-IN (fixtures/action-scheduler-standin.php),
 * which claims batches as ActionScheduler_DBStore does. Every domain action runs once, Closte
 * Sync runs once and refuses a second request meanwhile, and no alias is added or removed twice.
 */
final class QueueRunnersTest extends E2eTestCase
{
    /** Small batches, so that the two runners claim many times over, interleaved. */
    private const BATCH_SIZE = 5;

    protected function tearDown(): void
    {
        $this->sim->configure(['latency_ms' => 0]);
        parent::tearDown();
    }

    /**
     * Starts two queue runner processes at once.
     *
     * @return list<resource>
     */
    private function startRunners(array $env = []): array
    {
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', '-d', 'error_reporting=-1', '-d', 'display_errors=stderr', ...self::implementationArgs(), dirname(__DIR__, 2) . '/bin/queue-runner.php', (string) self::BATCH_SIZE, '2'];
        $runners = [];
        foreach ([1, 2] as $node) {
            $runners[] = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
            $this->pipes[] = $pipes;
        }
        return $runners;
    }

    /** @var list<array<int, resource>> */
    private array $pipes = [];

    /**
     * Waits for both runners; each must have exited cleanly having run some of the jobs.
     *
     * @param list<resource> $runners
     */
    private function finishRunners(array $runners): void
    {
        $processed = [];
        foreach ($runners as $i => $runner) {
            $stdout = (string) stream_get_contents($this->pipes[$i][1]);
            $stderr = (string) stream_get_contents($this->pipes[$i][2]);
            $exit = proc_close($runner);
            $this->assertSame(0, $exit, "runner $i: $stdout $stderr");
            $this->assertSame('', $stderr, "runner $i wrote to stderr");
            $this->assertSame(1, preg_match('/^processed (\d+)$/m', $stdout, $m), $stdout);
            $processed[] = (int) $m[1];
        }
        $this->pipes = [];
        // Which runner takes a given phase's jobs is up to timing (one may claim them all while
        // the other is still loading WordPress); over the whole test both must have run some.
        foreach ($processed as $i => $count) {
            $this->processed[$i] = ($this->processed[$i] ?? 0) + $count;
        }
        wp_cache_flush();
    }

    /** Jobs each runner processed, over every phase of the test. @var array<int, int> */
    private array $processed = [];

    private function assertBothRunnersRanJobs(): void
    {
        $this->assertCount(2, $this->processed);
        foreach ($this->processed as $i => $count) {
            $this->assertGreaterThan(0, $count, "runner $i ran jobs too: the two ran side by side (" . implode(', ', $this->processed) . ')');
        }
    }

    /** Every job ran to completion exactly once: complete, one attempt; nothing due is left. */
    private function assertEveryActionRanOnce(): void
    {
        global $wpdb;
        $rows = $wpdb->get_results('SELECT action_id, hook, args, status, attempts, claim_id FROM ' . standin_as_table() . ' WHERE status != \'canceled\' AND (status != \'pending\' OR scheduled_at <= ' . time() . ')', ARRAY_A);
        $this->assertNotSame([], $rows);
        $wrong = array_filter($rows, static fn (array $r) => 'complete' !== $r['status'] || 1 !== (int) $r['attempts'] || 0 !== (int) $r['claim_id']);
        $this->assertSame([], array_values($wrong), 'every action due ran once, to completion, and its claim was released');
        $this->assertSame(0, (int) $wpdb->get_var('SELECT COUNT(*) FROM ' . standin_as_claims_table()), 'no claim left');
    }

    /** @param list<string> $names each added exactly once, removed $removed times */
    private function assertAliasRequests(array $names, int $added, int $removed): void
    {
        $adds = array_count_values(array_map(static fn (array $r) => (string) ($r['fields']['domain'] ?? ''), $this->requestsTo('/adddomainalias')));
        $deletes = array_count_values(array_map(static fn (array $r) => (string) ($r['fields']['domain'] ?? ''), $this->requestsTo('/deletedomainalias')));
        foreach ($names as $name) {
            $this->assertSame($added, $adds[$name] ?? 0, "/adddomainalias for $name");
            $this->assertSame($removed, $deletes[$name] ?? 0, "/deletedomainalias for $name");
        }
    }

    /** @return array<string, int> certificate requests the simulator received, by name */
    private function certificateRequests(): array
    {
        return array_map(static fn (array $c) => (int) $c['requested'], $this->sim->control('GET', '/certificates')['certificates']);
    }

    public function testTwoQueueRunnersRunEveryDomainActionOnceAndTheSyncOnce(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK]]);
        $mapped = array_map(static fn (int $i) => "node-$i.ready.test", range(1, 40));

        // 40 mappings in one burst: 40 wu_add_domain jobs (and Ultimate Multisite's DNS stages).
        $ids = [];
        foreach ($mapped as $name) {
            $ids[] = Standin_Domain_Manager::create_domain($name, 1);
        }
        $this->assertCount(40, $this->pendingJobs('wu_add_domain'));
        $this->sim->configure(['latency_ms' => 20]);
        $this->finishRunners($this->startRunners());
        // A runner sends the changes of its events itself (Alias_Pipeline) and handles the last
        // results at the end of its run: the certificate checks those queue, due at once, run in
        // the next run (WP-Cron starts one every minute).
        $this->finishRunners($this->startRunners());

        $this->assertEveryActionRanOnce();
        $this->assertAliasRequests($mapped, 1, 0);
        $expected = array_merge([CLOSTE_E2E_NETWORK], $mapped);
        sort($expected);
        $onCloste = $this->sim->domains();
        sort($onCloste);
        $this->assertSame($expected, $onCloste);
        $certificates = $this->certificateRequests();
        foreach ($mapped as $name) {
            $this->assertSame(1, $certificates[$name] ?? 0, "one certificate request for $name: its DNS check ran once");
        }

        // Drift for Closte Sync: 10 records without their aliases, 10 aliases of ours no longer
        // used. Its preview runs here; its apply is queued ahead of the 40 unmappings.
        $this->sim->configure(['latency_ms' => 0]);
        $drift = array_map(static fn (int $i) => "sync-$i.ready.test", range(1, 10));
        $stale = array_map(static fn (int $i) => "stale-$i.example", range(1, 10));
        global $wpdb;
        foreach ($drift as $name) {
            $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => 1, 'domain' => $name]);
        }
        $this->sim->control('POST', '/domains', ['domains' => array_merge($this->sim->domains(), $stale)]);
        foreach ($stale as $name) {
            Alias_Registry::record($name, 1, 'test');
        }
        $this->assertTrue(Sync_Service::request_preview(true));
        $this->runSyncJob();
        $plan = Sync_State::get()['plan'];
        $this->assertSame($drift, array_keys($plan['to_add']));
        $this->assertSame($stale, array_keys($plan['to_remove']));
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        foreach ($ids as $id) {
            Standin_Domain_Manager::delete_domain($id);
        }
        $this->assertCount(40, $this->pendingJobs('wu_remove_domain'));

        // One sync add or removal at a time, so that the apply lasts while the other runner works.
        $this->sim->configure(['latency_ms' => 30]);
        $runners = $this->startRunners(['CLOSTE_SYNC_CONCURRENCY' => '1']);
        $seenApplying = false;
        $deadline = microtime(true) + 60;
        do {
            wp_cache_flush();
            $status = Sync_State::get()['status'];
            if ('applying' === $status && ! $seenApplying) {
                $seenApplying = true;
                $refused = Sync_Service::request_preview(false);
                $this->assertInstanceOf(\WP_Error::class, $refused, 'a second sync is refused while the first runs on another node');
                $this->assertSame('closte-sync-busy', $refused->get_error_code());
            }
            usleep(20000);
        } while (in_array($status, ['queued', 'applying'], true) && microtime(true) < $deadline);
        $this->finishRunners($runners);
        $this->assertTrue($seenApplying, 'the apply was seen running while the runners worked');
        $this->assertBothRunnersRanJobs();

        $this->assertEveryActionRanOnce();
        $this->assertAliasRequests($mapped, 1, 1);
        $this->assertAliasRequests($drift, 1, 0);
        $this->assertAliasRequests($stale, 0, 1);
        $state = Sync_State::get();
        $this->assertSame('done', $state['status'], json_encode($state));
        $this->assertSame($drift, $state['report']['added']);
        $this->assertSame($stale, $state['report']['removed']);
        $this->assertSame(['preview', 'apply'], array_map(static fn (array $j) => $j['args'][0], standin_as_jobs(Sync_State::JOB_HOOK)), 'one preview job, one apply job (each ran once, above)');
        $this->assertSame(1, substr_count($this->log(), 'sync of '), 'the apply ran once: ' . $this->log());
        $expected = array_merge([CLOSTE_E2E_NETWORK], $drift);
        sort($expected);
        $onCloste = $this->sim->domains();
        sort($onCloste);
        $this->assertSame($expected, $onCloste);
        $certificates = $this->certificateRequests();
        foreach ($drift as $name) {
            $this->assertSame(1, $certificates[$name] ?? 0, "one certificate request for $name");
        }
        foreach ($mapped as $name) {
            $this->assertSame([], array_filter(standin_as_jobs(null, 'pending'), static fn (array $j) => in_array($j['hook'], Certificate_Lifecycle::HOOKS, true) && $j['args'] === [$name]), "no certificate job is left for the unmapped $name");
        }
    }

    /**
     * A claim passes over an action another runner's session holds (its in-progress or complete
     * update by action id, not committed yet) instead of waiting for it, as Action Scheduler 3.9+
     * claims with SELECT ... FOR UPDATE SKIP LOCKED. A claim that waited could deadlock against
     * that runner, and the runner whose claim lost died ("Unable to claim actions").
     */
    public function testAClaimSkipsAnActionAnotherRunnerHoldsInsteadOfWaitingForIt(): void
    {
        global $wpdb;
        $table = standin_as_table();
        $ids = array_map(static fn (int $i) => (int) as_enqueue_async_action('closte_e2e_skip_locked', [$i]), range(1, 3));
        $other = new \wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
        $other->query('START TRANSACTION');
        $other->query($other->prepare("UPDATE $table SET last_attempt = %d WHERE action_id = %d", time(), $ids[0]));
        $wpdb->query('SET SESSION innodb_lock_wait_timeout = 2'); // a claim that waits fails in 2 s, not 50
        try {
            [$claim, $claimed] = standin_as_stake_claim(10, time());
        } finally {
            $other->query('ROLLBACK');
            $other->close();
            $wpdb->query('SET SESSION innodb_lock_wait_timeout = DEFAULT');
        }
        $this->assertSame([$ids[1], $ids[2]], $claimed, 'the claim took the actions nobody held, at once');
        $this->assertSame('0', (string) $wpdb->get_var($wpdb->prepare("SELECT claim_id FROM $table WHERE action_id = %d", $ids[0])), 'and left the held one for a later claim');
        standin_as_release_claim($claim);
    }

    public function testAClaimLeftByAKilledRunnerIsTakenOverAfterTheTimeoutAndItsActionInProgressNotRunAgain(): void
    {
        global $wpdb;
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK]]);
        $names = array_map(static fn (int $i) => "killed-$i.example", range(1, 8));
        foreach ($names as $name) {
            Standin_Domain_Manager::create_domain($name, 1);
        }
        // One web node's runner claims a batch of 25 (all 16 jobs: each wu_add_domain queues its
        // change), then the alias-queue drain, and is killed while the drain's adds are in flight.
        // Its events leave their changes to the drain job (closte_native_send_in_runner off; a
        // runner killed while it sends them itself: AliasPipelineTest).
        $this->sim->configure(['latency_ms' => 300]);
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', ...self::implementationArgs(), dirname(__DIR__, 2) . '/bin/queue-runner.php'];
        $runner = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, ['CLOSTE_E2E_SEND_IN_RUNNER' => '0'] + getenv());
        $deadline = microtime(true) + 30;
        while (count($this->requestsTo('/adddomainalias')) < 3 && microtime(true) < $deadline) {
            usleep(20000);
        }
        proc_terminate($runner, 9);
        proc_close($runner);
        usleep(400000); // the adds in flight at the kill reach the simulator's log
        $this->sim->configure(['latency_ms' => 0]);
        $table = standin_as_table();
        $this->assertSame([Alias_Queue::DRAIN_HOOK], $wpdb->get_col("SELECT hook FROM $table WHERE status = 'in-progress'"), 'the killed runner was in the drain');
        $this->assertSame(8, Alias_Queue::size(), 'the round it was sending is still queued: nothing is lost');
        $sentBeforeKill = array_count_values(array_map(static fn (array $r) => (string) $r['fields']['domain'], $this->requestsTo('/adddomainalias')));

        // Another node's run, at once: the killed drain's claim counts against the one concurrent
        // batch Action Scheduler allows by default, and the database released its drain lock.
        $this->assertSame(0, standin_as_run());

        // 300 s later (the cleaner's timeout, the drain's watchdog): the drain killed in progress
        // is marked failed, never run again; the watchdog queues a new drain, which sends the
        // round again.
        $wpdb->query("UPDATE $table SET last_attempt = last_attempt - 301 WHERE claim_id != 0 OR status = 'in-progress'");
        $this->assertGreaterThanOrEqual(2, standin_as_run(STANDIN_AS_BATCH_SIZE, time() + Alias_Queue::WATCHDOG_DELAY + 1), 'the watchdog and the new drain');
        $failed = standin_as_jobs(null, 'failed');
        $this->assertCount(1, $failed);
        $this->assertSame(Alias_Queue::DRAIN_HOOK, $failed[0]['hook']);
        $this->assertSame(1, (int) $failed[0]['attempts']);
        $this->assertSame(0, standin_as_claim_count(), 'no claim holds an action');
        $this->assertSame([], standin_as_jobs(null, 'in-progress'));
        $this->assertSame(0, Alias_Queue::size());
        wp_cache_flush();
        $adds = array_count_values(array_map(static fn (array $r) => (string) $r['fields']['domain'], $this->requestsTo('/adddomainalias')));
        $onCloste = $this->sim->domains();
        foreach ($names as $name) {
            $this->assertContains($name, $onCloste);
            // Sent again only if it had gone out before the kill; then Closte already had it and
            // the integration does not claim it (an unmapping leaves it in place: never a
            // customer's name removed on a guess).
            $this->assertSame(($sentBeforeKill[$name] ?? 0) + 1, $adds[$name] ?? 0, "/adddomainalias for $name");
            $this->assertSame(! isset($sentBeforeKill[$name]), Alias_Registry::owns(Alias_Registry::get($name)), "ownership of $name");
        }
    }

    public function testASyncJobHandedToASecondNodeWhileTheLockIsHeldWaitsInsteadOfStartingTwice(): void
    {
        global $wpdb;
        $this->assertTrue(Sync_Service::request_preview(false));
        $job = $this->pendingJobs(Sync_State::JOB_HOOK)[0] ?? null;
        $this->assertNotNull($job, 'the preview is queued');
        [$mode, $run] = $job['args'];

        // Another node holds the sync lock (a second database session, as another web server's).
        $other = new \wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
        $lock = 'closte_native_sync_' . get_current_network_id();
        $this->assertSame('1', (string) $other->get_var($other->prepare('SELECT GET_LOCK(%s, 0)', $lock)));
        try {
            Sync_Service::run_job($mode, $run);
        } finally {
            $other->query($other->prepare('SELECT RELEASE_LOCK(%s)', $lock));
            $other->close();
        }

        wp_cache_flush();
        $this->assertSame('queued', Sync_State::get()['status'], 'not started while another node held the lock');
        $again = array_values(array_filter($this->pendingJobs(Sync_State::JOB_HOOK), static fn (array $j) => $j['args'] === [$mode, $run] && (int) $j['scheduled_at'] > time() + 30));
        $this->assertCount(1, $again, 'the job comes back in a minute');
        $this->assertStringContainsString("sync job $run: the sync lock is busy; tried again in 60 s", $this->log());

        Sync_Service::run_job($mode, $run); // the lock is free now
        wp_cache_flush();
        $this->assertSame('planned', Sync_State::get()['status']);
    }
}
