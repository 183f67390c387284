<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Registry;
use Closte_Native\Network_Domains;
use Closte_Native\Sync_Page;
use Closte_Native\Sync_Messages;
use Closte_Native\Sync_Plan;
use Closte_Native\Sync_Service;
use Closte_Native\Sync_State;

/**
 * Nothing we do may take a live customer domain off Closte by mistake: truthful lists, a prune
 * that previews, confirms and refuses incomplete sources, ownership on removal, renames, and a
 * sync that runs in the background. In the real multisite, against the simulator; Ultimate
 * Multisite and Action Scheduler are STAND-INS (fixtures/).
 */
final class SyncSafetyTest extends E2eTestCase
{
    /** @var string[] domains of blog rows inserted directly by a test */
    private array $fakeSites = [];

    protected function tearDown(): void
    {
        global $wpdb;
        foreach (array_chunk($this->fakeSites, 500) as $chunk) {
            $wpdb->query("DELETE FROM {$wpdb->blogs} WHERE domain IN (" . implode(',', array_map(static fn ($d) => $wpdb->prepare('%s', $d), $chunk)) . ')');
        }
        $this->fakeSites = [];
        wp_cache_flush();
        parent::tearDown();
    }

    /** Domain records inserted in one statement, without firing hooks (drift). */
    private function insertRecords(array $domains, int $site = 1): void
    {
        global $wpdb;
        foreach (array_chunk($domains, 500) as $chunk) {
            $values = implode(',', array_map(static fn ($d) => $wpdb->prepare('(%d, %s)', $site, $d), $chunk));
            $wpdb->query('INSERT INTO ' . Standin_Domain_Manager::table() . " (blog_id, domain) VALUES $values");
        }
    }

    /** Rows in wp_blogs that no WordPress API would accept (ports, underscores) or many of them. */
    private function insertSites(array $domains): void
    {
        global $wpdb;
        $now = current_time('mysql');
        foreach (array_chunk($domains, 500) as $chunk) {
            $values = implode(',', array_map(static fn ($d) => $wpdb->prepare("(1, %s, '/', %s, %s)", $d, $now, $now), $chunk));
            $wpdb->query("INSERT INTO {$wpdb->blogs} (site_id, domain, path, registered, last_updated) VALUES $values");
            array_push($this->fakeSites, ...$chunk);
        }
    }

    private function previewNow(bool $prune): array
    {
        $this->assertTrue(Sync_Service::request_preview($prune));
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('planned', $state['status'], json_encode($state));
        return $state['plan'];
    }

    /** Ownership records, as if this plugin had added these aliases for site 1. */
    private function own(array $aliases): void
    {
        foreach ($aliases as $alias) {
            Alias_Registry::record($alias, 1, 'test');
        }
    }

    /** Every reason of a plan or report list, in words. */
    private function texts(array $reasons): array
    {
        return array_map([Sync_Messages::class, 'text'], $reasons);
    }

    /** Confirms the plan as shown (with its typed phrase when it needs one) and runs it. */
    private function applyNow(array $plan, ?string $typed = null, array $unowned = []): array
    {
        $typed ??= $plan['needs_typed'] ? $plan['typed_phrase'] : '';
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], $typed, $unowned, [] === $unowned ? '' : Sync_Plan::unowned_phrase(count($unowned))));
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('done', $state['status'], json_encode($state));
        return $state['report'];
    }

    public function testTheStandInHonoursTheQueryLayersNumberSemanticsAndWePageThroughAll(): void
    {
        $domains = [];
        for ($i = 1; $i <= 1203; $i++) {
            $domains[] = "paged-$i.example";
        }
        $this->insertRecords($domains);
        $this->assertCount(1, wu_get_domains(['number' => -1]), 'absint(-1) is LIMIT 1, as in BerlinDB');
        $this->assertCount(100, wu_get_domains(), 'the default page is 100');
        $this->assertCount(1203, wu_get_domains(['number' => 0]), '0 is no limit');
        $this->assertSame('paged-1203.example', wu_get_domains(['number' => 1])[0]->get_domain(), 'newest first by default');
        $this->assertSame('paged-3.example', wu_get_domains(['number' => 1, 'offset' => 2, 'order' => 'ASC'])[0]->get_domain());

        $records = Network_Domains::domain_records();
        $this->assertCount(1203, $records['rows'], 'every page, not one');
        $this->assertSame($domains, array_column($records['rows'], 'domain'));
        $collected = Network_Domains::collect();
        $this->assertTrue($collected['complete']);
        $this->assertArrayHasKey('paged-1203.example', $collected['domains']);
        $this->assertArrayHasKey(CLOSTE_E2E_NETWORK, $collected['domains']);
    }

    public function testThePreviewIsExactlyWhatTheConfirmedRunRemovesThroughTheAdminPosts(): void
    {
        $this->insertRecords(['kept-1.example', 'kept-2.example', 'missing.example']);
        $this->sim->control('POST', '/domains', ['domains' => [
            CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK, '*.' . CLOSTE_E2E_NETWORK,
            'kept-1.example', 'kept-2.example', 'stale-1.example', 'stale-2.example', 'operator-extra.example',
        ]]);
        $this->own(['stale-1.example', 'stale-2.example', 'operator-extra.example']);
        add_filter('closte_native_protected_aliases', $protect = static fn (array $p) => array_merge($p, ['operator-extra.example']));
        try {
            $page = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync');
            $this->assertSame(200, $page['status'], substr($page['body'], 0, 300));
            $this->assertSame(1, preg_match('/name="_wpnonce" value="([0-9a-f]+)"/', $page['body'], $nonce));
            $post = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => 'closte_native_sync', '_wpnonce' => $nonce[1], 'step' => 'preview', 'prune' => '1']);
            $this->assertSame(302, $post['status'], substr($post['body'], 0, 300));
            $this->assertSame([], $this->sim->requests(), 'the admin request itself asks Closte nothing: the work is a background job');
            wp_cache_flush();
            $this->assertSame('queued', Sync_State::get()['status']);

            // The protection filter lives in this process; the job runs here too.
            $this->runSyncJob();
            $plan = Sync_State::get()['plan'];
            $this->assertSame(['stale-1.example', 'stale-2.example'], array_keys($plan['to_remove']));
            $this->assertSame(['missing.example'], array_keys($plan['to_add']));
            $this->assertSame(['*.' . CLOSTE_E2E_NETWORK, 'operator-extra.example', 'www.' . CLOSTE_E2E_NETWORK], array_keys($plan['kept']));
            $this->assertStringContainsString('added by this plugin for site 1', Sync_Messages::text($plan['to_remove']['stale-1.example']));
            $this->assertSame(Sync_Plan::confirmation_token($plan), $plan['token']);
            $this->assertSame(['/getdomains'], array_column($this->sim->requests(), 'path'), 'the preview changed nothing');

            // 2 of Closte's 8 aliases is more than 10 %: the phrase must be typed.
            $this->assertTrue($plan['needs_typed']);
            $untyped = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => 'closte_native_sync', '_wpnonce' => $nonce[1], 'step' => 'apply', 'plan' => $plan['id'], 'token' => $plan['token']]);
            $this->assertSame(302, $untyped['status']);
            wp_cache_flush();
            $this->assertSame('planned', Sync_State::get()['status'], 'refused: nothing queued');
            $wrongToken = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => 'closte_native_sync', '_wpnonce' => $nonce[1], 'step' => 'apply', 'plan' => $plan['id'], 'token' => '2-000000000000', 'typed' => 'remove 2']);
            $this->assertSame(302, $wrongToken['status']);
            wp_cache_flush();
            $this->assertSame('planned', Sync_State::get()['status'], 'a token for another set is refused');
            $this->assertSame([], $this->requestsTo('/deletedomainalias'));

            $apply = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => 'closte_native_sync', '_wpnonce' => $nonce[1], 'step' => 'apply', 'plan' => $plan['id'], 'token' => $plan['token'], 'typed' => 'remove 2']);
            $this->assertSame(302, $apply['status']);
            $this->runSyncJob();
            $report = Sync_State::get()['report'];
            $this->assertSame(array_keys($plan['to_remove']), $report['removed'], 'removed exactly the previewed set');
            $this->assertSame(['missing.example'], $report['added']);
            $this->assertSame([
                '*.' . CLOSTE_E2E_NETWORK, CLOSTE_E2E_NETWORK, 'kept-1.example', 'kept-2.example', 'missing.example', 'operator-extra.example', 'www.' . CLOSTE_E2E_NETWORK,
            ], $this->sim->domains());
            $this->assertStringContainsString('sync of 4 domains (prune): OK, 1 added, 2 removed, 3 unchanged, 0 kept, 0 skipped, 0 failed', $this->log());

            $forged = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => 'closte_native_sync', '_wpnonce' => 'forged', 'step' => 'preview', 'prune' => '1']);
            $this->assertNotSame(302, $forged['status'], 'a request without a valid nonce is refused');
        } finally {
            remove_filter('closte_native_protected_aliases', $protect);
        }
    }

    public function testPruneOffersOnlyAliasesThisPluginAddedAndLeavesTheOthersAlone(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'ours-unused.example', 'hand-added.example', 'sunrise-host.example']]);
        $this->own(['ours-unused.example']);
        $plan = $this->previewNow(true);
        $this->assertSame(['ours-unused.example'], array_keys($plan['to_remove']));
        $this->assertSame(['hand-added.example', 'sunrise-host.example'], array_keys($plan['unowned']));
        $this->assertStringStartsWith('not added by this plugin: left alone', Sync_Messages::text($plan['unowned']['hand-added.example']));
        $report = $this->applyNow($plan);
        $this->assertSame(['ours-unused.example'], $report['removed']);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'hand-added.example', 'sunrise-host.example'], $this->sim->domains());
        $this->assertSame([], $this->requestsTo('/deletedomainalias', 'hand-added.example'));
        $this->assertFalse(Alias_Registry::owns(Alias_Registry::get('ours-unused.example')), 'the removal ended our ownership');
    }

    public function testAnAliasThisPluginDidNotAddIsRemovedOnlyWhenNamedWithItsOwnPhrase(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'hand-1.example', 'hand-2.example']]);
        $plan = $this->previewNow(true);
        $this->assertSame([], $plan['to_remove']);
        $this->assertSame(['hand-1.example', 'hand-2.example'], array_keys($plan['unowned']));

        $untyped = Sync_Service::request_apply($plan['id'], $plan['token'], '', ['hand-1.example']);
        $this->assertSame('closte-sync-unowned-typed', $untyped->get_error_code());
        $wrongCount = Sync_Service::request_apply($plan['id'], $plan['token'], '', ['hand-1.example'], 'remove 2 unowned');
        $this->assertSame('closte-sync-unowned-typed', $wrongCount->get_error_code());
        $notListed = Sync_Service::request_apply($plan['id'], $plan['token'], '', [CLOSTE_E2E_NETWORK], 'remove 1 unowned');
        $this->assertSame('closte-sync-unowned-unknown', $notListed->get_error_code());
        $this->assertSame([], $this->requestsTo('/deletedomainalias'), 'nothing removed by refused confirmations');

        $report = $this->applyNow($plan, null, ['hand-1.example']);
        $this->assertSame(['hand-1.example'], $report['removed']);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'hand-2.example'], $this->sim->domains());
        $this->assertSame('not removed: it was not in the confirmed preview', Sync_Messages::text($report['skipped']['hand-2.example']));
    }

    public function testTheWwwTwinOfAMappedDomainIsKeptBySyncAndByUnmapping(): void
    {
        $this->insertRecords(['alpha-shop.com', 'www.beta-shop.com']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'alpha-shop.com', 'www.alpha-shop.com', 'beta-shop.com', 'www.beta-shop.com', 'gamma-gone.com']]);
        // Even aliases this plugin added: the twin is served by Ultimate Multisite.
        $this->own(['www.alpha-shop.com', 'beta-shop.com', 'gamma-gone.com']);
        $plan = $this->previewNow(true);
        $this->assertSame(['gamma-gone.com'], array_keys($plan['to_remove']));
        $this->assertSame('www form of alpha-shop.com, served by Ultimate Multisite', Sync_Messages::text($plan['kept']['www.alpha-shop.com']));
        $this->assertSame('bare form of www.beta-shop.com, served by Ultimate Multisite', Sync_Messages::text($plan['kept']['beta-shop.com']));
        $report = $this->applyNow($plan);
        $this->assertSame(['gamma-gone.com'], $report['removed']);
        $this->assertContains('www.alpha-shop.com', $this->sim->domains());
        $this->assertContains('beta-shop.com', $this->sim->domains());

        // Unmapping: an event for the twin of a mapped domain leaves it in place.
        do_action('wu_remove_domain', 'www.alpha-shop.com', '1');
        $this->runQueue();
        $this->assertContains('www.alpha-shop.com', $this->sim->domains());
        $this->assertSame([], $this->requestsTo('/deletedomainalias', 'www.alpha-shop.com'));
        $this->assertStringContainsString('remove_domain www.alpha-shop.com (site 1): left in place on Closte: still used by www form of alpha-shop.com, served by Ultimate Multisite', $this->log());
    }

    public function testUnmappingComparesNormalFormsNotTheCollation(): void
    {
        // Stored with a capital letter and a trailing dot: the database's `=` would not find it.
        $this->insertRecords(['Dotted-Shop.example.']);
        $this->sim->control('POST', '/domains', ['domains' => ['dotted-shop.example']]);
        $this->own(['dotted-shop.example']);
        do_action('wu_remove_domain', 'dotted-shop.example', '2');
        $this->runQueue();
        $this->assertSame(['dotted-shop.example'], $this->sim->domains());
        $this->assertStringContainsString('left in place on Closte: still used by domain record of site 1', $this->log());
    }

    public function testPruneIsRefusedWhenUltimateMultisiteIsNotLoaded(): void
    {
        $this->insertRecords(['customer.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'customer.example', 'other-customer.example']]);
        $this->own(['customer.example', 'other-customer.example']);
        $this->assertTrue(Sync_Service::request_preview(true));
        // The queue runs in a request in which Ultimate Multisite is deactivated.
        $run = $this->wpCli(['run-queue'], true, ['CLOSTE_E2E_WITHOUT_UM' => '1']);
        $this->assertSame(0, $run['exit'], $run['stderr']);
        wp_cache_flush();
        $plan = Sync_State::get()['plan'];
        $this->assertFalse($plan['prune']);
        $this->assertSame([], $plan['to_remove']);
        $this->assertStringContainsString('Ultimate Multisite is not loaded', implode(' ', $this->texts($plan['warnings'])));
        $report = $this->applyNow($plan);
        $this->assertSame([], $report['removed']);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'customer.example', 'other-customer.example'], $this->sim->domains(), 'nothing removed');
        $this->assertSame([], $this->requestsTo('/deletedomainalias'));
    }

    public function testPruneIsRefusedWhenTheDomainQueryFailsInTheDatabase(): void
    {
        $this->insertRecords(['customer.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'customer.example']]);
        $this->own(['customer.example']);
        update_site_option('standin_domain_query_fails', 1);
        $plan = $this->previewNow(true);
        $this->assertFalse($plan['prune']);
        $this->assertStringContainsString("reading Ultimate Multisite's mapped domains failed", implode(' ', $this->texts($plan['warnings'])));
        $this->assertStringContainsString("doesn't exist", implode(' ', $this->texts($plan['warnings'])), 'the database error is named');
        $this->assertSame([], $plan['to_remove']);
        $this->applyNow($plan);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'customer.example'], $this->sim->domains());
    }

    public function testPruneIsRefusedWithAnEmptyList(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['a.example', 'b.example']]);
        $this->own(['a.example', 'b.example']);
        add_filter('closte_native_sync_domains', $nothing = static fn () => []);
        try {
            $plan = $this->previewNow(true);
            $this->assertFalse($plan['prune']);
            $this->assertStringContainsString('empty', implode(' ', $this->texts($plan['warnings'])));
            $this->applyNow($plan);
        } finally {
            remove_filter('closte_native_sync_domains', $nothing);
        }
        $this->assertSame(['a.example', 'b.example'], $this->sim->domains());
    }

    public function testTheRunRemovesOnlyConfirmedAliasesStillUnusedAgainstFreshLists(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'gone-1.example', 'gone-2.example', 'remapped.example']]);
        $this->own(['gone-1.example', 'gone-2.example', 'remapped.example']);
        $plan = $this->previewNow(true);
        $this->assertSame(['gone-1.example', 'gone-2.example', 'remapped.example'], array_keys($plan['to_remove']));
        // Before the operator confirms, a customer maps remapped.example and a new alias appears.
        $this->insertRecords(['remapped.example']);
        $this->sim->control('POST', '/domains', ['domains' => ['appeared-later.example']]);
        $report = $this->applyNow($plan);
        $this->assertSame(['gone-1.example', 'gone-2.example'], $report['removed']);
        $this->assertSame('confirmed, but kept: now used by domain record of site 1', Sync_Messages::text($report['kept']['remapped.example']));
        $this->assertSame('not removed: it was not in the confirmed preview', Sync_Messages::text($report['skipped']['appeared-later.example']));
        $this->assertSame(['appeared-later.example', CLOSTE_E2E_NETWORK, 'remapped.example'], $this->sim->domains());
    }

    public function testManyRemovalsNeedTheTypedPhraseAndAChangedSetIsRefused(): void
    {
        $stale = [];
        for ($i = 1; $i <= 30; $i++) {
            $stale[] = "stale-$i.example";
        }
        $this->sim->control('POST', '/domains', ['domains' => array_merge([CLOSTE_E2E_NETWORK], $stale)]);
        $this->own($stale);
        $plan = $this->previewNow(true);
        $this->assertTrue($plan['needs_typed']);
        $this->assertSame('remove 30', $plan['typed_phrase']);

        $untyped = Sync_Service::request_apply($plan['id'], $plan['token']);
        $this->assertInstanceOf(WP_Error::class, $untyped);
        $this->assertSame('closte-sync-typed', $untyped->get_error_code());
        $fewer = Sync_Service::request_apply($plan['id'], Sync_Plan::names_token(array_slice(array_keys($plan['to_remove']), 1)), 'remove 30');
        $this->assertSame('closte-sync-mismatch', $fewer->get_error_code());
        $stalePlan = Sync_Service::request_apply('another-plan', $plan['token'], 'remove 30');
        $this->assertSame('closte-sync-stale', $stalePlan->get_error_code());
        $this->assertSame([], $this->requestsTo('/deletedomainalias'), 'nothing removed by refused confirmations');

        $report = $this->applyNow($plan, 'Remove 30 ');
        $this->assertCount(30, $report['removed']);
        $this->assertSame([CLOSTE_E2E_NETWORK], $this->sim->domains());
    }

    public function testADoubleSubmitQueuesOneSync(): void
    {
        $this->assertTrue(Sync_Service::request_preview(false));
        $second = Sync_Service::request_preview(true);
        $this->assertInstanceOf(WP_Error::class, $second);
        $this->assertSame('closte-sync-busy', $second->get_error_code());
        $this->assertCount(1, $this->pendingJobs(Sync_State::JOB_HOOK));
        $this->assertFalse(Sync_State::get()['prune'], 'the first request stands');
    }

    public function testAnInvalidSiteDomainBlocksRemovalsAndIsReportedNotFatal(): void
    {
        $this->insertSites(['bad_name.' . CLOSTE_E2E_NETWORK, 'good-site.' . CLOSTE_E2E_NETWORK]);
        // Its alias on Closte must not look unused: the bad name cannot be compared with it.
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'bad-name.' . CLOSTE_E2E_NETWORK, 'ours-unused.example']]);
        $this->own(['bad-name.' . CLOSTE_E2E_NETWORK, 'ours-unused.example']);
        foreach ([false, true] as $prune) {
            $plan = $this->previewNow($prune);
            $this->assertArrayHasKey('bad_name.' . CLOSTE_E2E_NETWORK, $plan['skipped']);
            $this->assertStringContainsString('contains \'_\'', Sync_Messages::text($plan['skipped']['bad_name.' . CLOSTE_E2E_NETWORK]));
            $warnings = implode(' ', $this->texts($plan['warnings']));
            $this->assertStringContainsString("1 of the network's names cannot be normalised", $warnings, 'with or without removals, the preview says what is missing');
            $this->assertStringContainsString('bad_name.' . CLOSTE_E2E_NETWORK, $warnings);
            $this->assertFalse($plan['prune']);
            $this->assertSame([], $plan['to_remove']);
            $this->assertSame([], $plan['unowned']);
            if (! $prune) {
                Sync_State::discard();
            }
        }
        $report = $this->applyNow($plan);
        $this->assertContains('good-site.' . CLOSTE_E2E_NETWORK, $report['added']);
        $this->assertArrayHasKey('bad_name.' . CLOSTE_E2E_NETWORK, $report['skipped']);
        $this->assertSame([], $report['removed']);
        $this->assertNotSame([], $report['warnings']);
        $this->assertSame([], $this->requestsTo('/deletedomainalias'));
    }

    public function testAPreviewWithoutRemovalsStillWarnsWhenTheDomainQueryFails(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK]]);
        update_site_option('standin_domain_query_fails', 1);
        $plan = $this->previewNow(false);
        $this->assertStringContainsString("reading Ultimate Multisite's mapped domains failed", implode(' ', $this->texts($plan['warnings'])));
        $this->assertSame([], $plan['to_add'], 'nothing to add, yet not "all in sync": the warning says the list is incomplete');
    }

    public function testAFailingNetworksQueryBlocksRemovals(): void
    {
        global $wpdb;
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'ours-unused.example']]);
        $this->own(['ours-unused.example']);
        $this->assertTrue(Sync_Service::request_preview(true));
        $site = $wpdb->site;
        $wpdb->site = $wpdb->base_prefix . 'site_missing'; // the job below runs in this process
        $suppress = $wpdb->suppress_errors(true);
        try {
            $this->runSyncJob();
        } finally {
            $wpdb->site = $site;
            $wpdb->suppress_errors($suppress);
        }
        $plan = Sync_State::get()['plan'];
        $this->assertFalse($plan['prune']);
        $this->assertSame([], $plan['to_remove']);
        $this->assertStringContainsString("the network's own domains (wp_site) could not be read", implode(' ', $this->texts($plan['warnings'])));
    }

    public function testAnAliasMappedWhileTheAddsRunIsKept(): void
    {
        $this->insertRecords(['new-customer.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'soon-used.example', 'www.soon-twin.example', 'gone.example']]);
        $this->own(['soon-used.example', 'www.soon-twin.example', 'gone.example']);
        $plan = $this->previewNow(true);
        $this->assertSame(['gone.example', 'soon-used.example', 'www.soon-twin.example'], array_keys($plan['to_remove']));
        // The network is read at the start of the run and again just before the removals: a
        // customer maps two names while the adds run (the second read sees them).
        $reads = 0;
        add_filter('closte_native_sync_domains', $mapMeanwhile = function (array $domains) use (&$reads): array {
            if (2 === ++$reads) {
                $this->insertRecords(['soon-used.example', 'soon-twin.example']);
                $domains['soon-used.example'] = Sync_Messages::reason('record', 1);
                $domains['soon-twin.example'] = Sync_Messages::reason('record', 1);
            }
            return $domains;
        });
        try {
            $report = $this->applyNow($plan);
        } finally {
            remove_filter('closte_native_sync_domains', $mapMeanwhile);
        }
        $this->assertSame(2, $reads);
        $this->assertSame(['gone.example'], $report['removed']);
        $this->assertSame(['new-customer.example', 'soon-twin.example'], $report['added'], 'what was mapped meanwhile is added too');
        $this->assertSame('confirmed, but kept: now used by domain record of site 1', Sync_Messages::text($report['kept']['soon-used.example']));
        $this->assertSame('confirmed, but kept: now used by www form of soon-twin.example, served by Ultimate Multisite', Sync_Messages::text($report['kept']['www.soon-twin.example']));
        $this->assertSame([CLOSTE_E2E_NETWORK, 'new-customer.example', 'soon-twin.example', 'soon-used.example', 'www.soon-twin.example'], $this->sim->domains());
    }

    public function testOwnershipIsRecordedAsEachResultArrivesSoAKilledRunLeavesTrueRecords(): void
    {
        global $wpdb;
        $names = ['slow-1.example', 'slow-2.example', 'slow-3.example', 'slow-4.example', 'slow-5.example', 'slow-6.example'];
        $this->insertRecords($names);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK]]);
        $plan = $this->previewNow(false);
        $this->assertSame($names, array_keys($plan['to_add']));
        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token']));
        $this->sim->configure(['latency_ms' => 250]);
        // The queue runs in another PHP process, which is killed half-way through the adds.
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', ...self::implementationArgs(), dirname(__DIR__, 2) . '/bin/wp.php', 'run-queue'];
        $process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, ['CLOSTE_SYNC_CONCURRENCY' => '1'] + getenv());
        $deadline = microtime(true) + 30;
        while (count($this->sim->domains()) < 3 && microtime(true) < $deadline) {
            usleep(50000);
        }
        proc_terminate($process, 9);
        proc_close($process);
        $this->sim->configure(['latency_ms' => 0]);
        wp_cache_flush();
        $onCloste = array_values(array_intersect($names, $this->sim->domains()));
        $this->assertGreaterThanOrEqual(2, count($onCloste), 'the run was killed after some adds');
        $this->assertLessThan(count($names), count($onCloste), 'and before the last');
        $recorded = array_values(array_filter($names, static fn ($n) => Alias_Registry::owns(Alias_Registry::get($n))));
        $this->assertNotSame([], $recorded, 'the results that arrived before the kill were recorded at once');
        $this->assertSame([], array_diff($recorded, $onCloste), 'no record without its alias');
        $this->assertGreaterThanOrEqual(count($onCloste) - 1, count($recorded), 'at most the add in flight at the kill has no record yet');
    }

    public function testTheCommandLineSyncTakesThePagesLockAndState(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK]]);
        $this->insertRecords(['cli-1.example', 'cli-2.example']);
        $plan = Sync_Plan::preview(false);
        $whileRunning = null;
        $report = Sync_Service::apply_now($plan, [], static function () use (&$whileRunning): void {
            if (null === $whileRunning) {
                wp_cache_flush();
                $whileRunning = ['state' => Sync_State::get()['status'], 'preview' => Sync_Service::request_preview(true)];
            }
        });
        $this->assertIsArray($report);
        $this->assertSame('applying', $whileRunning['state'], 'the page shows the command line run as running');
        $this->assertInstanceOf(WP_Error::class, $whileRunning['preview']);
        $this->assertSame('closte-sync-busy', $whileRunning['preview']->get_error_code(), 'and refuses a second sync meanwhile');
        wp_cache_flush();
        $this->assertSame('done', Sync_State::get()['status']);
        $this->assertSame(['cli-1.example', 'cli-2.example'], Sync_State::get()['report']['added']);
        // And the command line refuses while the page's sync is queued.
        $this->assertTrue(Sync_Service::request_preview(false));
        $this->assertInstanceOf(WP_Error::class, Sync_Service::apply_now($plan));
    }

    public function testSyncLeavesSubdomainsToAWildcardWhenTheFilterIsOff(): void
    {
        $this->insertSites(['shop.' . CLOSTE_E2E_NETWORK, 'blog.' . CLOSTE_E2E_NETWORK]);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, '*.' . CLOSTE_E2E_NETWORK, 'shop.' . CLOSTE_E2E_NETWORK]]);
        $this->own(['shop.' . CLOSTE_E2E_NETWORK]);
        add_filter('closte_native_sync_subdomains', '__return_false');
        try {
            $plan = $this->previewNow(true);
        } finally {
            remove_filter('closte_native_sync_subdomains', '__return_false');
        }
        $this->assertArrayNotHasKey('blog.' . CLOSTE_E2E_NETWORK, $plan['to_add'], 'not added: the wildcard serves it');
        $this->assertArrayNotHasKey('shop.' . CLOSTE_E2E_NETWORK, $plan['to_remove'], 'not removed either: a site uses it');
        $this->assertStringContainsString('wildcard alias', Sync_Messages::text($plan['kept']['shop.' . CLOSTE_E2E_NETWORK]));
        $with = $this->previewNow(false);
        $this->assertArrayHasKey('blog.' . CLOSTE_E2E_NETWORK, $with['to_add'], 'with the filter on (the default), subdomains are added');
    }

    public function testWhileTheIntegrationIsDisabledOurHandlersScheduleNothing(): void
    {
        $id = Standin_Domain_Manager::create_domain('before-rename.example', 1);
        $this->runQueue();
        update_site_option('wu_host_integrations_enabled', ['closte' => false]);
        try {
            Standin_Domain_Manager::rename_domain($id, 'after-rename.example');
            $this->assertSame([], $this->pendingJobs(\Closte_Native\Alias_Changes::RENAMED_HOOK), 'no removal of the old name queued');
            // A retry queued before the switch was turned off does nothing when it runs.
            do_action(\Closte_Native\Alias_Changes::RETRY_HOOK, 'add', 'queued-earlier.example', 1, 2, \Closte_Native\Change_Intents::record('add', 'queued-earlier.example'));
            $this->assertSame([], $this->requestsTo('/adddomainalias', 'queued-earlier.example'));
            $this->assertStringContainsString('retry 2 dropped: the Closte integration is disabled', $this->log());
        } finally {
            update_site_option('wu_host_integrations_enabled', ['closte' => true]);
        }
    }

    public function testARefusedKeyTellsWhereTheKeyLives(): void
    {
        $this->sim->configure(['api_keys' => ['another-key']]);
        $plan = $this->previewNow(false);
        $this->assertFalse($plan['listing_ok']);
        $this->assertStringContainsString('CLOSTE_CLIENT_API_KEY in wp-config.php', $plan['listing']);
    }

    public function testQueriesDoNotGrowWithTheNumberOfSites(): void
    {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/template.php';
        $count = static function (callable $work) use ($wpdb): int {
            wp_cache_flush();
            $before = $wpdb->num_queries;
            ob_start();
            $work();
            ob_end_clean();
            return $wpdb->num_queries - $before;
        };
        $page = static fn () => Sync_Page::render();
        $collect = static fn () => Network_Domains::collect();
        $count($page); // warm PHP's static caches (wp_upload_dir) so both counts start alike
        $fewPage = $count($page);
        $fewCollect = $count($collect);
        $many = [];
        for ($i = 1; $i <= 2000; $i++) {
            $many[] = "bulk-site-$i." . CLOSTE_E2E_NETWORK;
        }
        $this->insertSites($many);
        $this->assertSame($fewPage, $count($page), 'viewing the page costs the same with 2,000 more sites');
        $this->assertSame($fewCollect, $count($collect), 'listing the domains costs the same with 2,000 more sites');
        $this->assertLessThanOrEqual(5, $fewCollect);
        $this->assertCount(2001, array_filter(array_keys(Network_Domains::collect()['domains']), static fn ($d) => str_ends_with($d, CLOSTE_E2E_NETWORK)));
    }

    public function testUnmappingAnAliasSomeoneElseAddedLeavesItInPlace(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['operator-alias.example']]);
        $id = Standin_Domain_Manager::create_domain('operator-alias.example', 1);
        $this->runQueue();
        $this->assertStringContainsString('add_domain operator-alias.example (site 1): OK state=already_exists', $this->log());
        $this->assertStringContainsString('does not own it', $this->log());
        $this->assertNull(Alias_Registry::get('operator-alias.example'));
        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        $this->assertSame(['operator-alias.example'], $this->sim->domains());
        $this->assertSame([], $this->requestsTo('/deletedomainalias'));
        $this->assertStringContainsString('remove_domain operator-alias.example (site 1): left in place on Closte: this integration did not add it', $this->log());
    }

    public function testRemovingAHostAnotherSiteStillUsesKeepsIt(): void
    {
        $site = wpmu_create_blog('busy.' . CLOSTE_E2E_NETWORK, '/', 'Busy', 1, ['public' => 1], get_current_network_id());
        $this->assertIsInt($site);
        try {
            $this->runQueue();
            $this->assertContains('busy.' . CLOSTE_E2E_NETWORK, $this->sim->domains());
            // An unmapping event naming that host for another site.
            do_action('wu_remove_domain', 'busy.' . CLOSTE_E2E_NETWORK, '1');
            $this->assertContains('busy.' . CLOSTE_E2E_NETWORK, $this->sim->domains());
            $this->assertSame([], $this->requestsTo('/deletedomainalias'));
            $this->assertStringContainsString("left in place on Closte: still used by site $site (wu_remove_domain", $this->log());
            // The network's own domain is never removed either, even if an event names it.
            do_action('wu_remove_subdomain', 'www.' . CLOSTE_E2E_NETWORK, '1');
            $this->assertSame([], $this->requestsTo('/deletedomainalias'));
        } finally {
            wpmu_delete_blog($site, true);
            $this->runQueue();
        }
        $this->assertNotContains('busy.' . CLOSTE_E2E_NETWORK, $this->sim->domains(), 'once nothing uses it, it goes');
        $this->assertCount(1, $this->requestsTo('/deletedomainalias', 'busy.' . CLOSTE_E2E_NETWORK), 'removed once; the twin hook is skipped');
    }

    public function testRenamingADomainRecordRemovesTheOldAliasOnce(): void
    {
        $id = Standin_Domain_Manager::create_domain('old-name.example', 1);
        $this->runQueue();
        Standin_Domain_Manager::rename_domain($id, 'new-name.example');
        $this->runQueue();
        $this->runQueue();
        $this->assertSame(['new-name.example'], $this->sim->domains());
        $this->assertCount(1, $this->requestsTo('/deletedomainalias', 'old-name.example'));
        $this->assertStringContainsString('remove_domain old-name.example (site 1): OK state=removed', $this->log());
        $this->assertStringContainsString('(rename to new-name.example, attempt 1/6)', $this->log());
        $this->assertNotNull(Alias_Registry::get('new-name.example'));
    }

    public function testIntentRowsAndTombstonesDoNotPileUp(): void
    {
        global $wpdb;
        $rows = static fn (string $like) => (int) $wpdb->get_var($wpdb->prepare("SELECT COUNT(*) FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s", $like));
        $id = Standin_Domain_Manager::create_domain('tidy.example', 1);
        $this->runQueue();
        $this->assertSame(0, $rows('closte\_native\_intent\_%'), 'the intent row goes when its chain ends');
        $this->assertSame(0, $rows('%closte\_native\_done%'), 'no per-domain done transients');
        $this->assertSame(1, $rows('closte\_native\_alias\_%'), 'one ownership record');
        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        $this->assertSame(0, $rows('closte\_native\_intent\_%'));
        // The tombstone outlives the dedupe window only until the next read.
        $record = get_site_option(Alias_Registry::key('tidy.example'));
        $record['removed_at'] = time() - Alias_Registry::DEDUPE_WINDOW - 1;
        update_site_option(Alias_Registry::key('tidy.example'), $record);
        Alias_Registry::all();
        $this->assertSame(0, $rows('closte\_native\_alias\_%'));
        // A retry chain that gives up also ends its intent.
        add_filter('closte_native_max_attempts', $one = static fn () => 1);
        try {
            $this->sim->fault(['kind' => 'status', 'status' => 503, 'count' => 5]);
            Standin_Domain_Manager::create_domain('flaky.example', 1);
            $this->runQueue();
            $this->assertStringContainsString('gave up after 1 attempts', $this->log());
            $this->assertSame(0, $rows('closte\_native\_intent\_%'));
        } finally {
            remove_filter('closte_native_max_attempts', $one);
            $this->sim->control('POST', '/faults/clear');
        }
    }

    public function testAdminStringsHaveAGermanTranslation(): void
    {
        $this->assertFileExists(CLOSTE_E2E_DIR . '/wp-content/plugins/closte-native/languages/closte-native-de_DE.mo');
        // An operator whose network (or profile) language is German: determine_locale() says de_DE.
        add_filter('locale', $german = static fn () => 'de_DE');
        try {
            \Closte_Native\Plugin::load_translations();
            $this->assertSame('Closte-Synchronisierung', __('Closte Sync', 'closte-native'));
            $this->assertStringStartsWith('Nur Netzwerk-Administratoren', __('Only network administrators may test the Closte connection.', 'closte-native'));
            $this->assertSame('Website 7', sprintf(__('site %d', 'closte-native'), 7));
        } finally {
            remove_filter('locale', $german);
            \Closte_Native\Plugin::load_translations();
        }
        $this->assertSame('Closte Sync', __('Closte Sync', 'closte-native'));
    }
}
