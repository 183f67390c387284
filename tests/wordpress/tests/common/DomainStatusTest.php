<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Certificate_Lifecycle;
use Closte_Native\Certificate_Records;
use Closte_Native\Certificate_Watch;
use Closte_Native\Alias_Registry;
use Closte_Native\Domain_Status;

/**
 * Domain_Status (issue 23), the model of the operator's views: one row per site host, domain
 * record and www twin, the alias from ONE /getdomains a minute (unknown when that failed), the
 * owner from our records, the certificate columns from the lifecycle, the next job, and what
 * needs attention. Names under *.ready.test resolve to the simulator's front door; other names
 * have no address (harness.sh's closte.resolve).
 */
final class DomainStatusTest extends E2eTestCase
{
    private function twinsOn(): void
    {
        update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'always']);
        delete_site_option('closte_native_www_twin');
    }

    /** Maps $name and runs its lifecycle until the handshake found its certificate active. */
    private function mapActive(string $name): int
    {
        $id = Standin_Domain_Manager::create_domain($name, 1);
        $this->runQueue(); // the add
        $this->runQueue(); // DNS ready: the request
        sleep(2); // the simulator issues 1 s after the request
        $this->runQueue(60); // the handshake
        wp_cache_flush();
        $this->assertSame('active', Certificate_Records::get($name)['state'] ?? null);
        return $id;
    }

    /** @return array<string, array> rows by name */
    private function byName(array $args = []): array
    {
        wp_cache_flush();
        $rows = Domain_Status::rows(['per_page' => 0] + $args)['rows'];
        return array_column($rows, null, 'name');
    }

    public function testRowsForDomainRecordsSiteHostsAndTwinsWithAliasAndOwner(): void
    {
        $this->twinsOn();
        Standin_Domain_Manager::create_domain('status-shop.example', 1);
        $this->runQueue();
        // Someone else added this alias before the domain was mapped: "already exists", not ours.
        $this->assertTrue(closte_add_domain('status-before.example')['ok']);
        update_site_option('closte_native_www_twin', '0');
        update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
        Standin_Domain_Manager::create_domain('status-before.example', 1);
        // Mapped, but its alias is gone from Closte (removed there by hand).
        Standin_Domain_Manager::create_domain('status-gone.example', 1);
        $this->runQueue();
        $this->assertTrue(closte_remove_domain('status-gone.example')['ok']);
        $this->twinsOn();

        $rows = $this->byName();
        $network = strtolower(CLOSTE_E2E_NETWORK);

        $this->assertSame('site', $rows[$network]['kind'], 'the main site host is a row');
        $this->assertNotContains('no_alias', $rows[$network]['attention'], "the network's own domain is the app's, not an alias to add");
        $this->assertSame(1, $rows[$network]['site_id']);

        $shop = $rows['status-shop.example'];
        $this->assertSame(['domain', 1, 'yes', 'plugin', 'www.status-shop.example'], [$shop['kind'], $shop['site_id'], $shop['alias'], $shop['owner'], $shop['twin']]);
        $twin = $rows['www.status-shop.example'];
        $this->assertSame(['twin', 1, 'yes', 'plugin', 'status-shop.example'], [$twin['kind'], $twin['site_id'], $twin['alias'], $twin['owner'], $twin['twin']]);

        $before = $rows['status-before.example'];
        $this->assertSame(['yes', 'before'], [$before['alias'], $before['owner']], 'an alias Closte had before is "there before"');
        $this->assertArrayHasKey('www.status-before.example', $rows, 'twins on now: its twin should exist, so it is a row');
        $this->assertSame(['no', 'none', ['no_alias']], [$rows['www.status-before.example']['alias'], $rows['www.status-before.example']['owner'], $rows['www.status-before.example']['attention']]);

        $gone = $rows['status-gone.example'];
        $this->assertSame(['no', 'plugin'], [$gone['alias'], $gone['owner']]);
        $this->assertContains('no_alias', $gone['attention']);
        $this->assertTrue($gone['needs_attention']);
        $this->assertNotContains('no_alias', $shop['attention']);

        $given = Domain_Status::rows(['names' => ['STATUS-SHOP.example.', 'www.status-shop.example', 'not-on-this-network.example'], 'per_page' => 0]);
        $this->assertSame([$shop, $twin], $given['rows'], 'the rows of given names: normalised, the same rows, none for a name the network does not serve');
        $this->assertSame(count($rows), $given['counts']['all'], 'the counts are of every row');
    }

    public function testCertificateColumnsComeFromTheLifecycle(): void
    {
        $this->mapActive('status-cert.ready.test');
        Standin_Domain_Manager::create_domain('status-wait.nowhere.test', 1);
        $this->runQueue(); // the add; its DNS check finds no address
        $this->runQueue();

        $rows = $this->byName();
        $active = $rows['status-cert.ready.test'];
        $this->assertSame(['ready', 'active', 'active'], [$active['dns'], $active['certificate'], $active['certificate_status']]);
        $served = $this->sim->certificates()['status-cert.ready.test'];
        $this->assertNotNull($active['issuer']);
        $this->assertGreaterThan(time() + 14 * 86400, $active['expires_at']);
        $this->assertSame((int) floor(($active['expires_at'] - time()) / 86400), $active['days_left']);
        $this->assertEqualsWithDelta(time(), $active['checked_at'], 120);
        $this->assertNull($active['next_action']);
        $this->assertNull($active['last_error']);
        $this->assertFalse($active['needs_attention'], json_encode($active));
        $this->assertNotEmpty($served);

        $waiting = $rows['status-wait.nowhere.test'];
        $this->assertSame(['not_ready', 'no_address', 'waiting_dns', null], [$waiting['dns'], $waiting['dns_reason'], $waiting['certificate'], $waiting['certificate_status']]);
        $this->assertSame(Certificate_Lifecycle::DNS_HOOK, $waiting['next_action']['hook'] ?? null, 'the next job is its DNS check');
        $this->assertSame('DNS check', $waiting['next_action']['label']);
        $this->assertGreaterThan(time(), $waiting['next_action']['at']);
        $this->assertFalse($waiting['needs_attention'], 'waiting for DNS less than a day is no finding');

        // A day later it still waits: that needs attention.
        $record = Certificate_Records::get('status-wait.nowhere.test');
        $record['dns_first_at'] = time() - 2 * 86400;
        Certificate_Records::put($record);
        $this->assertSame(['dns_waiting'], $this->byName()['status-wait.nowhere.test']['attention']);

        // The watch finds the certificate expiring.
        $this->sim->installCertificate('status-cert.ready.test', ['kind' => 'expiring', 'days_left' => 5]);
        $record = Certificate_Records::get('status-cert.ready.test');
        $record['certificate']['checked_at'] = time() - 21 * 3600;
        Certificate_Records::put($record);
        Certificate_Watch::run();
        $expiring = $this->byName()['status-cert.ready.test'];
        $this->assertSame(['expiring', 'expiring'], [$expiring['certificate'], $expiring['certificate_status']]);
        $this->assertContains($expiring['days_left'], [4, 5]);
        $this->assertSame(['certificate_expiring'], $expiring['attention']);
        $this->assertTrue($expiring['needs_attention']);

        // A certificate for other names is a problem.
        $this->sim->installCertificate('status-cert.ready.test', ['kind' => 'wrong_name']);
        $record = Certificate_Records::get('status-cert.ready.test');
        $record['certificate']['checked_at'] = time() - 21 * 3600;
        Certificate_Records::put($record);
        Certificate_Watch::run();
        $problem = $this->byName()['status-cert.ready.test'];
        $this->assertSame(['problem', 'name_mismatch', ['certificate_problem']], [$problem['certificate'], $problem['certificate_status'], $problem['attention']]);
        $this->assertNotNull($problem['last_error']);

        foreach (Domain_Status::ATTENTION as $code) {
            $this->assertNotSame($code, Domain_Status::attention_text($code), "$code is explained");
        }
    }

    public function testOneListingAMinuteAndAFailedListingMakesAliasesUnknown(): void
    {
        Standin_Domain_Manager::create_domain('status-list.example', 1);
        $this->runQueue();
        $before = count($this->requestsTo('/getdomains'));

        Domain_Status::rows();
        Domain_Status::rows(['search' => 'list']);
        Domain_Status::rows(['names' => ['status-list.example']]);
        Domain_Status::listing();
        $this->assertCount($before + 1, $this->requestsTo('/getdomains'), 'one /getdomains for every view within the minute');
        $this->assertSame('yes', Domain_Status::rows(['names' => ['status-list.example']])['rows'][0]['alias']);

        // The cached listing expires after about a minute; then the next view lists again.
        $this->assertSame(Domain_Status::LISTING_TTL, 60);
        delete_site_transient(Domain_Status::LISTING_TRANSIENT);

        $this->sim->fault(['kind' => 'status', 'status' => 503, 'path' => '/getdomains']);
        $failed = Domain_Status::listing(true);
        $this->assertFalse($failed['ok']);
        $this->assertStringContainsString('503', (string) $failed['error']);
        $this->assertSame([], $failed['domains']);
        $afterFailure = count($this->requestsTo('/getdomains'));
        $this->assertGreaterThan($before + 1, $afterFailure);

        $result = Domain_Status::rows(['per_page' => 0]);
        $this->assertFalse($result['listing']['ok']);
        $row = array_column($result['rows'], null, 'name')['status-list.example'];
        $this->assertSame(['unknown', 'plugin', ['listing_failed']], [$row['alias'], $row['owner'], $row['attention']], 'nothing concluded from a list we do not have');
        $this->assertSame($result['counts']['all'], $result['counts']['needs_attention']);
        $this->assertCount($afterFailure, $this->requestsTo('/getdomains'), 'a failure is cached too: no second wait');
        $this->assertStringContainsString('could not be read', $this->log());

    }

    public function testSearchFilterSortAndPaging(): void
    {
        foreach (['pg-c.example', 'pg-a.example', 'pg-e.example', 'pg-b.example', 'pg-d.example'] as $name) {
            Standin_Domain_Manager::create_domain($name, 1);
        }
        $this->runQueue();
        closte_remove_domain('pg-b.example');
        closte_remove_domain('pg-e.example');
        wp_cache_flush();

        $found = Domain_Status::rows(['search' => 'PG-', 'per_page' => 2, 'page' => 2]);
        $this->assertSame(5, $found['total']);
        $this->assertSame(['pg-c.example', 'pg-d.example'], array_column($found['rows'], 'name'));
        $this->assertSame(Domain_Status::rows(['per_page' => 0])['total'], $found['counts']['all'], 'counts are of every row, whatever the search');
        $this->assertGreaterThanOrEqual(6, $found['counts']['all'], 'the site host too');
        $this->assertSame(Domain_Status::rows(['status' => 'needs_attention'])['total'], $found['counts']['needs_attention']);

        $last = Domain_Status::rows(['search' => 'pg-', 'per_page' => 2, 'page' => 3]);
        $this->assertSame(['pg-e.example'], array_column($last['rows'], 'name'));

        $desc = Domain_Status::rows(['search' => 'pg-', 'orderby' => 'name', 'order' => 'desc', 'per_page' => 0]);
        $this->assertSame(['pg-e.example', 'pg-d.example', 'pg-c.example', 'pg-b.example', 'pg-a.example'], array_column($desc['rows'], 'name'));

        $byAlias = Domain_Status::rows(['search' => 'pg-', 'orderby' => 'alias', 'per_page' => 0]);
        $this->assertSame(['pg-b.example', 'pg-e.example', 'pg-a.example', 'pg-c.example', 'pg-d.example'], array_column($byAlias['rows'], 'name'), 'alias "no" first, then by name');

        $attention = Domain_Status::rows(['search' => 'pg-', 'status' => 'needs_attention', 'per_page' => 0]);
        $this->assertSame(['pg-b.example', 'pg-e.example'], array_column($attention['rows'], 'name'));
        $this->assertSame(2, $attention['total']);

        $next = Domain_Status::rows(['search' => 'pg-', 'orderby' => 'next', 'per_page' => 0]);
        $this->assertCount(5, $next['rows']);

        $none = Domain_Status::rows(['search' => 'no-such-name']);
        $this->assertSame([0, []], [$none['total'], $none['rows']]);
    }

    /**
     * Issue 24: at 100,000 names the rows of one page were built from every record and every
     * row at once (over 400 MB: the Closte Domains page and Ultimate Multisite's domain list
     * died on the admin's 256 MB). A page is now built from a compact index and the records of
     * its own rows, and is the same as that page of every row. 4,000 names, inserted in bulk
     * as bench/wp/generate.php does, every second one with an alias on Closte, varied
     * certificate records and a few pending jobs; the old build took 24 MB for a page of
     * them.
     */
    public function testAPageOfThousandsOfNamesIsBuiltInLittleMemoryAndIsThatPageOfEveryRow(): void
    {
        global $wpdb;
        $count = 4000;
        $now = time();
        $names = [];
        $records = [];
        $meta = [];
        $network = get_current_network_id();
        for ($i = 1; $i <= $count; $i++) {
            $name = "scale-$i.example";
            $names[] = $name;
            $records[] = $wpdb->prepare('(%d, %s)', 1 + $i % 7, $name);
            $meta[] = $wpdb->prepare('(%d, %s, %s)', $network, Alias_Registry::key($name), serialize(['domain' => $name, 'site_id' => 1 + $i % 7, 'source' => 'test', 'at' => $now]));
            $record = Certificate_Records::fresh($name, 1 + $i % 7, null);
            $record['alias_at'] = $now;
            $record['state'] = ['active', 'active', 'expiring', 'problem', 'waiting_dns', 'held'][$i % 6];
            $record['certificate'] = 0 === $i % 5 ? null : ['status' => 'problem' === $record['state'] ? 'expired' : 'active', 'issuer' => 'Test CA', 'issuer_organization' => null, 'not_after' => $now + 43200 + ($i % 97) * 86400, 'days_left' => $i % 97, 'checked_at' => $now, 'address' => '127.0.0.1', 'detail' => 'ok'];
            $meta[] = $wpdb->prepare('(%d, %s, %s)', $network, Certificate_Records::key($name), serialize($record));
            if (0 === $i % 50) {
                wp_schedule_single_event($now + 3600 + $i, Certificate_Lifecycle::DNS_HOOK, [$name]);
            }
        }
        foreach (array_chunk($records, 1000) as $chunk) {
            $wpdb->query('INSERT INTO ' . Standin_Domain_Manager::table() . ' (blog_id, domain) VALUES ' . implode(',', $chunk));
        }
        foreach (array_chunk($meta, 1000) as $chunk) {
            $wpdb->query("INSERT INTO {$wpdb->sitemeta} (site_id, meta_key, meta_value) VALUES " . implode(',', $chunk));
        }
        unset($records, $meta);
        $this->sim->control('POST', '/domains', ['domains' => array_values(array_filter($names, static fn ($name) => 0 === (int) substr($name, 6) % 2))]);
        wp_cache_flush();
        Domain_Status::listing(); // fetched once a minute for every view: not what is measured

        $args = ['orderby' => 'expires', 'order' => 'desc', 'status' => 'needs_attention', 'search' => 'scale-', 'page' => 3, 'per_page' => 50];
        $before = memory_get_usage();
        memory_reset_peak_usage();
        $page = Domain_Status::rows($args);
        $used = (memory_get_peak_usage() - $before) / 1048576;

        $this->assertLessThan(8, $used, sprintf('a page of 50 rows at %d names took %.1f MB', $count, $used));
        $every = Domain_Status::rows(['per_page' => 0] + $args);
        $this->assertSame(array_slice($every['rows'], 100, 50), $page['rows'], 'the same rows, in the same order, with the same fields as that page of every row');
        $this->assertCount(50, $page['rows']);
        $this->assertSame([$every['total'], $every['counts']], [$page['total'], $page['counts']]);
        $this->assertSame($count + 1, $page['counts']['all'], 'the records and the site host');
        $this->assertGreaterThan(1000, $page['total']);
        $dated = array_filter(array_column($every['rows'], 'expires_at'), 'is_int');
        $this->assertSame(range(0, count($dated) - 1), array_keys($dated), 'the rows without a date last');
        $latestFirst = array_values($dated);
        rsort($latestFirst);
        $this->assertSame($latestFirst, array_values($dated), 'the latest expiry first');

        $given = ['scale-7.example', 'scale-8.example', 'scale-3000.example'];
        $all = array_column(Domain_Status::rows(['per_page' => 0])['rows'], null, 'name');
        $this->assertSame(array_map(static fn ($name) => $all[$name], $given), Domain_Status::rows(['names' => $given, 'per_page' => 0])['rows'], 'the rows of given names are theirs in the full build');
    }
}
