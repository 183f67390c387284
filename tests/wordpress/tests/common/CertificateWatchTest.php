<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Certificate_Notice;
use Closte_Native\Certificate_Records;
use Closte_Native\Certificate_Watch;
use Closte_Native\Site_Health;

/**
 * The daily certificate watch (issue 22): every certificate that was good is checked by a TLS
 * handshake with the simulator's front door at most once a day, 50 names a batch; an expiring
 * one is a warning, an expired, wrong-name, untrusted one critical: in the log with what to do,
 * in the network admin notice with "Retry now", and in Site Health. Names under *.ready.test
 * resolve to the front door (closte.resolve, harness.sh).
 */
final class CertificateWatchTest extends E2eTestCase
{
    /** @return array<string, mixed> the simulator's facts and counts of $name's certificate */
    private function served(string $name): array
    {
        return $this->sim->certificates()[$name] ?? ['handshakes' => 0, 'requested' => 0];
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
        $record = Certificate_Records::get($name);
        $this->assertSame('active', $record['state'] ?? null, json_encode($record));
        return $id;
    }

    /**
     * A domain record for $name and the certificate record the lifecycle leaves: alias added a
     * day before $now, certificate active for 80 more days, last checked at $checked_at.
     */
    private function mappedGoodSince(string $name, int $now, int $checked_at): void
    {
        global $wpdb;
        $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => 1, 'domain' => $name]);
        $record                = Certificate_Records::fresh($name, 1, null);
        $record['alias_at']    = $now - 86400;
        $record['state']       = 'active';
        $record['certificate'] = ['status' => 'active', 'issuer' => 'Closte Sim R1', 'issuer_organization' => 'closte-sim', 'not_after' => $now + 80 * 86400, 'days_left' => 80, 'checked_at' => $checked_at, 'address' => '127.0.0.1', 'detail' => ''];
        Certificate_Records::put($record);
    }

    /** As if $name's last handshake was $hours ago. */
    private function age(string $name, int $hours = 21): void
    {
        $record = Certificate_Records::get($name);
        $record['certificate']['checked_at'] = time() - $hours * 3600;
        Certificate_Records::put($record);
    }

    public function testEachNameIsCheckedAtMostOncePerDayAndTheNextRunIsQueued(): void
    {
        $this->mapActive('daily-one.ready.test');
        $this->mapActive('daily-two.ready.test');
        $before = [$this->served('daily-one.ready.test')['handshakes'], $this->served('daily-two.ready.test')['handshakes']];

        Certificate_Watch::run();
        $this->assertSame($before, [$this->served('daily-one.ready.test')['handshakes'], $this->served('daily-two.ready.test')['handshakes']], 'checked by the lifecycle minutes ago: no handshake');

        $this->age('daily-one.ready.test');
        $this->age('daily-two.ready.test', 19);
        Certificate_Watch::run();
        $this->assertSame($before[0] + 1, $this->served('daily-one.ready.test')['handshakes'], 'last checked 21 h ago: one handshake');
        $this->assertSame($before[1], $this->served('daily-two.ready.test')['handshakes'], 'last checked 19 h ago: none');
        $this->assertGreaterThan(time() - 60, Certificate_Records::get('daily-one.ready.test')['certificate']['checked_at']);

        Certificate_Watch::run(); // again the same day
        $this->assertSame($before[0] + 1, $this->served('daily-one.ready.test')['handshakes'], 'at most one handshake per name per day');

        $daily = array_values(array_filter($this->pendingJobs(Certificate_Watch::HOOK), static fn (array $job) => [] === $job['args']));
        $this->assertCount(1, $daily, 'the next daily run is queued once');
        $this->assertEqualsWithDelta(time() + 86400, (int) $daily[0]['scheduled_at'], 5);
    }

    public function testFiftyNamesABatchAndAContinuationForTheRest(): void
    {
        // 51 mapped names whose certificates were good a day ago (records as the lifecycle leaves
        // them); the front door answers each with its default certificate now.
        $names = [];
        // One clock for all 51: with time() per name, a second ticking over between two names
        // gives them the same checked_at, and the tie puts bulk-01 in the batch.
        $now = time();
        for ($i = 1; $i <= 51; $i++) {
            $name = sprintf('bulk-%02d.ready.test', $i);
            $names[] = $name;
            $this->mappedGoodSince($name, $now, $now - 86400 - $i);
        }

        // One batch per job: the job's time is up after its first batch.
        add_filter('closte_native_watch_batch_seconds', '__return_zero');
        Certificate_Watch::run();
        remove_filter('closte_native_watch_batch_seconds', '__return_zero');
        $checked = array_filter($names, fn (string $n) => 1 === $this->served($n)['handshakes']);
        $this->assertCount(50, $checked, 'one batch of 50');
        $this->assertNotContains('bulk-01.ready.test', $checked, 'the least recently checked first: bulk-01 was checked last');
        $continuation = array_values(array_filter($this->pendingJobs(Certificate_Watch::HOOK), static fn (array $job) => [1] === $job['args']));
        $this->assertCount(1, $continuation, 'a continuation job for the rest');
        $this->assertStringContainsString('certificate watch: 50 checked, 1 left for the next batch', $this->log('integration-closte-ssl'));

        $this->runQueue();
        foreach ($names as $name) {
            $this->assertSame(1, $this->served($name)['handshakes'], "$name checked exactly once");
        }
        $this->assertSame([], array_values(array_filter($this->pendingJobs(Certificate_Watch::HOOK), static fn (array $job) => [] !== $job['args'])), 'no further continuation');
    }

    public function testOneJobChecksBatchAfterBatchWhileItHasTime(): void
    {
        $now   = time();
        $names = [];
        for ($i = 1; $i <= 120; $i++) {
            $name    = sprintf('many-%03d.ready.test', $i);
            $names[] = $name;
            $this->mappedGoodSince($name, $now, $now - 86400);
        }

        Certificate_Watch::run();

        foreach ($names as $name) {
            $this->assertSame(1, $this->served($name)['handshakes'], "$name checked once, in the first job");
        }
        $this->assertSame([], array_values(array_filter($this->pendingJobs(Certificate_Watch::HOOK), static fn (array $job) => [] !== $job['args'])), 'three batches in one job: no continuation');
        $this->assertStringNotContainsString('left for the next batch', $this->log('integration-closte-ssl'));
    }

    public function testAnExpiringCertificateIsAWarningInTheLogTheNoticeAndSiteHealth(): void
    {
        $name = 'soon.ready.test';
        $this->mapActive($name);
        $this->assertSame('good', Site_Health::certificates_test()['status']);
        $this->sim->installCertificate($name, ['kind' => 'expiring', 'days_left' => 5]);
        $this->age($name);

        Certificate_Watch::run();

        $record = Certificate_Records::get($name);
        $this->assertSame('expiring', $record['state']);
        $this->assertContains($record['certificate']['days_left'], [4, 5]);
        $this->assertStringContainsString("certificate watch: WARNING: the certificate of $name expires in {$record['certificate']['days_left']} days", $this->log('integration-closte-ssl'));
        $this->assertSame(['kind' => 'expiring', 'severity' => 'warning'], array_intersect_key(Certificate_Watch::findings()[$name], ['kind' => 1, 'severity' => 1]));

        $health = Site_Health::certificates_test();
        $this->assertSame('recommended', $health['status']);
        $this->assertStringContainsString($name, $health['description']);
        $this->assertArrayHasKey('closte_native_certificates', apply_filters('site_status_tests', [])['direct']);
        $info = apply_filters('debug_information', [])['closte_native']['fields']['certificates'];
        $this->assertStringContainsString('1 followed: 0 active, 1 expiring, 0 critical', $info['value']);

        $page = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertStringContainsString('closte-native-certificates', $page['body']);
        $this->assertMatchesRegularExpression('#<li data-domain="soon\.ready\.test" data-kind="expiring">soon\.ready\.test: the certificate expires in \d days#', $page['body']);
    }

    public function testExpiredWrongNameAndUntrustedCertificatesAreCriticalWithWhatToDo(): void
    {
        $cases = ['gone-by.ready.test' => ['expired', 'expired'], 'misnamed.ready.test' => ['wrong_name', 'name_mismatch'], 'stranger.ready.test' => ['untrusted', 'untrusted']];
        foreach ($cases as $name => [$kind, $status]) {
            $this->mapActive($name);
            $this->sim->installCertificate($name, ['kind' => $kind]);
            $this->age($name);
        }

        Certificate_Watch::run();

        $log = $this->log('integration-closte-ssl');
        foreach ($cases as $name => [$kind, $status]) {
            $record = Certificate_Records::get($name);
            $this->assertSame('problem', $record['state'], $name);
            $this->assertSame($status, $record['certificate']['status'], $name);
            $this->assertSame('critical', Certificate_Watch::findings()[$name]['severity']);
            $this->assertStringContainsString("certificate watch: CRITICAL: $name: ", $log);
            $this->assertStringContainsString('What to do: ' . Certificate_Watch::advice($status, $name), $log);
        }
        $this->assertSame('critical', Site_Health::certificates_test()['status']);
        $page = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertStringContainsString('notice-error is-dismissible closte-native-certificates', $page['body']);
        $this->assertSame(3, substr_count($page['body'], 'data-kind="critical"'));
    }

    public function testRetryNowNeedsTheCapabilityAndThatNamesNonce(): void
    {
        $name = 'retry-me.ready.test';
        $this->mapActive($name);
        $this->mapActive('other.ready.test');
        foreach ([$name, 'other.ready.test'] as $each) {
            $this->sim->installCertificate($each, ['kind' => 'expired']);
            $this->age($each);
        }
        Certificate_Watch::run();
        $requested = $this->served($name)['requested'];

        $page = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertSame(1, preg_match('#<li data-domain="retry-me\.ready\.test"[^>]*>.*?<a href="([^"]+)">Retry now</a>#', $page['body'], $link), 'a Retry now link for the name');
        $this->assertSame(1, preg_match('#<li data-domain="other\.ready\.test"[^>]*>.*?<a href="([^"]+)">Retry now</a>#', $page['body'], $otherLink));
        $url = parse_url(html_entity_decode($link[1]));
        parse_str($url['query'], $query);
        parse_str(parse_url(html_entity_decode($otherLink[1]))['query'], $otherQuery);
        $this->assertSame(Certificate_Notice::RETRY_ACTION, $query['action']);

        $noNonce = $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query(['action' => Certificate_Notice::RETRY_ACTION, 'domain' => $name]));
        $this->assertSame(403, $noNonce['status']);
        $wrongName = $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query(['action' => Certificate_Notice::RETRY_ACTION, 'domain' => $name, '_wpnonce' => $otherQuery['_wpnonce']]));
        $this->assertSame(403, $wrongName['status'], 'another name\'s nonce');
        $subscriber = wp_insert_user(['user_login' => 'sub-' . wp_generate_password(6, false), 'user_pass' => wp_generate_password(), 'role' => 'subscriber']);
        $this->assertIsInt($subscriber);
        try {
            $notAllowed = $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query($query), [], $subscriber);
            $this->assertSame(403, $notAllowed['status']);
            $this->assertStringNotContainsString('closte-native-certificates', $this->webRequest('GET', '/wp-admin/', [], $subscriber)['body']);
        } finally {
            require_once ABSPATH . 'wp-admin/includes/user.php';
            require_once ABSPATH . 'wp-admin/includes/ms.php';
            wpmu_delete_user($subscriber);
        }
        wp_cache_flush();
        $this->assertSame($requested, $this->served($name)['requested'], 'nothing requested by refused links');

        $retry = $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query($query));
        $this->assertSame(302, $retry['status']);
        wp_cache_flush();
        $this->assertSame($requested + 1, $this->served($name)['requested'], 'Retry now requested the certificate');
        $this->assertSame('requested', Certificate_Records::get($name)['state']);
        $this->assertStringContainsString("certificate for $name: \"Retry now\" by user 1", $this->log('integration-closte-ssl'));

        $after = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertStringContainsString('closte-native-certificate-retry', $after['body']);
        $this->assertStringContainsString("Certificate for $name requested", $after['body']);
        $this->assertStringNotContainsString('closte-native-certificate-retry', $this->webRequest('GET', '/wp-admin/network/')['body'], 'the result is shown once');
    }

    public function testDismissingHidesTheNoticeUntilTheFindingsChange(): void
    {
        $this->mapActive('first.ready.test');
        $this->sim->installCertificate('first.ready.test', ['kind' => 'expiring', 'days_left' => 3]);
        $this->age('first.ready.test');
        Certificate_Watch::run();

        $page = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertSame(1, preg_match('#href="([^"]*action=' . Certificate_Notice::DISMISS_ACTION . '[^"]*)"#', $page['body'], $dismiss));
        $this->assertSame(302, $this->webRequest('GET', str_replace('http://' . CLOSTE_E2E_NETWORK, '', html_entity_decode($dismiss[1])))['status']);
        $this->assertStringNotContainsString('closte-native-certificates', $this->webRequest('GET', '/wp-admin/network/')['body']);

        $this->mapActive('second.ready.test');
        $this->sim->installCertificate('second.ready.test', ['kind' => 'wrong_name']);
        $this->age('second.ready.test');
        Certificate_Watch::run();
        $again = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertStringContainsString('data-domain="second.ready.test" data-kind="critical"', $again['body'], 'a new finding brings the notice back');
    }

    public function testAMappedDomainWithoutARecordIsFollowedFromItsFirstDailyCheck(): void
    {
        // Mapped with an older version: a domain record and an alias, but no certificate record.
        $name = 'older.ready.test';
        $this->mapActive($name);
        Certificate_Records::delete($name);
        $before = $this->served($name)['handshakes'];

        Certificate_Watch::run();

        $this->assertSame($before + 1, $this->served($name)['handshakes'], 'checked by handshake although it had no record');
        $record = Certificate_Records::get($name);
        $this->assertSame('active', $record['state'] ?? null, json_encode($record));
        $this->assertSame('Closte Sim R1', $record['certificate']['issuer']);
        $this->assertStringContainsString("certificate for $name: followed by the daily watch from now on", $this->log('integration-closte-ssl'));

        Certificate_Watch::run();
        $this->assertSame($before + 1, $this->served($name)['handshakes'], 'and then at most once a day like every other name');
    }

    /** A followed name whose requests are held until tomorrow: a finding of kind held. */
    private function putHeld(string $name): void
    {
        $record             = Certificate_Records::fresh($name, 1, null);
        $record['alias_at'] = time();
        $record['state']    = 'held';
        $record['next_at']  = time() + 86400;
        Certificate_Records::put($record);
    }

    public function testTheNoticeAndSiteHealthNameTwentyDomainsAndCountTheRest(): void
    {
        foreach (range(1, Certificate_Notice::SHOWN + 5) as $i) {
            $this->putHeld(sprintf('held-%02d.example', $i));
        }

        $page = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertSame(Certificate_Notice::SHOWN, preg_match_all('#<li data-domain="held-\d\d\.example" data-kind="held">#', $page['body']), 'twenty names listed');
        $this->assertStringContainsString('data-domain="held-01.example"', $page['body'], 'in name order');
        $this->assertStringNotContainsString('data-domain="held-21.example"', $page['body']);
        $this->assertMatchesRegularExpression('#<li class="closte-native-more">and 5 more domains\. <a href="[^"]*settings\.php\?page=closte-native-domains">#', $page['body']);

        $health = Site_Health::certificates_test();
        $this->assertSame('recommended', $health['status']);
        $this->assertSame(Certificate_Notice::SHOWN, substr_count($health['description'], 'certificate requests are held until'));
        $this->assertStringContainsString('And 5 more domains: the Closte Domains page lists them.', $health['description']);
    }

    public function testFindingsAreKeptUntilARecordsFindingChanges(): void
    {
        $this->putHeld('kept.example');
        $this->assertSame(['kept.example'], array_keys(Certificate_Watch::findings()));
        $this->assertIsArray(get_site_transient(Certificate_Watch::FINDINGS_TRANSIENT), 'kept for the next page');

        // A write that changes nothing findings() says: the kept answer stays.
        $record               = Certificate_Records::get('kept.example');
        $record['dns_checks'] = 3;
        Certificate_Records::put($record);
        $this->assertIsArray(get_site_transient(Certificate_Watch::FINDINGS_TRANSIENT));

        // A new finding, a changed one and a record deleted are each read at once.
        $this->putHeld('new.example');
        $this->assertSame(['kept.example', 'new.example'], array_keys(Certificate_Watch::findings()));
        $record            = Certificate_Records::get('new.example');
        $record['next_at'] = time() + 2 * 86400;
        Certificate_Records::put($record);
        $this->assertSame($record['next_at'], Certificate_Watch::findings()['new.example']['record']['next_at']);
        $record['state'] = 'requested';
        Certificate_Records::put($record);
        $this->assertSame(['kept.example'], array_keys(Certificate_Watch::findings()));
        Certificate_Records::delete('kept.example');
        $this->assertSame([], Certificate_Watch::findings());
    }

    public function testEachRecordIsReadOnceAcrossPages(): void
    {
        $names = [];
        foreach (range(1, 20) as $i) {
            $names[] = "page-$i.example";
            $this->putHeld("page-$i.example");
        }
        Certificate_Records::keep_requests('gone.example', [time()]); // not a record: never listed

        foreach ([7, 10, 20, 1000] as $page) {
            $read = [];
            foreach (Certificate_Records::each($page) as $name => $record) {
                $read[] = $name;
                $this->assertSame($name, $record['name']);
                $this->assertSame('held', $record['state']);
                $this->assertArrayHasKey('certificate', $record, 'completed');
            }
            sort($read);
            $expected = $names;
            sort($expected);
            $this->assertSame($expected, $read, "pages of $page");
        }
        $each = iterator_to_array(Certificate_Records::each(3));
        ksort($each, SORT_NATURAL);
        $this->assertSame(Certificate_Records::all(), $each, 'the same records as all()');
    }
}
