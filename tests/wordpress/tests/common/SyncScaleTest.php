<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Registry;
use Closte_Native\Background_Jobs;
use Closte_Native\Sync_Messages;
use Closte_Native\Sync_Plan;
use Closte_Native\Sync_Service;
use Closte_Native\Sync_State;

/**
 * Closte Sync at scale: a run split into batches that resume (each within Action Scheduler's
 * time per batch), a job that dies shown as failed with what to do, and a preview of a large
 * network within multisite's default 64 MB.
 */
final class SyncScaleTest extends E2eTestCase
{
    protected function tearDown(): void
    {
        remove_all_filters('closte_native_sync_batch_seconds');
        remove_all_filters('closte_native_sync_slice');
        parent::tearDown();
    }

    /** Domain records inserted in bulk, without their hooks. */
    private function insertRecords(int $count, string $pattern, int $site = 1): void
    {
        global $wpdb;
        for ($from = 1; $from <= $count; $from += 5000) {
            $values = [];
            for ($i = $from; $i < min($count + 1, $from + 5000); $i++) {
                $values[] = $wpdb->prepare('(%d, %s)', $site, sprintf($pattern, $i));
            }
            $wpdb->query('INSERT INTO ' . Standin_Domain_Manager::table() . ' (blog_id, domain) VALUES ' . implode(',', $values));
        }
    }

    /** A queue runner in a process of its own. @return array{exit: int, stdout: string, stderr: string} */
    private function runQueueElsewhere(array $env, string $memoryLimit = '128M'): array
    {
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', '-d', 'error_reporting=-1', '-d', 'display_errors=stderr', '-d', 'memory_limit=' . $memoryLimit, ...self::implementationArgs(), dirname(__DIR__, 2) . '/bin/queue-runner.php'];
        $process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        return ['exit' => proc_close($process), 'stdout' => (string) $stdout, 'stderr' => (string) $stderr];
    }

    private function preview(bool $prune): array
    {
        $this->assertTrue(Sync_Service::request_preview($prune));
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('planned', $state['status'], json_encode($state));
        return $state['plan'];
    }

    public function testARunInSeveralBatchesResumesWhereItStoppedAndReportsLikeOneBatch(): void
    {
        $this->insertRecords(23, 'batched-%d.example');
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK, 'batched-1.example', 'stale-a.example', 'stale-b.example']]);
        foreach (['stale-a.example', 'stale-b.example'] as $stale) {
            Alias_Registry::record($stale, 1, 'test');
        }
        $plan = $this->preview(true);
        $this->assertCount(22, $plan['to_add']);
        $this->assertSame(['stale-a.example', 'stale-b.example'], array_keys($plan['to_remove']));

        // Every batch ends after its first slice of 5 adds: 22 adds take 5 batches, the
        // removals (the network read again) a sixth.
        $listings = count($this->requestsTo('/getdomains'));
        add_filter('closte_native_sync_batch_seconds', static fn () => 0.0);
        add_filter('closte_native_sync_slice', static fn () => 5);
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        $seen = [];
        for ($jobs = 0; $jobs < 20 && 'done' !== Sync_State::get()['status']; $jobs++) {
            $this->runSyncJob();
            $state = Sync_State::get();
            if ('done' !== $state['status']) {
                $this->assertSame('applying', $state['status'], json_encode($state));
                $this->assertTrue(Sync_State::is_busy($state), 'a run between batches is busy: no second sync starts');
                $this->assertCount(1, $this->pendingJobs(Sync_State::JOB_HOOK), 'the next batch is queued');
                $seen[] = $state['progress']['done'] . '/' . $state['progress']['total'];
                // Between batches the names left to add are stored deflated (the state is read
                // and written several times a job, and on every poll of the Sync page).
                $cursor = $state['cursor'];
                $queue  = isset($cursor['queue_deflated']) ? gzinflate(base64_decode($cursor['queue_deflated'], true)) : $cursor['queue'];
                $this->assertSame(22 - min(22, $state['progress']['done']), '' === $queue ? 0 : count(explode("\n", $queue)), 'the names left to add');
                if ('' !== $queue) {
                    $this->assertSame('', $cursor['queue'], 'stored deflated, not as they are');
                }
                $this->assertIsString(Sync_Service::request_preview(false)->get_error_code() ?? null, 'a preview is refused while the run goes on');
            }
        }
        $this->assertSame(['5/24', '10/24', '15/24', '20/24', '22/24'], $seen, 'progress after each batch');
        $state = Sync_State::get();
        $this->assertSame('done', $state['status'], json_encode($state));
        $report = $state['report'];
        $this->assertSame(6, $report['batches']);
        $this->assertTrue($report['ok'], json_encode($report));
        $this->assertSame(array_keys($plan['to_add']), $report['added'], 'every add of the plan, once');
        $this->assertSame(['stale-a.example', 'stale-b.example'], $report['removed']);
        $this->assertSame(2, $report['unchanged'], 'the network\'s host and batched-1.example');
        $this->assertSame([], $report['failed']);
        $aliases = $this->sim->domains();
        sort($aliases);
        $expected = array_merge([CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK], array_map(static fn ($i) => "batched-$i.example", range(1, 23)));
        sort($expected);
        $this->assertSame($expected, $aliases);
        $this->assertCount(22, $this->requestsTo('/adddomainalias'), 'no add sent twice across batches');
        $this->assertCount($listings + 2, $this->requestsTo('/getdomains'), 'Closte listed by the first batch and before the removals only');
        foreach ($report['added'] as $added) {
            $this->assertNotNull(Alias_Registry::get($added), "ownership of $added recorded");
        }

        // The same plan in one batch gives the same report.
        remove_all_filters('closte_native_sync_batch_seconds');
        remove_all_filters('closte_native_sync_slice');
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK, 'batched-1.example', 'stale-a.example', 'stale-b.example']]);
        $this->sim->reset();
        $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY], 'auth_error_message' => 'Invalid API Key', 'already_exists_message' => 'Domain alias already exists']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK, 'batched-1.example', 'stale-a.example', 'stale-b.example']]);
        foreach (['stale-a.example', 'stale-b.example'] as $stale) {
            Alias_Registry::record($stale, 1, 'test');
        }
        $again = $this->preview(true);
        $this->assertSame(Sync_Plan::confirmation_token($plan), Sync_Plan::confirmation_token($again));
        $this->assertTrue(Sync_Service::request_apply($again['id'], $again['token'], $again['needs_typed'] ? $again['typed_phrase'] : ''));
        $this->runSyncJob();
        $one = Sync_State::get()['report'];
        $this->assertSame(1, $one['batches']);
        foreach (['ok', 'added', 'removed', 'unchanged', 'kept', 'skipped', 'failed'] as $key) {
            $this->assertSame($one[$key], $report[$key], $key);
        }
    }

    public function testARunWhoseStoredQueueCannotBeReadFailsWithWhatToDoInsteadOfEndingAsIfAllWereAdded(): void
    {
        $this->insertRecords(12, 'unreadable-%d.example');
        $plan = $this->preview(false);
        $this->assertGreaterThan(10, count($plan['to_add']));
        add_filter('closte_native_sync_batch_seconds', static fn () => 0.0);
        add_filter('closte_native_sync_slice', static fn () => 5);
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        $this->runSyncJob();
        $state = Sync_State::stored();
        $this->assertSame('applying', $state['status'], json_encode($state));
        $this->assertArrayHasKey('queue_deflated', $state['cursor']);
        // What a damaged option would hand back: not base64, or base64 of what is not deflated.
        $adds   = count($this->requestsTo('/adddomainalias'));
        $stored = $state;
        foreach (['not base64 at all!', base64_encode('not a deflated queue')] as $damaged) {
            Sync_State::save($stored, ['status' => 'applying', 'waiting' => true, 'cursor' => ['queue_deflated' => $damaged] + $stored['cursor']]);
            Background_Jobs::schedule(Sync_State::JOB_HOOK, 0, ['apply', $stored['run']], Background_Jobs::PRIORITY_SYNC);
            $this->runSyncJob();
            $state = Sync_State::get();
            $this->assertSame('failed', $state['status'], "not done: the names left were never added ($damaged)");
            $this->assertStringStartsWith('The names this sync run had left to add could not be read back', $state['error'], 'the operator\'s words, no exception class in front');
            $this->assertStringContainsString('start the sync again', $state['error']);
            $this->assertCount($adds, $this->requestsTo('/adddomainalias'), "nothing added from an unreadable queue ($damaged)");
        }
    }

    public function testARunWhoseStoredRemovalListIsGoneFailsWithWhatToDoAndRemovesNothing(): void
    {
        $shown = Sync_State::SHOWN;
        $stale = array_map(static fn ($i) => "gone-$i.example", range(1, $shown + 1));
        $this->sim->control('POST', '/domains', ['domains' => array_merge([CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK], $stale)]);
        foreach ($stale as $alias) {
            Alias_Registry::record($alias, 1, 'test');
        }
        $this->insertRecords(3, 'kept-%d.example');
        $plan = $this->preview(true);
        $this->assertSame(['to_remove' => true], $plan['cut'], 'a removal set longer than the page shows is stored apart');
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['typed_phrase']));
        // What the queued run finds if its removal list went (a damaged or deleted option).
        delete_site_option(Sync_State::REMOVALS_OPTION . '0');
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('failed', $state['status'], json_encode(array_diff_key($state, ['plan' => 1])));
        $this->assertSame(
            'The removal list of this preview is no longer stored (a later preview replaced it, or it was deleted). Nothing was removed; make a new preview.',
            $state['error'],
            'the operator\'s words, no exception class in front'
        );
        $this->assertSame([], $this->requestsTo('/deletedomainalias'), 'nothing removed without the confirmed list');
        $this->assertSame([], $this->requestsTo('/adddomainalias'), 'the run stopped before its adds too');
        $this->assertSame([], array_diff($stale, $this->sim->domains()), 'every alias still on Closte');
    }

    /**
     * A run's batch adds for 20 s, thousands of aliases, in one PHP process at 64 MB. Each add
     * writes records (ownership, certificate, a DNS job), and WordPress kept about 6 KB of each
     * for the rest of the process (the object cache's copy, ~7 hook counters per option name):
     * a run of 100,000 adds died at 5,700 (bench/wp/measure.php at 5 ms latency). Between
     * slices the batch now lets them go (Background_Jobs::release_process_memory()): what stays
     * per add is its name in the report.
     */
    public function testABatchsMemoryStaysFlatAcrossItsSlicesOfAdds(): void
    {
        $this->insertRecords(1500, 'flat-%d.example');
        $plan = $this->preview(false);
        $this->assertGreaterThanOrEqual(1500, $plan['counts']['to_add']);
        add_filter('closte_native_sync_slice', static fn () => 100);
        $cursor = null;
        $usage = [];
        do {
            // A deadline already past: one slice of 100 adds per call, the cursor kept here.
            $step = Sync_Plan::apply_step($plan, [], $cursor, null, 0.0);
            $cursor = $step['cursor'];
            $usage[] = memory_get_usage();
        } while (null === $step['report'] && count($usage) < 40);
        $report = $step['report'];
        $this->assertNotNull($report, 'the run ended');
        $this->assertSame($plan['counts']['to_add'], $report['counts']['added'], 'every add counted');
        $this->assertCount(Sync_State::SHOWN, $report['added'], 'the report keeps the first 1,000 names');
        $this->assertTrue($report['ok']);
        $this->assertGreaterThanOrEqual(15, count($usage), 'one slice of 100 per call');
        // From the end of the second slice to the end of the last adds: 1,300 and more.
        $adds = 100 * (count($usage) - 3);
        $perAdd = ($usage[count($usage) - 2] - $usage[1]) / $adds;
        $this->assertLessThan(400, $perAdd, sprintf('bytes kept per add over %d adds (%s)', $adds, implode(', ', $usage)));

        // The Sync page shows the report's count and where the rest is.
        update_site_option(Sync_State::OPTION, ['status' => 'done', 'mode' => 'apply', 'run' => 'flat', 'report' => $report, 'finished_at' => time()]);
        $page = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
        $this->assertSame(200, $page['status']);
        $this->assertStringContainsString(sprintf('%d added, 0 removed', $report['counts']['added']), $page['body']);
        $this->assertStringContainsString(sprintf('The first 1000 of %d are shown. The log (wu-logs/integration-closte.log) has every one.', $report['counts']['added']), $page['body']);
        $this->assertSame(Sync_State::SHOWN, substr_count(explode('closte-native-added', $page['body'], 3)[2] ?? '', '<tr>') - 1, 'the rows of the names kept, and the header row');
    }

    /**
     * Each add of a batch queues a certificate DNS job, due at once. The run's next batch is
     * queued after them; at the same priority Action Scheduler (3.6+: priority, attempts, time)
     * would run every one of them first, about 6,700 after a 20 s batch at 5 ms latency.
     */
    public function testARunsNextBatchIsClaimedBeforeTheCertificateJobsItsAddsQueued(): void
    {
        $this->insertRecords(12, 'next-%d.example');
        $plan = $this->preview(false);
        add_filter('closte_native_sync_batch_seconds', static fn () => 0.0);
        add_filter('closte_native_sync_slice', static fn () => 5);
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        $this->runSyncJob();
        $dns = array_column($this->dueJobs(\Closte_Native\Certificate_Lifecycle::DNS_HOOK), 'action_id');
        $this->assertCount(5, $dns, 'the first batch\'s adds queued their DNS jobs');
        $this->assertCount(1, $this->dueJobs(Sync_State::JOB_HOOK), 'and the run its next batch, after them');

        // One job claimed, as a queue runner's batch would take its first.
        wp_cache_flush();
        $this->assertSame(1, standin_as_run_queue(null, 1));
        wp_cache_flush();
        $pending = array_column($this->dueJobs(\Closte_Native\Certificate_Lifecycle::DNS_HOOK), 'action_id');
        $this->assertSame([], array_diff($dns, $pending), 'no DNS job ran first');
        $this->assertSame(10, Sync_State::get()['progress']['done'], 'the run\'s second batch did');
    }

    public function testRemovalsGoOutASliceAtATimeOverSeveralBatchesEachCheckingTheNetworkAgain(): void
    {
        $this->insertRecords(1, 'kept-%d.example');
        $stale = array_map(static fn ($i) => sprintf('gone-%02d.example', $i), range(1, 25));
        $this->sim->control('POST', '/domains', ['domains' => array_merge([CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK, 'kept-1.example'], $stale)]);
        foreach ($stale as $alias) {
            Alias_Registry::record($alias, 1, 'test');
        }
        $plan = $this->preview(true);
        $this->assertSame([], $plan['to_add']);
        $this->assertSame($stale, array_keys($plan['to_remove']));

        // Slices of 1 add, so of 10 removals; every batch ends after its first slice.
        add_filter('closte_native_sync_batch_seconds', static fn () => 0.0);
        add_filter('closte_native_sync_slice', static fn () => 1);
        $listings = count($this->requestsTo('/getdomains'));
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('applying', $state['status'], json_encode($state));
        $this->assertSame(['done' => 10, 'total' => 25], array_intersect_key($state['progress'], ['done' => 1, 'total' => 1]));
        $this->assertCount(10, $this->requestsTo('/deletedomainalias'), 'one slice of removals in the first batch');

        // Between two batches: a removal left is mapped again, and an alias appears on Closte.
        global $wpdb;
        $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => 1, 'domain' => 'gone-15.example']);
        $this->sim->control('POST', '/domains', ['domains' => array_merge($this->sim->domains(), ['late.example'])]);
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('applying', $state['status'], json_encode($state));
        $this->assertSame(['done' => 20, 'total' => 24], array_intersect_key($state['progress'], ['done' => 1, 'total' => 1]), 'the one used now left the total');
        $this->runSyncJob();

        $state = Sync_State::get();
        $this->assertSame('done', $state['status'], json_encode($state));
        $report = $state['report'];
        $this->assertSame(3, $report['batches']);
        $removed = array_values(array_diff($stale, ['gone-15.example']));
        $this->assertSame($removed, $report['removed'], 'in order, each once');
        $this->assertSame(['gone-15.example'], array_keys($report['kept']));
        $this->assertSame('confirmed, but kept: now used by domain record of site 1', Sync_Messages::text($report['kept']['gone-15.example']));
        $this->assertSame(['late.example'], array_keys($report['skipped']), 'the confirmed removals of later slices are not reported as unconfirmed');
        $this->assertSame('not removed: it was not in the confirmed preview', Sync_Messages::text($report['skipped']['late.example']));
        $this->assertSame([], $report['failed']);
        $aliases = $this->sim->domains();
        sort($aliases);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'gone-15.example', 'kept-1.example', 'late.example', 'www.' . CLOSTE_E2E_NETWORK], $aliases);
        $this->assertCount(24, $this->requestsTo('/deletedomainalias'), 'no removal sent twice');
        $this->assertCount($listings + 4, $this->requestsTo('/getdomains'), 'Closte listed by the first batch and before each slice of removals');
        foreach ($removed as $alias) {
            $this->assertFalse(Alias_Registry::owns(Alias_Registry::get($alias)), "ownership of $alias ended");
        }
        $this->assertTrue(Alias_Registry::owns(Alias_Registry::get('gone-15.example')), 'kept, still recorded as ours');
    }

    public function testARunCancelledBetweenBatchesStopsThereAndReportsWhatItDid(): void
    {
        $this->insertRecords(12, 'cancelled-%d.example');
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK, 'stale-c.example']]);
        Alias_Registry::record('stale-c.example', 1, 'test');
        $plan = $this->preview(true);
        $this->assertCount(12, $plan['to_add']);
        add_filter('closte_native_sync_batch_seconds', static fn () => 0.0);
        add_filter('closte_native_sync_slice', static fn () => 5);
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('applying', $state['status'], json_encode($state));
        $this->assertTrue(Sync_State::cancellable($state), 'a run between batches can be cancelled');
        $page = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
        $this->assertStringContainsString('closte-native-sync-cancel', $page['body'], 'the page offers to cancel between batches');

        $this->assertTrue(Sync_State::cancel());
        $this->assertSame([], $this->pendingJobs(Sync_State::JOB_HOOK), 'the next batch is dropped');
        $state = Sync_State::get();
        $this->assertSame('done', $state['status'], json_encode($state));
        $this->assertFalse(Sync_State::is_busy($state));
        $report = $state['report'];
        $this->assertSame(['done' => 5, 'total' => 13], $report['cancelled']);
        $this->assertFalse($report['ok']);
        $this->assertCount(5, $report['added']);
        $this->assertSame([], $report['removed']);
        $this->assertContains('stale-c.example', $this->sim->domains(), 'a run cancelled before its removals removed nothing');
        $this->assertCount(5, $this->requestsTo('/adddomainalias'));
        $this->assertStringContainsString('cancelled between batches', $this->log());
        $page = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
        $this->assertStringContainsString('Cancelled between two batches after 5 of 13 changes', $page['body']);

        // While a batch runs (not waiting), or once done, there is nothing to cancel.
        $this->assertInstanceOf(\WP_Error::class, Sync_State::cancel());
    }

    public function testAStoredPlanKeepsTheFirstEntriesOfItsListsAndItsWholeRemovalSetApart(): void
    {
        $shown = Sync_State::SHOWN;
        $this->insertRecords($shown + 200, 'cut-%d.example');
        $stale = array_map(static fn ($i) => "stale-$i.example", range(1, $shown + 100));
        $this->sim->control('POST', '/domains', ['domains' => array_merge([CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK], $stale)]);
        foreach ($stale as $alias) {
            Alias_Registry::record($alias, 1, 'test');
        }
        $plan = $this->preview(true);
        $this->assertSame($shown + 200, $plan['counts']['to_add']);
        $this->assertSame($shown + 100, $plan['counts']['to_remove']);
        $this->assertCount($shown, $plan['to_add'], 'the stored plan keeps the first entries for the page');
        $this->assertCount($shown, $plan['to_remove']);
        $this->assertSame(['to_add' => true, 'to_remove' => true], $plan['cut']);
        $this->assertLessThan(400000, strlen(serialize(get_site_option(Sync_State::OPTION))), 'the stored state stays small');
        $removals = Sync_State::removals($plan);
        sort($removals);
        $expected = $stale;
        sort($expected);
        $this->assertSame($expected, $removals, 'the whole removal set, stored apart');
        $this->assertSame(Sync_Plan::names_token($stale), $plan['token']);
        $this->assertSame(sprintf('remove %d', $shown + 100), $plan['typed_phrase']);

        $page = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
        $this->assertStringContainsString(sprintf('To add (%d)', $shown + 200), $page['body']);
        $this->assertStringContainsString(sprintf('The first %d of %d are shown.', $shown, $shown + 100), $page['body']);
        $this->assertStringContainsString(sprintf('%d to add, %d to remove', $shown + 200, $shown + 100), $page['body']);
        $this->assertStringContainsString(sprintf('removing exactly the %d aliases of this preview', $shown + 100), $page['body'], 'the run button names the whole set, not the table cut');
        $this->assertStringNotContainsString('removing exactly the aliases listed', $page['body']);

        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['typed_phrase']));
        for ($jobs = 0; $jobs < 10 && 'done' !== Sync_State::get()['status']; $jobs++) {
            $this->runSyncJob();
        }
        $report = Sync_State::get()['report'];
        $this->assertTrue($report['ok'], json_encode(array_diff_key($report, ['added' => 1, 'removed' => 1])));
        $this->assertSame($shown + 100, $report['counts']['removed'], 'every confirmed removal, also those the page did not show');
        $this->assertSame($shown + 200, $report['counts']['added']);
        $this->assertCount($shown, $report['removed'], 'the report keeps the first names of each list');
        $this->assertCount($shown, $report['added']);
        $this->assertSame([], array_intersect($stale, $this->sim->domains()), 'every confirmed removal made');
    }

    public function testAJobThatRunsOutOfMemoryIsShownAsFailedWithWhatToDo(): void
    {
        $this->insertRecords(3, 'dies-%d.example');
        $this->assertTrue(Sync_Service::request_preview(false));
        $runner = $this->runQueueElsewhere(['CLOSTE_E2E_EXHAUST_MEMORY_ON' => 'closte_native_sync_subdomains']);
        $this->assertSame(255, $runner['exit'], 'the job died of a fatal error: ' . $runner['stderr']);
        wp_cache_flush();

        $state = Sync_State::get();
        $this->assertSame('failed', $state['status'], json_encode($state));
        $this->assertFalse(Sync_State::is_busy($state), 'a new preview may start at once');
        $this->assertStringContainsString('The sync preview stopped: PHP ran out of memory (Allowed memory size of', $state['error']);
        $this->assertStringContainsString('Raise WP_MEMORY_LIMIT in wp-config.php', $state['error']);
        $this->assertStringContainsString('Then make a new preview.', $state['error']);
        $this->assertStringContainsString('sync preview', $this->log());
        $this->assertStringContainsString('died: Allowed memory size', $this->log());

        $page = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
        $this->assertSame(200, $page['status']);
        $this->assertStringContainsString('closte-native-sync-died', $page['body']);
        $this->assertStringContainsString('PHP ran out of memory', $page['body']);
        $this->assertStringContainsString('id="closte-native-preview"', $page['body'], 'the page offers a new preview');
        $this->assertStringNotContainsString('preparing the preview', $page['body']);

        // The next preview runs (and the old death is not shown for it).
        $this->runQueue();
        $this->assertTrue(Sync_Service::request_preview(false));
        $this->runSyncJob();
        $this->assertSame('planned', Sync_State::get()['status']);
    }

    public function testAJobThatStopsGivingSignsOfLifeIsShownAsFailedAfterAMinute(): void
    {
        $this->assertTrue(Sync_Service::request_preview(false));
        $state = Sync_State::stored();
        // A worker killed right after it claimed the job: previewing, its last beat 59 s ago.
        update_site_option(Sync_State::OPTION, ['status' => 'previewing', 'heartbeat' => time() - 59] + $state);
        Sync_State::beat($state['run']);
        update_site_option(Sync_State::BEAT_OPTION, ['run' => $state['run'], 'at' => time() - 59]);
        wp_cache_flush();
        $this->assertSame('previewing', Sync_State::get()['status'], 'within the minute it still counts as running');
        update_site_option(Sync_State::BEAT_OPTION, ['run' => $state['run'], 'at' => time() - 61]);
        update_site_option(Sync_State::OPTION, ['status' => 'previewing', 'heartbeat' => time() - 61] + $state);
        wp_cache_flush();
        $now = Sync_State::get();
        $this->assertSame('failed', $now['status']);
        $this->assertStringContainsString('gave no sign of life for over a minute', $now['error']);
        $status = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
        $this->assertStringContainsString('gave no sign of life for over a minute', $status['body']);
        $this->assertTrue(Sync_Service::request_preview(false), 'a new preview is accepted');
        $this->runQueue();
    }

    /**
     * The worst shape for the stored plan: half the names to add, as many aliases nothing uses
     * (unowned), at 100,000 names, the most a listing may hold. Before the plan was stored cut
     * (Sync_State::store_plan()), a preview of this shape died in 64 MB at 30,000 names, writing
     * its plan through wpdb; before the wanted names were held once (Sync_Plan::names_to_send()
     * and the PHP implementation's closte_sync keeping strings), the PHP implementation's died
     * at 60,000 on PHP 8.4 and at 100,000 on 8.2; before the PHP implementation's closte_sync
     * shared the caller's list of names and kept a map of only the adds that are a listed
     * alias's twin, it died at 100,000 on PHP 8.4 / WordPress 6.8 (at Sync::plan's maps).
     * 100,000 names on both implementations; CLOSTE_E2E_SYNC_SCALE sets another size.
     */
    public function testAPreviewOfManyNamesAndAsManyAliasesFitsIn64MegabytesInItsOwnProcess(): void
    {
        $size = (int) (getenv('CLOSTE_E2E_SYNC_SCALE') ?: 100000);
        $half = intdiv($size, 2);
        $this->insertRecords($size, 'scale-%d.example');
        $aliases = array_map(static fn ($i) => sprintf('scale-%d.example', $i * 2), range(1, $size));
        foreach (array_chunk($aliases, 20000) as $chunk) {
            $this->sim->control('POST', '/domains', ['domains' => $chunk]);
        }
        $this->assertTrue(Sync_Service::request_preview(true));
        $runner = $this->runQueueElsewhere([], '64M');
        wp_cache_flush();
        $state = Sync_State::get();
        $this->assertSame('planned', $state['status'], $runner['stderr'] . "\n" . json_encode(array_diff_key($state, ['plan' => 1])));
        $plan = $state['plan'];
        $this->assertContains($plan['counts']['to_add'] - $half, [0, 1, 2], 'the odd records, and the network\'s host and its twin when Closte lacks them');
        $this->assertCount(Sync_State::SHOWN, $plan['to_add'], 'the stored plan keeps the first entries for the page');
        $this->assertSame($half, $plan['unchanged']);
        $this->assertSame($half, $plan['counts']['unowned'], 'aliases nothing uses, not added by this plugin');
        $this->assertSame($size, $plan['listed']);
        $this->assertSame('domain record of site 1', \Closte_Native\Sync_Messages::text($plan['to_add']['scale-1.example']));

        // The run's first batch does the most: it reads the network again, lists Closte (a dry
        // run of every wanted name) and queues what is missing, then adds a slice. Alone in a
        // process at 64 MB, its batch cut after that slice.
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $plan['needs_typed'] ? $plan['typed_phrase'] : ''));
        $runner = $this->runQueueElsewhere(['CLOSTE_E2E_RUNNER_ONE_JOB_OF' => Sync_State::JOB_HOOK, 'CLOSTE_E2E_SYNC_BATCH_SECONDS' => '0.001'], '64M');
        wp_cache_flush();
        $state = Sync_State::get();
        $this->assertSame('applying', $state['status'], $runner['stderr'] . "\n" . json_encode(array_diff_key($state, ['plan' => 1, 'cursor' => 1])));
        $this->assertSame(50, $state['progress']['done'], 'one slice of adds sent');
        $this->assertSame($plan['counts']['to_add'], $state['progress']['total']);
    }
}
