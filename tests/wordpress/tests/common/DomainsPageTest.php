<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Alias_Registry;
use Closte_Native\Certificate_Records;
use Closte_Native\Domain_Status;
use Closte_Native\Domains_Page;
use Closte_Native\Sync_Service;

/**
 * The Closte Domains page (issue 23) over HTTP, as the browser sees it: WordPress's list-table
 * markup with the counts of each view, search, the "needs attention" filter, sorting and paging;
 * each action through the real admin-ajax handler (its effect on Closte, on our records, the row
 * refreshed, the log lines returned) and through the plain admin-post fallback (redirect, the
 * result shown once); refusals without the capability or the nonce, and for names that are not
 * the network's, before anything reaches Closte. Names under *.ready.test resolve to the
 * simulator's front door; other names have no address (harness.sh's closte.resolve).
 */
final class DomainsPageTest extends E2eTestCase
{
    private const PAGE = '/wp-admin/network/settings.php?page=closte-native-domains';

    /** A domain record inserted without its hooks: mapped, but nothing sent to Closte. */
    private function record(string $name, int $site = 1): void
    {
        global $wpdb;
        $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => $site, 'domain' => $name]);
    }

    /** Maps $name and runs its lifecycle until the handshake found its certificate active. */
    private function mapActive(string $name): void
    {
        Standin_Domain_Manager::create_domain($name, 1);
        $this->runQueue(); // the add
        $this->runQueue(); // DNS ready: the request
        sleep(2); // the simulator issues 1 s after the request
        $this->runQueue(60); // the handshake
        wp_cache_flush();
        $this->assertSame('active', Certificate_Records::get($name)['state'] ?? null);
    }

    /** @return array{status: int, body: string} the page with these query arguments */
    private function page(array $query = [], int $user = 1): array
    {
        $answer = $this->webRequest('GET', self::PAGE . ([] === $query ? '' : '&' . http_build_query($query)), [], $user);
        if (1 === $user) {
            $this->assertSame(200, $answer['status'], substr($answer['body'], 0, 500));
        }
        return $answer;
    }

    /** @return list<string> the names of the table's rows, in order */
    private function rowNames(string $body): array
    {
        preg_match_all('#<tr id="closte-domain-[0-9a-f]{32}" data-name="([^"]+)"#', $body, $m);
        return $m[1];
    }

    /** The HTML of one name's row. */
    private function rowHtml(string $body, string $name): string
    {
        $this->assertSame(1, preg_match('#<tr id="closte-domain-[0-9a-f]{32}" data-name="' . preg_quote($name, '#') . '".*?</tr>#s', $body, $m), "a row for $name");
        return $m[0];
    }

    private function nonce(string $body): string
    {
        $this->assertSame(1, preg_match('#name="closte_nonce" value="([0-9a-f]+)"#', $body, $m), 'the page carries its nonce');
        return $m[1];
    }

    /** @return array{status: int, json: ?array} the AJAX answer of an action */
    private function ajax(string $do, array $names, ?string $nonce, int $user = 1): array
    {
        $form = ['action' => Domains_Page::AJAX_ACTION, 'do' => $do, 'domains' => $names];
        if (null !== $nonce) {
            $form['closte_nonce'] = $nonce;
        }
        $answer = $this->webRequest('POST', '/wp-admin/admin-ajax.php', $form, $user);
        wp_cache_flush();
        return ['status' => $answer['status'], 'json' => json_decode($answer['body'], true)];
    }

    /** A network user who is not a super admin (a site administrator). */
    private function siteAdmin(): int
    {
        $id = wp_insert_user(['user_login' => 'site-admin-' . wp_generate_password(6, false), 'user_pass' => wp_generate_password(), 'role' => 'administrator']);
        $this->assertIsInt($id);
        return $id;
    }

    private function deleteUser(int $id): void
    {
        require_once ABSPATH . 'wp-admin/includes/user.php';
        require_once ABSPATH . 'wp-admin/includes/ms.php';
        wpmu_delete_user($id);
    }

    /** The API requests that act on names (adds, removals, certificate requests): not the list. */
    private function changingRequests(): array
    {
        return array_values(array_filter($this->sim->requests(), static fn (array $r) => '/getdomains' !== $r['path']));
    }

    public function testRendersEveryNameInAWordPressListTableWithTheCountsOfEachViewAndOneListingAMinute(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['page-has-alias.example']]);
        $this->record('page-has-alias.example');
        $this->record('page-no-alias.example');

        $first = $this->page()['body'];
        $this->page();
        $this->assertCount(1, $this->requestsTo('/getdomains'), 'two page views within a minute: one /getdomains');

        $counts = Domain_Status::rows(['per_page' => 0])['counts'];
        $names = $this->rowNames($first);
        $this->assertSame($counts['all'], count($names), 'a row per name');
        $this->assertContains('page-has-alias.example', $names);
        $this->assertContains('page-no-alias.example', $names);
        $this->assertContains(strtolower(CLOSTE_E2E_NETWORK), $names, 'the main site host');
        $this->assertGreaterThanOrEqual(1, $counts['needs_attention']);

        $this->assertStringContainsString('<table class="wp-list-table widefat fixed striped', $first);
        $this->assertMatchesRegularExpression('#<a href="[^"]*"\s+class="current" aria-current="page">All <span class="count">\(<span class="closte-native-count" data-view="all">' . $counts['all'] . '</span>\)</span></a>#', $first);
        $this->assertMatchesRegularExpression('#>Needs attention <span class="count">\(<span class="closte-native-count" data-view="needs_attention">' . $counts['needs_attention'] . '</span>\)#', $first);
        foreach (['name', 'site', 'alias', 'certificate', 'expires', 'next'] as $column) {
            $this->assertMatchesRegularExpression("#<th scope=\"col\" id='$column' class='manage-column column-$column [^']*sort(able|ed)#", $first, "$column is sortable");
        }
        $this->assertStringContainsString('id="closte-native-domain-search-input"', $first, 'the search box');
        $this->assertStringContainsString('<select name="bulk_action" id="bulk-action-selector-top">', $first);
        $this->assertStringContainsString('<option value="add_alias">Add alias now</option>', $first);

        $has = $this->rowHtml($first, 'page-has-alias.example');
        $this->assertStringContainsString('closte-native-alias-yes', $has);
        $this->assertStringContainsString('there before', $has, 'an alias this plugin did not add');
        $this->assertStringNotContainsString('data-action="add_alias"', $has, 'no "add alias" for a name Closte has');
        $missing = $this->rowHtml($first, 'page-no-alias.example');
        $this->assertStringContainsString('closte-native-alias-no', $missing);
        $this->assertStringContainsString('closte-native-needs-attention', $missing);
        $this->assertStringContainsString(esc_html(Domain_Status::attention_text('no_alias')), $missing);
        $this->assertStringContainsString('data-action="add_alias"', $missing);
        $this->assertStringContainsString('settings.php?page=closte-native-sync&#038;domain=page-no-alias.example', $missing, 'the Sync preview link for this name');
    }

    public function testSearchFilterSortAndPaging(): void
    {
        for ($i = 1; $i <= 55; $i++) {
            $this->record(sprintf('bulk-%02d.example', $i));
        }
        $this->sim->control('POST', '/domains', ['domains' => ['bulk-07.example']]);
        $this->record('findme-shop.example');

        $all = Domain_Status::rows(['per_page' => 0]);
        $names = array_column($all['rows'], 'name');
        sort($names, SORT_NATURAL);

        $first = $this->page()['body'];
        $this->assertSame(array_slice($names, 0, 50), $this->rowNames($first), 'page 1: the first 50 by name');
        $this->assertMatchesRegularExpression('#<span class="displaying-num">' . count($names) . ' items</span>#', $first);
        $this->assertStringContainsString('paged=2', $first, 'a link to page 2');
        $this->assertSame(array_slice($names, 50), $this->rowNames($this->page(['paged' => 2])['body']), 'page 2: the rest');

        $desc = $this->page(['orderby' => 'name', 'order' => 'desc'])['body'];
        $this->assertSame(array_slice(array_reverse($names), 0, 50), $this->rowNames($desc), 'sorted by name, descending');
        $this->assertStringContainsString("class='manage-column column-name column-primary sorted desc'", $desc);

        $byAlias = $this->rowNames($this->page(['orderby' => 'alias', 'order' => 'asc'])['body']);
        $this->assertSame(array_slice(array_column(Domain_Status::rows(['orderby' => 'alias', 'order' => 'asc', 'per_page' => 0])['rows'], 'name'), 0, 50), $byAlias, 'sorted by alias as the model sorts');

        $search = $this->page(['s' => 'findme'])['body'];
        $this->assertSame(['findme-shop.example'], $this->rowNames($search));
        $this->assertStringContainsString('value="findme"', $search, 'the search box keeps the text');
        $this->assertStringContainsString('No domain matches', $this->page(['s' => 'nothing-like-this'])['body']);

        $attention = $this->rowNames($this->page(['status' => 'needs_attention'])['body']);
        $expected = array_column(Domain_Status::rows(['status' => 'needs_attention', 'per_page' => 0])['rows'], 'name');
        $this->assertSame(array_slice($expected, 0, 50), $attention);
        $this->assertNotContains('bulk-07.example', $attention, 'a name Closte has needs no attention');
        $this->assertContains('bulk-08.example', $attention);
        $this->assertMatchesRegularExpression('#class="current" aria-current="page">Needs attention#', $this->page(['status' => 'needs_attention'])['body']);
    }

    public function testAddAliasNowRunsInPlaceWithItsLogLineAndTheRowRefreshed(): void
    {
        $this->record('add-me.example');
        $this->sim->control('POST', '/domains', ['domains' => ['someone-elses.example']]);
        $this->record('someone-elses.example');
        $body = $this->page()['body'];
        $this->assertStringContainsString('closte-native-alias-no', $this->rowHtml($body, 'add-me.example'));

        $answer = $this->ajax('add_alias', ['add-me.example'], $this->nonce($body));
        $this->assertSame(200, $answer['status'], json_encode($answer['json']));
        $this->assertTrue($answer['json']['success']);
        $result = $answer['json']['data']['results'][0];
        $this->assertSame(['add-me.example', true], [$result['name'], $result['ok']]);
        $this->assertStringContainsString('was added as an alias on Closte', $result['message']);
        $this->assertNotEmpty(preg_grep('/^add_domain add-me\.example \(site 1\): OK state=added/', $result['log']), 'the log line of the add: ' . json_encode($result['log']));
        $this->assertStringContainsString('add_domain add-me.example (site 1): OK state=added', $this->log(), 'the same line is in the log file');
        $this->assertContains('add-me.example', $this->sim->domains());
        $this->assertTrue(Alias_Registry::owns(Alias_Registry::get('add-me.example')), 'added by this plugin: ours');
        $this->assertStringContainsString('closte-native-alias-yes', $result['row'], 'the row is refreshed from a fresh listing');
        $this->assertStringContainsString('added by this plugin', $result['row']);
        $this->assertStringNotContainsString('data-action="add_alias"', $result['row']);
        $this->assertSame(Domain_Status::rows(['per_page' => 1])['counts'], $answer['json']['data']['counts'], 'the counts of the views follow');

        // An alias Closte had already: "already exists", not ours (kept when unmapped).
        $other = $this->ajax('add_alias', ['someone-elses.example'], $this->nonce($body));
        $this->assertTrue($other['json']['data']['results'][0]['ok']);
        $this->assertStringContainsString('was already an alias on Closte', $other['json']['data']['results'][0]['message']);
        $this->assertFalse(Alias_Registry::owns(Alias_Registry::get('someone-elses.example')));
    }

    public function testABulkActionRunsOnEveryTickedName(): void
    {
        $this->record('bulk-one.example');
        $this->record('bulk-two.example');
        $answer = $this->ajax('add_alias', ['bulk-one.example', 'bulk-two.example'], $this->nonce($this->page()['body']));
        $this->assertSame(['bulk-one.example', 'bulk-two.example'], array_column($answer['json']['data']['results'], 'name'));
        $this->assertSame([true, true], array_column($answer['json']['data']['results'], 'ok'));
        $this->assertCount(2, $this->requestsTo('/adddomainalias'));
        foreach ($answer['json']['data']['results'] as $result) {
            $this->assertStringContainsString('data-name="' . $result['name'] . '"', $result['row']);
        }
    }

    public function testRequestCertificateNowRequestsOrExplainsTheHold(): void
    {
        $name = 'request-now.ready.test';
        $this->mapActive($name);
        $requested = $this->sim->certificates()[$name]['requested'];
        $nonce = $this->nonce($this->page()['body']);

        $answer = $this->ajax('request_certificate', [$name], $nonce);
        $result = $answer['json']['data']['results'][0];
        $this->assertTrue($result['ok'], json_encode($result));
        $this->assertStringContainsString("Certificate for $name requested", $result['message']);
        $this->assertSame($requested + 1, $this->sim->certificates()[$name]['requested']);
        $this->assertSame('requested', Certificate_Records::get($name)['state']);
        $this->assertNotEmpty(preg_grep('/"Request certificate now" by user 1 on the Closte Domains page/', $result['log']), json_encode($result['log']));
        $this->assertStringContainsString('data-state="requested"', $result['row']);

        // 4 requests in 7 days: held, explained, nothing sent.
        $record = Certificate_Records::get($name);
        $record['requests'] = [time() - 3600, time() - 1800, time() - 600, time() - 60];
        Certificate_Records::put($record);
        $held = $this->ajax('request_certificate', [$name], $nonce)['json']['data']['results'][0];
        $this->assertFalse($held['ok']);
        $this->assertStringContainsString('Let\'s Encrypt issues at most 5 per name per week', $held['message']);
        $this->assertSame($requested + 1, $this->sim->certificates()[$name]['requested'], 'nothing requested while held');
    }

    public function testRecheckIsOneHandshakeAllowedWithinTheDayAndLogged(): void
    {
        $name = 'recheck.ready.test';
        $this->mapActive($name);
        $handshakes = $this->sim->certificates()[$name]['handshakes'];
        $nonce = $this->nonce($this->page()['body']);

        $answer = $this->ajax('recheck_certificate', [$name], $nonce)['json']['data']['results'][0];
        $this->assertTrue($answer['ok'], json_encode($answer));
        $this->assertStringContainsString('the certificate is active', $answer['message']);
        $this->assertSame($handshakes + 1, $this->sim->certificates()[$name]['handshakes'], 'one handshake');
        $this->assertNotEmpty(preg_grep('/re-check by user 1 on the Closte Domains page \(last handshake .* ago: a manual check beyond the one a day\)/', $answer['log']), json_encode($answer['log']));

        // A certificate gone bad is a problem at once; nothing is requested by a check.
        $requested = $this->sim->certificates()[$name]['requested'];
        $this->sim->installCertificate($name, ['kind' => 'expired']);
        $bad = $this->ajax('recheck_certificate', [$name], $nonce)['json']['data']['results'][0];
        $this->assertFalse($bad['ok']);
        $this->assertStringContainsString('the certificate check found expired', $bad['message']);
        $this->assertSame('problem', Certificate_Records::get($name)['state']);
        $this->assertStringContainsString('data-state="problem"', $bad['row']);
        $this->assertSame($requested, $this->sim->certificates()[$name]['requested']);
    }

    public function testEveryEntryRefusesWithoutTheCapabilityOrTheNonceAndForNamesNotOfTheNetwork(): void
    {
        $this->record('guarded.example');
        $nonce = $this->nonce($this->page()['body']);
        $sent = $this->changingRequests();

        $none = $this->ajax('add_alias', ['guarded.example'], null);
        $this->assertSame(403, $none['status']);
        $this->assertStringContainsString('expired', $none['json']['data']['message']);
        $forged = $this->ajax('add_alias', ['guarded.example'], 'forged1234');
        $this->assertSame(403, $forged['status']);
        $plain = $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query(['action' => Domains_Page::ACTION, 'do' => 'add_alias', 'domain' => 'guarded.example']));
        $this->assertSame(403, $plain['status'], 'the plain link without its nonce');

        $siteAdmin = $this->siteAdmin();
        try {
            $this->assertNotSame(200, $this->page([], $siteAdmin)['status'], 'the page is not for a site administrator');
            $other = $this->ajax('add_alias', ['guarded.example'], $nonce, $siteAdmin);
            $this->assertSame(403, $other['status']);
            $this->assertStringContainsString('not allowed', $other['json']['data']['message']);
            $post = $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query(['action' => Domains_Page::ACTION, 'do' => 'add_alias', 'domain' => 'guarded.example', 'closte_nonce' => $nonce]), [], $siteAdmin);
            $this->assertSame(403, $post['status']);
        } finally {
            $this->deleteUser($siteAdmin);
        }
        $this->assertSame($sent, $this->changingRequests(), 'nothing reached Closte');
        $this->assertNotContains('guarded.example', $this->sim->domains());

        $unknown = $this->ajax('delete_everything', ['guarded.example'], $nonce);
        $this->assertSame(400, $unknown['status']);
        $this->assertStringContainsString('Unknown action "delete_everything"', $unknown['json']['data']['message']);
        $empty = $this->ajax('add_alias', [], $nonce);
        $this->assertSame(400, $empty['status']);
        $this->assertStringContainsString('No domain selected', $empty['json']['data']['message']);

        $stranger = $this->ajax('add_alias', ['not-ours.example'], $nonce)['json']['data']['results'][0];
        $this->assertFalse($stranger['ok']);
        $this->assertStringContainsString('not-ours.example is not a site address or mapped domain of this network', $stranger['message']);
        $this->assertNull($stranger['row']);
        $this->assertSame($sent, $this->changingRequests(), 'a name that is not the network\'s is never sent');
    }

    public function testWithoutJavaScriptALinkRedirectsBackToTheSameViewAndShowsTheResultOnce(): void
    {
        $this->record('plain-link.example');
        $body = $this->page(['s' => 'plain', 'orderby' => 'alias'])['body'];
        $this->assertSame(1, preg_match('#<a href="([^"]+)" class="closte-native-run" data-action="add_alias" data-name="plain-link\.example"#', $this->rowHtml($body, 'plain-link.example'), $m));
        $href = html_entity_decode($m[1]);
        $this->assertStringStartsWith('http://' . CLOSTE_E2E_NETWORK . '/wp-admin/admin-post.php?', $href);

        $answer = $this->webRequest('GET', substr($href, strlen('http://' . CLOSTE_E2E_NETWORK)));
        $this->assertSame(302, $answer['status']);
        wp_cache_flush();
        $this->assertContains('plain-link.example', $this->sim->domains());

        $after = $this->page(['s' => 'plain', 'orderby' => 'alias'])['body'];
        $this->assertStringContainsString('plain-link.example was added as an alias on Closte', $after);
        $this->assertMatchesRegularExpression('#<ul class="closte-native-log-lines"><li><code>add_domain plain-link\.example \(site 1\): OK state=added#', $after);
        $this->assertStringContainsString('closte-native-alias-yes', $this->rowHtml($after, 'plain-link.example'));
        $this->assertStringNotContainsString('was added as an alias on Closte', $this->page(['s' => 'plain'])['body'], 'shown once');
    }

    public function testTheBulkFormWithoutJavaScriptActsOnTheTickedNames(): void
    {
        $this->record('form-one.example');
        $this->record('form-two.example');
        $nonce = $this->nonce($this->page()['body']);
        $answer = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => Domains_Page::ACTION, 'closte_nonce' => $nonce, 'bulk_action' => '-1', 'bulk_action2' => 'add_alias', 'domains' => ['form-one.example', 'form-two.example'], 'paged' => '1']);
        $this->assertSame(302, $answer['status']);
        wp_cache_flush();
        $this->assertContains('form-one.example', $this->sim->domains());
        $this->assertContains('form-two.example', $this->sim->domains());
        $this->assertSame(2, substr_count($this->page()['body'], 'closte-native-domains-result" data-name='));

        // The page box (no bulk action): back to that page, nothing done.
        $sent = $this->changingRequests();
        $paging = $this->webRequest('POST', '/wp-admin/admin-post.php', ['action' => Domains_Page::ACTION, 'closte_nonce' => $nonce, 'bulk_action' => '-1', 'bulk_action2' => '-1', 'paged' => '3', 's' => 'form']);
        $this->assertSame(302, $paging['status']);
        $this->assertSame($sent, $this->changingRequests());
    }

    public function testTheDriftReportEmailIsSwitchedOnThisPage(): void
    {
        $body = $this->page()['body'];
        $this->assertMatchesRegularExpression('#<input type="checkbox" name="closte_native_drift_email" value="1" id="closte-native-drift-email">#', $body, 'off by default');
        $form = ['action' => Domains_Page::ACTION, 'do' => 'settings', 'closte_nonce' => $this->nonce($body), Domains_Page::EMAIL_OPTION => '1'];
        $this->assertSame(302, $this->webRequest('POST', '/wp-admin/admin-post.php', $form)['status']);
        wp_cache_flush();
        $this->assertSame('1', get_site_option(Domains_Page::EMAIL_OPTION));
        $this->assertStringContainsString("id=\"closte-native-drift-email\" checked='checked'", $this->page()['body']);
        unset($form[Domains_Page::EMAIL_OPTION]);
        $this->assertSame(302, $this->webRequest('POST', '/wp-admin/admin-post.php', $form)['status']);
        wp_cache_flush();
        $this->assertSame('0', get_site_option(Domains_Page::EMAIL_OPTION));
        unset($form['closte_nonce']);
        $this->assertSame(403, $this->webRequest('POST', '/wp-admin/admin-post.php', $form + [Domains_Page::EMAIL_OPTION => '1'])['status']);
        wp_cache_flush();
        $this->assertSame('0', get_site_option(Domains_Page::EMAIL_OPTION), 'no change without the nonce');
    }

    public function testTheSyncPreviewLinkPointsTheNameOutInThePreview(): void
    {
        $this->record('preview-me.example');
        $before = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync&domain=preview-me.example')['body'];
        $this->assertMatchesRegularExpression('#closte-native-sync-focus" data-domain="preview-me\.example"><p>Preview the sync to see what it would do with preview-me\.example#', $before);
        $this->assertStringContainsString('<input type="hidden" name="domain" value="preview-me.example">', $before, 'the preview form keeps the name');

        $this->assertNotInstanceOf(WP_Error::class, Sync_Service::request_preview(false));
        $this->runSyncJob();
        $after = $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync&domain=preview-me.example')['body'];
        $this->assertStringContainsString('preview-me.example is listed under &quot;To add&quot;', $after);
        $this->assertMatchesRegularExpression('#<tr class="closte-native-focus"><td class="closte-native-name"><code>preview-<wbr>me\.<wbr>example</code>#', $after);
        $this->assertSame(1, substr_count($after, 'closte-native-focus"><td'), 'only that name is highlighted');
        $this->assertStringNotContainsString('closte-native-focus', $this->webRequest('GET', '/wp-admin/network/settings.php?page=closte-native-sync')['body']);
    }
}
