<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Network_Domains;
use Closte_Native\Www_Twin;

/**
 * Network_Domains::users_of() answers from the rows stored under a name and its twin, and reads
 * the whole network only when those show no user (issue 24: at 100,000 names a whole read for
 * each certificate job and removal took 6 s and 100 MB). The decision must be the whole read's
 * in every case: Network_Domains::uses() on Network_Domains::collect() is the reference here.
 */
final class NetworkDomainsLookupTest extends E2eTestCase
{
    /** @var int[] */
    private array $sites = [];

    protected function tearDown(): void
    {
        foreach ($this->sites as $id) {
            wpmu_delete_blog($id, true);
        }
        remove_all_filters('closte_native_sync_domains');
        parent::tearDown();
    }

    /** A domain record stored exactly as given (Ultimate Multisite keeps what it was given). */
    private function record(string $stored, int $site = 1): void
    {
        global $wpdb;
        $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => $site, 'domain' => $stored]);
    }

    /** @return array{0: bool, 1: bool} [used, complete] by the whole read of the network */
    private function reference(string $name): array
    {
        $network = Network_Domains::collect();
        $missing = array_filter($network['problems'], static fn (array $p) => ! in_array($p['code'], ['invalid_names', 'empty'], true));
        return [[] !== Network_Domains::uses($network, Network_Domains::normalise($name)), [] === $missing];
    }

    private function assertSameDecisionAsTheWholeRead(string $name): array
    {
        $users = Network_Domains::users_of($name);
        $this->assertSame($this->reference($name), [[] !== $users['users'], $users['complete']], "$name: " . json_encode($users));
        return $users;
    }

    public function testEveryKindOfUseGivesTheWholeReadsDecision(): void
    {
        $site          = wpmu_create_blog('lookup-site.' . CLOSTE_E2E_NETWORK, '/', 'Lookup', 1, ['public' => 1], get_current_network_id());
        $this->sites[] = $site;
        $this->record('plain.example');
        $this->record('Upper.EXAMPLE', 2);
        $this->record('dotted.example.');
        $this->record('bücher.example');
        $this->record('  spaced.example'); // a form the lookup does not ask for
        $this->record('www.twinned.example');

        foreach ([
            'plain.example', 'upper.example', 'dotted.example', 'xn--bcher-kva.example', 'spaced.example',
            'www.plain.example', 'twinned.example', 'www.twinned.example', 'lookup-site.' . CLOSTE_E2E_NETWORK,
            'www.lookup-site.' . CLOSTE_E2E_NETWORK, CLOSTE_E2E_NETWORK, 'www.' . CLOSTE_E2E_NETWORK,
            'unused.example', 'www.unused.example',
        ] as $name) {
            $this->assertSameDecisionAsTheWholeRead($name);
        }

        $this->assertSame([['code' => 'record', 'args' => [2]]], Network_Domains::users_of('UPPER.example')['users'], 'the record, by its site');
        $this->assertSame([['code' => 'site', 'args' => [$site]]], Network_Domains::users_of('lookup-site.' . CLOSTE_E2E_NETWORK)['users']);
        $this->assertSame([['code' => 'twin', 'args' => ['www.twinned.example']]], Network_Domains::users_of('twinned.example')['users']);
        $this->assertNotSame([], Network_Domains::users_of('spaced.example')['users'], 'found by the whole read when the lookup misses its stored form');
        $this->assertSame(['users' => [], 'complete' => true, 'problem' => ''], Network_Domains::users_of('unused.example'));
    }

    public function testAUsedNameIsAnsweredFromItsOwnRowsNotFromEveryPage(): void
    {
        global $wpdb;
        $rows = [];
        for ($i = 1; $i <= 6000; $i++) {
            $rows[] = $wpdb->prepare('(%d, %s)', 1, "bulk-$i.example");
            if (0 === $i % 1000) {
                $wpdb->query('INSERT INTO ' . Standin_Domain_Manager::table() . ' (blog_id, domain) VALUES ' . implode(',', $rows));
                $rows = [];
            }
        }

        $users = $this->assertSameDecisionAsTheWholeRead('bulk-4321.example');
        $this->assertSame([['code' => 'record', 'args' => [1]]], $users['users']);

        $before = $wpdb->num_queries;
        Network_Domains::users_of('bulk-4321.example');
        $used = $wpdb->num_queries - $before;
        $this->assertLessThanOrEqual(6, $used, 'the sites, four record forms and the networks');

        $before = $wpdb->num_queries;
        $this->assertSame([], Network_Domains::users_of('bulk-none.example')['users']);
        $this->assertGreaterThanOrEqual($used + 3, $wpdb->num_queries - $before, 'an unused name is concluded from every page of the 6,000 records as well');
    }

    public function testASourceThatCannotBeReadLeavesTheAnswerIncompleteAsBefore(): void
    {
        $this->record('kept.example');
        update_site_option('standin_domain_query_fails', 1);

        foreach (['kept.example', 'other.example'] as $name) {
            $users = $this->assertSameDecisionAsTheWholeRead($name);
            $this->assertFalse($users['complete']);
            $this->assertStringContainsString('reading Ultimate Multisite\'s mapped domains failed', $users['problem']);
        }
    }

    public function testTheSyncDomainsFilterIsHonouredByReadingEverything(): void
    {
        add_filter('closte_native_sync_domains', static function (array $domains): array {
            $domains['filtered.example'] = 'kept by a filter';
            return $domains;
        });

        $users = $this->assertSameDecisionAsTheWholeRead('filtered.example');
        $this->assertSame([['code' => 'custom', 'args' => ['kept by a filter']]], $users['users']);
        $this->assertNotSame([], Network_Domains::users_of('www.filtered.example')['users']);
    }

    public function testTheWwwTwinIsNotAddedForANameWithARecordOfItsOwn(): void
    {
        // Twins on, as a fresh installation has them: Ultimate Multisite's default 'always'.
        update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'always']);
        delete_site_option('closte_native_www_twin');
        $this->record('www.own-record.example');
        $this->record('WWW.Upper-Own.example');

        $this->assertNull(Www_Twin::twin_to_add('own-record.example'));
        $this->assertNull(Www_Twin::twin_to_add('upper-own.example'));
        $this->assertSame('www.no-record.example', Www_Twin::twin_to_add('no-record.example'));
        $this->assertNull(Www_Twin::twin_to_add(CLOSTE_E2E_NETWORK), 'the network\'s own name is protected');
    }
}
