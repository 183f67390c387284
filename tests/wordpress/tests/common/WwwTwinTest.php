<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Registry;
use Closte_Native\Sync_Messages;
use Closte_Native\Sync_Service;
use Closte_Native\Sync_State;

/**
 * The www twin (issue 22): Ultimate Multisite serves example.com and www.example.com, so a
 * mapped domain's www. form is added to Closte too, owned and removed under the same rules.
 * Whether follows Ultimate Multisite's auto_create_www_subdomain where it has one (the 2.5
 * stand-in models Domain_Manager::should_create_www_subdomain), else our option
 * closte_native_www_twin. E2eTestCase starts every test with twins off.
 */
final class WwwTwinTest extends E2eTestCase
{
    /** Twins on, the way a fresh installation has them: UM's default 'always', our option unset. */
    private function twinsOn(): void
    {
        update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'always']);
        delete_site_option('closte_native_www_twin');
    }

    private function map(string $domain, int $site = 1): int
    {
        $id = Standin_Domain_Manager::create_domain($domain, $site);
        $this->runQueue();
        wp_cache_flush();
        return $id;
    }

    public function testTheTwinIsAddedWithItsOwnOwnershipRecordAndRemovedWhenTheDomainIsUnmapped(): void
    {
        $this->twinsOn();
        $id = $this->map('twin-shop.example');

        $this->assertSame(['twin-shop.example', 'www.twin-shop.example'], $this->sim->domains());
        $this->assertCount(1, $this->requestsTo('/adddomainalias', 'www.twin-shop.example'));
        $record = Alias_Registry::get('www.twin-shop.example');
        $this->assertNotNull($record, 'the twin has an ownership record of its own');
        $this->assertSame('www twin of twin-shop.example', $record['source']);
        $this->assertSame(1, $record['site_id']);
        $this->assertStringContainsString('add_domain www.twin-shop.example (site 1): OK state=added', $this->log());
        $this->assertSame('twin-shop.example', \Closte_Native\Certificate_Records::get('www.twin-shop.example')['twin_of'] ?? null, 'its certificate record names the domain it is the twin of');

        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        wp_cache_flush();

        $this->assertSame([], $this->sim->domains(), 'the domain and its twin are gone from Closte');
        $this->assertCount(1, $this->requestsTo('/deletedomainalias', 'www.twin-shop.example'));
        $this->assertFalse(Alias_Registry::owns(Alias_Registry::get('www.twin-shop.example')));
    }

    public function testATwinSomeoneElseAddedStaysWhenTheDomainIsUnmapped(): void
    {
        $this->twinsOn();
        $this->sim->control('POST', '/domains', ['domains' => ['www.theirs.example']]);
        $id = $this->map('theirs.example');
        $this->assertNull(Alias_Registry::get('www.theirs.example'), '"already exists" does not make the twin ours');

        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();

        $this->assertSame(['www.theirs.example'], $this->sim->domains());
        $this->assertSame([], $this->requestsTo('/deletedomainalias', 'www.theirs.example'));
    }

    public function testNoTwinIsAddedWhenTheWwwNameIsItsOwnDomainRecord(): void
    {
        $this->twinsOn();
        Standin_Domain_Manager::create_domain('self.example', 1);
        Standin_Domain_Manager::create_domain('www.self.example', 1);
        $this->runQueue();
        wp_cache_flush();

        $this->assertSame(['self.example', 'www.self.example'], $this->sim->domains());
        $this->assertCount(1, $this->requestsTo('/adddomainalias', 'www.self.example'), 'added once, by its own record');
        $this->assertSame('wu_add_domain', Alias_Registry::get('www.self.example')['source']);
        $this->assertStringNotContainsString('www twin of self.example', $this->log());
    }

    public function testTheTwinFollowsUltimateMultisitesSettingWhereItHasOneElseOurOption(): void
    {
        if ($this->registryMode()) {
            // Domain_Manager::should_create_www_subdomain() decides; our option is not asked.
            update_site_option('closte_native_www_twin', '0');
            update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'main_only']);
            $this->map('shop.brand-two.example');
            $this->map('brand-two.example');
            $this->assertSame(['brand-two.example', 'shop.brand-two.example', 'www.brand-two.example'], $this->sim->domains(), 'main_only: no twin for a sub-subdomain');

            update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
            $this->map('never-twin.example');
            $this->assertNotContains('www.never-twin.example', $this->sim->domains());

            update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'always']);
            $this->map('always.brand-three.example');
            $this->assertContains('www.always.brand-three.example', $this->sim->domains());
            return;
        }

        // 2.4 has no such method: our network option decides (default on).
        update_site_option('closte_native_www_twin', '0');
        $this->map('opted-out.example');
        $this->assertSame(['opted-out.example'], $this->sim->domains());

        delete_site_option('closte_native_www_twin');
        $this->map('by-default.example');
        $this->assertContains('www.by-default.example', $this->sim->domains());

        add_filter('closte_native_add_www_twin', $no = static fn (bool $add, string $name) => $add && 'filtered.example' !== $name, 10, 2);
        try {
            $this->map('filtered.example');
        } finally {
            remove_filter('closte_native_add_www_twin', $no);
        }
        $this->assertNotContains('www.filtered.example', $this->sim->domains());
    }

    public function testNoTwinForAWildcardOrAWwwName(): void
    {
        $this->twinsOn();
        do_action('wu_add_domain', '*.agency-two.example', '1');
        do_action('wu_add_domain', 'www.only-www.example', '1');
        $this->runQueue();

        $this->assertSame(['*.agency-two.example', 'www.only-www.example'], $this->sim->domains());
        $this->assertSame([], $this->requestsTo('/adddomainalias', 'www.www.only-www.example'));
    }

    public function testASyncAddsAMissingTwinAndNeverOffersToPruneIt(): void
    {
        global $wpdb;
        $this->twinsOn();
        // A record whose add was lost (drift): Closte has the name, not its twin.
        $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => 1, 'domain' => 'drifted.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'drifted.example']]);

        $plan = $this->preview(true);
        $this->assertSame(['www.drifted.example'], array_keys($plan['to_add']));
        $this->assertSame('www form of drifted.example: Ultimate Multisite serves both forms', Sync_Messages::text($plan['to_add']['www.drifted.example']));
        $this->assertSame([], $plan['to_remove']);

        $this->assertTrue(Sync_Service::request_apply($plan['id'], $plan['token'], '', [], ''));
        $this->runSyncJob();
        $this->assertSame('done', Sync_State::get()['status']);
        $this->assertContains('www.drifted.example', $this->sim->domains());
        $this->assertSame('www twin of drifted.example', Alias_Registry::get('www.drifted.example')['source']);

        $again = $this->preview(true);
        $this->assertSame([], $again['to_add']);
        $this->assertArrayNotHasKey('www.drifted.example', $again['to_remove']);
        $this->assertArrayNotHasKey('www.drifted.example', $again['unowned']);
    }

    private function preview(bool $prune): array
    {
        $this->assertTrue(Sync_Service::request_preview($prune));
        $this->runSyncJob();
        $state = Sync_State::get();
        $this->assertSame('planned', $state['status'], json_encode($state));
        return $state['plan'];
    }
}
