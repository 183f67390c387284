<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Certificate_Records;
use Closte_Native\Domain_Screens;
use Closte_Native\Domains_Page;

/**
 * Each domain's Closte state on Ultimate Multisite's own network-admin screens (issue 23),
 * rendered by a real request to the network admin as the super admin: the domain list (under
 * the name in the registry generation, through wu_domain_list_column_domain; in the row action
 * in 2.4, which has no column filter) with a "Closte status" row action linking to the Closte
 * Domains page for that name, and a "Closte" box on the edit-domain page
 * (wu_page_wp-ultimo-edit-domain_register_widgets). The screens are the stand-ins' models of
 * UM's list table and edit page (fixtures/ultimate-multisite-admin-pages-standin.php).
 */
final class DomainScreensTest extends E2eTestCase
{
    private const HOSTILE_ISSUER = '"><img src=x onerror=alert(1)>';
    private const HOSTILE_ERROR = "</dd><script>alert('closte')</script>";

    /** @var array<string, int> domain record ids by name */
    private array $ids = [];

    protected function setUp(): void
    {
        parent::setUp();
        global $wpdb;
        foreach (['good.example', 'missing.example', 'soon.example'] as $name) {
            $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => 1, 'domain' => $name, 'stage' => 'done']);
            $this->ids[$name] = (int) $wpdb->insert_id;
        }
        // Closte has aliases for good and soon, not for missing.
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'good.example', 'soon.example']]);
        $this->certificate('good.example', 'active', 42, self::HOSTILE_ISSUER, self::HOSTILE_ERROR);
        $this->certificate('soon.example', 'expiring', 5, 'Closte Sim R1', '');
    }

    /** A certificate record as the lifecycle leaves it after a handshake. */
    private function certificate(string $name, string $state, int $days, string $issuer, string $error): void
    {
        $record = Certificate_Records::fresh($name, 1, null);
        $record['alias_at'] = time() - 86400;
        $record['state'] = $state;
        $record['last_error'] = $error;
        $record['dns'] = ['ready' => true, 'reason' => '', 'checked_at' => time() - 3600, 'by' => 'closte', 'unexpected' => false];
        // Half a day more than $days, so the whole days left are $days during the test.
        $record['certificate'] = ['status' => $state, 'issuer' => $issuer, 'issuer_organization' => 'closte-sim', 'not_after' => time() + $days * 86400 + 43200, 'days_left' => $days, 'checked_at' => time() - 3600, 'address' => '127.0.0.1', 'detail' => ''];
        Certificate_Records::put($record);
    }

    private function page(string $query): DOMXPath
    {
        $answer = $this->webRequest('GET', '/wp-admin/network/admin.php?' . $query);
        $this->assertSame(200, $answer['status'], substr($answer['body'], 0, 2000));
        $this->assertStringNotContainsString('Fatal error', $answer['body']);
        // The hostile values never reach the markup as markup.
        $this->assertStringNotContainsString('<script>alert', $answer['body']);
        $this->assertStringNotContainsString('<img src=x', $answer['body']);
        $doc = new DOMDocument();
        libxml_use_internal_errors(true);
        $doc->loadHTML('<?xml encoding="UTF-8">' . $answer['body']);
        libxml_clear_errors();
        return new DOMXPath($doc);
    }

    /** The <tr> of the domain list whose Edit link is for $name's record. */
    private function listRow(DOMXPath $xpath, string $name): DOMElement
    {
        $rows = $xpath->query(sprintf('//table[contains(@class, "wp-list-table")]//tr[.//span[contains(@class, "edit")]/a[contains(@href, "page=wp-ultimo-edit-domain") and contains(@href, "id=%d&")]]', $this->ids[$name]));
        $this->assertSame(1, $rows->length, "one row for $name");
        return $rows->item(0);
    }

    private function text(DOMNode $node): string
    {
        return trim((string) preg_replace('/\s+/u', ' ', $node->textContent));
    }

    /** @return array<string, string> the query of a link */
    private function query(string $href): array
    {
        parse_str((string) parse_url($href, PHP_URL_QUERY), $query);
        return $query;
    }

    private function assertLinksToTheClosteDomainsPage(string $href, string $name): void
    {
        $this->assertStringStartsWith(network_admin_url('settings.php?'), $href);
        $query = $this->query($href);
        $this->assertSame(Domains_Page::SLUG, $query['page'] ?? null, $href);
        $this->assertSame($name, $query['s'] ?? null, 'the page filtered to this name');
        $this->assertArrayNotHasKey('_wpnonce', $query, 'a plain GET: showing the page needs no nonce');
    }

    public function testTheDomainListShowsEachRowsClosteStateAndAStatusActionToTheClosteDomainsPage(): void
    {
        $xpath = $this->page('page=wp-ultimo-domains');

        $expected = [
            'good.example' => ['alias' => 'yes', 'mark' => '✓', 'certificate' => 'certificate active, 42 days left', 'attention' => false],
            'missing.example' => ['alias' => 'no', 'mark' => '✗', 'certificate' => 'no certificate yet', 'attention' => true],
            'soon.example' => ['alias' => 'yes', 'mark' => '✓', 'certificate' => 'certificate expiring, 5 days left', 'attention' => true],
        ];
        foreach ($expected as $name => $want) {
            $row = $this->listRow($xpath, $name);
            $states = $xpath->query('.//*[contains(@class, "closte-native-um-state")]', $row);
            $this->assertSame(1, $states->length, "the Closte state once in the row of $name");
            $state = $states->item(0);
            $this->assertSame($name, $state->getAttribute('data-closte-domain'));

            $alias = $xpath->query('.//*[contains(@class, "closte-native-um-alias")]', $state)->item(0);
            $this->assertNotNull($alias, "alias mark of $name");
            $this->assertStringContainsString('closte-native-um-alias-' . $want['alias'], $alias->getAttribute('class'));
            $this->assertStringContainsString($want['mark'], $this->text($alias));
            $this->assertSame($want['certificate'], $this->text($xpath->query('.//*[contains(@class, "closte-native-um-certificate")]', $state)->item(0)));
            $attention = $xpath->query('.//*[contains(@class, "closte-native-um-attention")]', $state);
            $this->assertSame($want['attention'] ? 1 : 0, $attention->length, "needs-attention marker of $name");
            if ($want['attention']) {
                $this->assertStringContainsString('needs attention', $this->text($attention->item(0)));
                $this->assertNotSame('', $attention->item(0)->getAttribute('title'), 'the marker says why');
            }

            // The row action, among UM's own (Edit, Delete), links to the Closte Domains page.
            $action = $xpath->query('.//div[contains(@class, "row-actions")]/span[contains(@class, "' . Domain_Screens::ROW_ACTION . '")]/a', $row);
            $this->assertSame(1, $action->length, "the Closte status action of $name");
            $this->assertStringStartsWith('Closte status', $this->text($action->item(0)));
            $this->assertLinksToTheClosteDomainsPage($action->item(0)->getAttribute('href'), $name);
            $this->assertSame(1, $xpath->query('.//div[contains(@class, "row-actions")]/span[contains(@class, "delete")]', $row)->length, "UM's own actions stay");

            // Where the state is: under the name (2.5+'s column filter), else in the action (2.4).
            $inAction = $xpath->query('.//div[contains(@class, "row-actions")]//*[contains(@class, "closte-native-um-state")]', $row)->length;
            $this->assertSame($this->registryMode() ? 0 : 1, $inAction, "the state of $name " . ($this->registryMode() ? 'in the Domain column' : 'in the row action'));
        }
        $this->assertCount(1, $this->requestsTo('/getdomains'), 'one listing for the whole page, no request per row');
    }

    public function testTheEditPageHasAClosteBoxWithTheRowsDetailsAndTheLinkToItsActions(): void
    {
        $xpath = $this->page(http_build_query(['page' => 'wp-ultimo-edit-domain', 'id' => $this->ids['good.example'], 'model' => 'domain']));

        $box = $xpath->query('//form[@id="form-wp-ultimo-edit-domain"]//div[@id="postbox-container-1"]//div[@id="' . Domain_Screens::BOX_ID . '"]');
        $this->assertSame(1, $box->length, 'one Closte box in the side column, inside the edit form');
        $box = $box->item(0);
        $this->assertSame('Closte', $this->text($xpath->query('.//h2', $box)->item(0)));
        $this->assertSame(1, $xpath->query('//div[@id="wp-ultimo-domain-log"]')->length, "UM's own boxes stay");

        $details = [];
        foreach ($xpath->query('.//dl[contains(@class, "closte-native-um-details")]/dt', $box) as $dt) {
            $details[$this->text($dt)] = $this->text($dt->nextSibling);
        }
        $this->assertSame('yes', $details['Alias on Closte'] ?? null, json_encode($details));
        $this->assertSame('there before', $details['Added by'], 'listed on Closte, not added by this plugin');
        $this->assertSame('ready', $details['DNS']);
        $this->assertSame('certificate active, 42 days left', $details['Certificate']);
        $this->assertSame(self::HOSTILE_ISSUER, $details['Issuer'], 'shown as text');
        $this->assertSame(trim(self::HOSTILE_ERROR), $details['Last error'], 'shown as text');
        $this->assertSame(0, $xpath->query('.//script | .//img', $box)->length, 'no markup from the values');
        $this->assertSame(0, $xpath->query('.//*[contains(@class, "closte-native-um-attention")]', $box)->length, 'nothing needs attention');

        $links = $xpath->query('.//a[contains(@class, "button")]', $box);
        $this->assertSame(1, $links->length);
        $this->assertLinksToTheClosteDomainsPage($links->item(0)->getAttribute('href'), 'good.example');
        $this->assertSame(0, $xpath->query('.//form', $box)->length, 'no form inside the edit form: the actions are links');

        // The page's own actions for this name (no "add alias": Closte lists it), and the Sync preview.
        $actions = [];
        foreach ($xpath->query('.//a[contains(@class, "closte-native-um-action")]', $box) as $a) {
            $actions[$a->getAttribute('data-action')] = $this->query($a->getAttribute('href'));
        }
        $this->assertSame(['request_certificate', 'recheck_certificate', 'sync'], array_keys($actions));
        foreach (['request_certificate', 'recheck_certificate'] as $do) {
            $this->assertSame([Domains_Page::ACTION, $do, 'good.example', 'good.example'], [$actions[$do]['action'] ?? null, $actions[$do]['do'] ?? null, $actions[$do]['domain'] ?? null, $actions[$do]['s'] ?? null]);
            $this->assertNotEmpty($actions[$do][Domains_Page::NONCE_FIELD] ?? null, "$do carries the page's nonce");
        }
        $this->assertSame(['page' => 'closte-native-sync', 'domain' => 'good.example'], $actions['sync']);
    }

    public function testTheEditBoxsAddAliasLinkRunsTheClosteDomainsPagesActionAndComesBackToIt(): void
    {
        $xpath = $this->page(http_build_query(['page' => 'wp-ultimo-edit-domain', 'id' => $this->ids['missing.example'], 'model' => 'domain']));
        $link = $xpath->query('//div[@id="' . Domain_Screens::BOX_ID . '"]//a[@data-action="add_alias"]');
        $this->assertSame(1, $link->length, 'Closte does not list it: "Add alias now"');
        $href = $link->item(0)->getAttribute('href');
        $this->assertStringStartsWith(admin_url('admin-post.php?'), $href);
        $this->assertNotContains('missing.example', $this->sim->domains());

        $answer = $this->webRequest('GET', (string) parse_url($href, PHP_URL_PATH) . '?' . parse_url($href, PHP_URL_QUERY));
        $this->assertSame(302, $answer['status'], 'back to the Closte Domains page: ' . substr($answer['body'], 0, 500));
        $this->assertContains('missing.example', $this->sim->domains(), 'the alias was added');

        $forged = $this->query($href);
        $forged[Domains_Page::NONCE_FIELD] = 'not-a-nonce';
        $this->assertSame(403, $this->webRequest('GET', '/wp-admin/admin-post.php?' . http_build_query($forged))['status'], 'the page checks its nonce');
    }

    public function testWhenClosteCannotBeAskedTheAliasIsUnknownAndNeedsAttention(): void
    {
        $this->sim->configure(['api_keys' => ['a-different-key']]); // the listing is refused
        $xpath = $this->page('page=wp-ultimo-domains');

        $state = $xpath->query('.//*[contains(@class, "closte-native-um-state")]', $this->listRow($xpath, 'good.example'))->item(0);
        $this->assertNotNull($state);
        $alias = $xpath->query('.//*[contains(@class, "closte-native-um-alias")]', $state)->item(0);
        $this->assertStringContainsString('closte-native-um-alias-unknown', $alias->getAttribute('class'));
        $this->assertStringContainsString('?', $this->text($alias));
        $attention = $xpath->query('.//*[contains(@class, "closte-native-um-attention")]', $state)->item(0);
        $this->assertNotNull($attention, 'not knowing needs attention');
        $this->assertStringContainsString('could not be read', $attention->getAttribute('title'));
        $this->assertCount(1, $this->requestsTo('/getdomains'), 'one listing for the whole page, no request per row');
    }

    public function testTheEditPageExplainsWhatNeedsAttention(): void
    {
        $xpath = $this->page(http_build_query(['page' => 'wp-ultimo-edit-domain', 'id' => $this->ids['missing.example'], 'model' => 'domain']));

        $box = $xpath->query('//div[@id="' . Domain_Screens::BOX_ID . '"]')->item(0);
        $this->assertNotNull($box);
        $this->assertStringContainsString('needs attention', $this->text($xpath->query('.//*[contains(@class, "closte-native-um-attention")]', $box)->item(0)));
        $reasons = $xpath->query('.//ul[contains(@class, "closte-native-um-attention")]/li', $box);
        $this->assertSame(1, $reasons->length);
        $this->assertStringStartsWith('Closte has no alias for this name', $this->text($reasons->item(0)));
    }
}
