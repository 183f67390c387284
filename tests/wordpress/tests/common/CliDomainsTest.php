<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;

/**
 * `wp closte domains` (issue 23) through the WP-CLI stand-in, whose format_items models WP-CLI's
 * Formatter: Domain_Status's rows as table, json, csv, yaml or count, --fields, --status and
 * --search; exit 1 when a row listed needs attention, 3 when Closte's list could not be read
 * and that may pass, 0 otherwise; bad options refused (2) before any request.
 */
final class CliDomainsTest extends E2eTestCase
{
    private function wp(string ...$args): array
    {
        return $this->wpCli(array_merge(['cli', 'closte', 'domains'], $args));
    }

    /** Domain records inserted without firing hooks. */
    private function insertRecords(array $domains, int $site = 1): void
    {
        global $wpdb;
        foreach ($domains as $domain) {
            $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => $site, 'domain' => $domain]);
        }
    }

    public function testJsonRowsExitOneWhenSomethingNeedsAttentionAndZeroWhenNot(): void
    {
        $this->insertRecords(['cli-listed.example', 'cli-missing.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'cli-listed.example']]);

        $result = $this->wp('--format=json');
        $this->assertSame(1, $result['exit'], 'cli-missing.example has no alias: exit 1. ' . $result['stderr']);
        $rows = array_column(json_decode($result['stdout'], true), null, 'name');
        $this->assertSame(['name', 'site', 'alias', 'owner', 'twin', 'dns', 'certificate', 'expires', 'checked', 'next', 'error'], array_keys($rows['cli-listed.example']), 'the default fields, in order');
        $this->assertSame(
            ['name' => 'cli-listed.example', 'site' => 1, 'alias' => 'yes', 'owner' => 'before', 'twin' => null, 'dns' => 'unknown', 'certificate' => null, 'expires' => null, 'checked' => null, 'next' => null, 'error' => null],
            $rows['cli-listed.example']
        );
        $this->assertSame(['no', 'none'], [$rows['cli-missing.example']['alias'], $rows['cli-missing.example']['owner']]);
        $this->assertCount(1, $this->requestsTo('/getdomains'), 'one listing');

        $attention = $this->wp('--format=json', '--status=needs-attention', '--fields=name,attention,needs_attention');
        $this->assertSame(1, $attention['exit']);
        $this->assertSame([['name' => 'cli-missing.example', 'attention' => ['no_alias'], 'needs_attention' => true]], json_decode($attention['stdout'], true));

        $this->sim->control('POST', '/domains', ['domains' => ['cli-missing.example']]);
        delete_site_transient('closte_native_listing'); // as a minute later
        $fine = $this->wp('--search=cli-');
        $this->assertSame(0, $fine['exit'], 'nothing needs attention: exit 0. ' . $fine['stdout'] . $fine['stderr']);
        $this->assertStringContainsString("cli-missing.example\t1\tyes\tbefore", $fine['stdout']);
    }

    public function testFormatsAndFieldsBehaveAsWpCliFormatter(): void
    {
        $this->insertRecords(['fmt-a.example', 'fmt-b.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'fmt-a.example']]);

        $table = $this->wp('--search=fmt-', '--fields=name,alias,site,twin');
        $this->assertSame("name\talias\tsite\ttwin\nfmt-a.example\tyes\t1\t\nfmt-b.example\tno\t1\t\n", $table['stdout'], 'tab-separated with a header, as WP-CLI prints a table to a pipe');

        $csv = $this->wp('--search=fmt-', '--format=csv', '--fields=name,alias,attention,needs_attention');
        $this->assertSame("name,alias,attention,needs_attention\nfmt-a.example,yes,[],false\nfmt-b.example,no,\"[\"\"no_alias\"\"]\",true\n", $csv['stdout'], 'lists as JSON, booleans as words');

        $yaml = $this->wp('--search=fmt-b', '--format=yaml', '--fields=name,alias,site,twin,attention,needs_attention');
        $this->assertSame("---\n- \n  name: fmt-b.example\n  alias: 'no'\n  site: 1\n  twin: null\n  attention:\n    - no_alias\n  needs_attention: true\n", $yaml['stdout'], 'Spyc: the YAML word "no" quoted, null and booleans plain');

        $count = $this->wp('--search=fmt-', '--format=count');
        $this->assertSame('2', $count['stdout'], 'count, without a line end');
        $countAttention = $this->wp('--format=count', '--status=needs-attention', '--search=fmt-');
        $this->assertSame(['1', 1], [$countAttention['stdout'], $countAttention['exit']]);

        $json = $this->wp('--search=fmt-a', '--format=json', '--fields= name , alias');
        $this->assertSame('[{"name":"fmt-a.example","alias":"yes"}]', $json['stdout'], 'fields trimmed; json without a line end');
    }

    public function testAFailedListingShowsUnknownAndExitsThree(): void
    {
        $this->insertRecords(['down.example']);
        $this->sim->fault(['kind' => 'status', 'status' => 503, 'path' => '/getdomains']);
        $down = $this->wp('--fields=name,alias,owner');
        $this->assertSame(3, $down['exit'], $down['stderr']);
        $this->assertStringContainsString("down.example\tunknown\tnone", $down['stdout']);
        $this->assertStringContainsString("Warning: Closte's alias list could not be read:", $down['stderr']);
        $this->assertStringContainsString('503', $down['stderr']);
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, $down['stdout'] . $down['stderr']);
    }

    public function testBadOptionsAreRefusedBeforeAnyRequest(): void
    {
        $cases = [
            [['--format=xml'], '--format=xml is not one of: table, json, csv, yaml, count.'],
            [['--fields=name,bogus'], '--fields: unknown field(s) bogus; known: name, site,'],
            [['--fields='], 'unknown field(s) (none given)'],
            [['--status=broken'], '--status=broken is not one of: needs-attention.'],
        ];
        foreach ($cases as [$args, $message]) {
            $result = $this->wp(...$args);
            $this->assertSame(2, $result['exit'], implode(' ', $args) . ': ' . $result['stderr']);
            $this->assertStringContainsString($message, $result['stderr'], implode(' ', $args));
        }
        $unknown = $this->wp('--bogus');
        $this->assertSame(1, $unknown['exit']);
        $this->assertStringContainsString('unknown --bogus parameter', $unknown['stderr']);
        $this->assertSame([], $this->sim->requests(), 'no request for a bad option');
    }
}
