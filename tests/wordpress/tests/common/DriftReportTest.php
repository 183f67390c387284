<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Registry;
use Closte_Native\Certificate_Records;
use Closte_Native\Certificate_Watch;
use Closte_Native\Drift_Report;

/**
 * The daily drift report (issue 23): a dry-run reconcile (the Sync page's preview) plus the
 * certificate watch's findings; findings stored, shown in a network admin notice dismissible
 * per finding (back when it changes), one e-mail per changed set when the operator turned it
 * on. Nothing is added or removed by the report: its only request is /getdomains.
 */
final class DriftReportTest extends E2eTestCase
{
    /** @var list<array<string, mixed>> */
    private array $mails = [];

    protected function setUp(): void
    {
        parent::setUp();
        $this->mails = [];
        add_filter('pre_wp_mail', [$this, 'captureMail'], 10, 2);
    }

    protected function tearDown(): void
    {
        remove_filter('pre_wp_mail', [$this, 'captureMail'], 10);
        parent::tearDown();
    }

    /** pre_wp_mail (WordPress 5.7+): the e-mail is not sent, it is kept for the test. */
    public function captureMail($short, array $atts): bool
    {
        $this->mails[] = $atts;
        return true;
    }

    /** Domain records inserted without firing hooks. */
    private function insertRecords(array $domains, int $site = 1): void
    {
        global $wpdb;
        foreach ($domains as $domain) {
            $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => $site, 'domain' => $domain]);
        }
    }

    /** Maps $name and runs its lifecycle until the handshake found its certificate active. */
    private function mapActive(string $name): void
    {
        Standin_Domain_Manager::create_domain($name, 1);
        $this->runQueue();
        $this->runQueue();
        sleep(2);
        $this->runQueue(60);
        wp_cache_flush();
        $this->assertSame('active', Certificate_Records::get($name)['state'] ?? null);
    }

    private function runReport(): array
    {
        wp_cache_flush();
        Drift_Report::run();
        wp_cache_flush();
        return Drift_Report::stored()['findings'];
    }

    /** @return array<string, string> finding id => its Dismiss link, from the notices a super admin sees */
    private function noticeLinks(?string &$html = null): array
    {
        $html = $this->wpCli(['notices'])['stdout'];
        preg_match_all('#<li data-finding="([^"]+)">.*?<a href="([^"]+)" class="closte-native-drift-dismiss">#', $html, $m, PREG_SET_ORDER);
        $links = [];
        foreach ($m as [, $id, $href]) {
            $links[html_entity_decode($id)] = html_entity_decode($href);
        }
        return $links;
    }

    private function dismiss(string $href): void
    {
        parse_str((string) parse_url($href, PHP_URL_QUERY), $query);
        $answer = $this->wpCli(['admin-post', json_encode($query)]);
        $this->assertStringContainsString('redirect: ', $answer['stdout'], $answer['stdout'] . $answer['stderr']);
    }

    public function testFindingsOfADryRunAndTheWatchWithNothingAddedOrRemoved(): void
    {
        $this->mapActive('drift-soon.ready.test');
        $this->sim->installCertificate('drift-soon.ready.test', ['kind' => 'expiring', 'days_left' => 5]);
        $record = Certificate_Records::get('drift-soon.ready.test');
        $record['certificate']['checked_at'] = time() - 21 * 3600;
        Certificate_Records::put($record);
        Certificate_Watch::run();

        $this->insertRecords(['drift-missing.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'drift-orphan.example', 'drift-owned.example']]);
        Alias_Registry::record('drift-owned.example', 1, 'test');
        $aliases = $this->sim->domains();
        $before = count($this->sim->requests());

        $findings = $this->runReport();

        $this->assertSame(['/getdomains'], array_column(array_slice($this->sim->requests(), $before), 'path'), 'a dry run: one listing, no change, no handshake');
        $this->assertSame($aliases, $this->sim->domains());
        $this->assertSame('no_alias', $findings['no_alias:drift-missing.example']['code'] ?? null, json_encode(array_keys($findings)));
        $this->assertStringContainsString('drift-missing.example is served by the network (domain record of site 1) but has no alias on Closte.', $findings['no_alias:drift-missing.example']['text']);
        $this->assertFalse($findings['unused_alias:drift-orphan.example']['owned']);
        $this->assertStringContainsString('this plugin did not add it', $findings['unused_alias:drift-orphan.example']['text']);
        $this->assertTrue($findings['unused_alias:drift-owned.example']['owned']);
        $this->assertStringContainsString('that this plugin added', $findings['unused_alias:drift-owned.example']['text']);
        $this->assertArrayHasKey('certificate_expiring:drift-soon.ready.test', $findings);
        $this->assertStringContainsString('expires in', $findings['certificate_expiring:drift-soon.ready.test']['text']);
        $this->assertArrayNotHasKey('no_alias:drift-soon.ready.test', $findings, 'an alias Closte has is no finding');

        $daily = array_values(array_filter($this->pendingJobs(Drift_Report::HOOK), static fn (array $job) => [] === $job['args']));
        $this->assertCount(1, $daily, 'the next daily run is queued once');
        $this->assertEqualsWithDelta(time() + 86400, (int) $daily[0]['scheduled_at'], 5);
        $this->assertStringContainsString('drift report: ', $this->log());
        $this->assertSame([], $this->mails, 'no e-mail unless the operator turned it on');
    }

    public function testTheNoticeListsEachFindingDismissibleOnItsOwnUntilItChanges(): void
    {
        $this->insertRecords(['drift-one.example', 'drift-two.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'drift-theirs.example']]);
        $this->runReport();

        $links = $this->noticeLinks($html);
        $this->assertArrayHasKey('no_alias:drift-one.example', $links, $html);
        $this->assertArrayHasKey('no_alias:drift-two.example', $links);
        $this->assertArrayHasKey('unused_alias:drift-theirs.example', $links);
        $this->assertStringContainsString('page=closte-native-domains', $html, 'a link to the Closte Domains page');
        $this->assertStringContainsString('Nothing was added or removed automatically.', $html);

        $this->dismiss($links['no_alias:drift-one.example']);
        $after = $this->noticeLinks();
        $this->assertArrayNotHasKey('no_alias:drift-one.example', $after, 'dismissed');
        $this->assertArrayHasKey('no_alias:drift-two.example', $after, 'the others stay');

        // Another finding's nonce does not dismiss this one.
        parse_str((string) parse_url($after['no_alias:drift-two.example'], PHP_URL_QUERY), $query);
        $query['finding'] = 'unused_alias:drift-theirs.example';
        $refused = $this->wpCli(['admin-post', json_encode($query)]);
        $this->assertStringNotContainsString('redirect: ', $refused['stdout']);
        $this->assertArrayHasKey('unused_alias:drift-theirs.example', $this->noticeLinks());

        // The finding changes (the alias is ours now): it comes back.
        $this->dismiss($after['unused_alias:drift-theirs.example']);
        $this->assertArrayNotHasKey('unused_alias:drift-theirs.example', $this->noticeLinks());
        Alias_Registry::record('drift-theirs.example', 1, 'test');
        $this->runReport();
        $back = $this->noticeLinks();
        $this->assertArrayHasKey('unused_alias:drift-theirs.example', $back, 'changed: shown again');
        $this->assertArrayNotHasKey('no_alias:drift-one.example', $back, 'unchanged: still dismissed');
    }

    public function testCertificateFindingsAreLeftToTheCertificateNotice(): void
    {
        $this->mapActive('drift-cert.ready.test');
        $this->sim->installCertificate('drift-cert.ready.test', ['kind' => 'expiring', 'days_left' => 5]);
        $record = Certificate_Records::get('drift-cert.ready.test');
        $record['certificate']['checked_at'] = time() - 21 * 3600;
        Certificate_Records::put($record);
        Certificate_Watch::run();
        $this->insertRecords(['drift-plain.example']);
        $this->runReport();

        $links = $this->noticeLinks($html);
        $this->assertArrayNotHasKey('certificate_expiring:drift-cert.ready.test', $links, 'not listed twice');
        $this->assertStringContainsString('1 certificate finding is in the certificate notice.', $html);
        $this->assertSame(1, substr_count($html, 'drift-cert.ready.test: the certificate expires in'), 'said once, by the certificate notice');
    }

    public function testOneEmailPerChangedSetOnlyWhenTurnedOn(): void
    {
        $this->insertRecords(['mail-one.example']);
        $this->runReport();
        $this->assertSame([], $this->mails, 'off by default');

        update_site_option(Drift_Report::EMAIL_OPTION, '1');
        $this->runReport();
        $this->assertCount(1, $this->mails);
        $this->assertSame(get_site_option('admin_email'), $this->mails[0]['to']);
        $this->assertStringContainsString('Closte drift report:', $this->mails[0]['subject']);
        $this->assertStringContainsString('mail-one.example is served by the network', $this->mails[0]['message']);
        $this->assertStringContainsString('page=closte-native-domains', $this->mails[0]['message']);
        $this->assertStringContainsString('Nothing was added to or removed from Closte by this report.', $this->mails[0]['message']);
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, $this->mails[0]['message']);

        $this->runReport();
        $this->assertCount(1, $this->mails, 'the same findings: no second e-mail');

        $this->insertRecords(['mail-two.example']);
        $this->runReport();
        $this->assertCount(2, $this->mails, 'changed: one more');
        $this->assertStringContainsString('mail-two.example', $this->mails[1]['message']);

        update_site_option(Drift_Report::EMAIL_OPTION, '0');
        $this->insertRecords(['mail-three.example']);
        $this->runReport();
        $this->assertCount(2, $this->mails, 'turned off again');
    }
}
