<?php

declare(strict_types=1);

namespace Closte\Tests\E2e;

use Standin_Domain_Manager;

/**
 * `wp closte ...` in the real multisite: each command runs in a PHP process of its own through
 * wp.php, with the WP-CLI STAND-IN (fixtures/wp-cli-standin.php) dispatching to the plugin's
 * command class; its output and exit code are what a script would see. The work itself is the
 * plugin's plain classes against the simulator.
 */
final class CliTest extends E2eTestCase
{
    /** @return array{exit: int, stdout: string, stderr: string} */
    private function wp(string ...$args): array
    {
        return $this->wpCli(array_merge(['cli', 'closte'], $args));
    }

    /** Domain records inserted without firing hooks (domains the network uses but Closte lacks). */
    private function insertRecords(array $domains, int $site = 1): void
    {
        global $wpdb;
        foreach ($domains as $domain) {
            $wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => $site, 'domain' => $domain]);
        }
    }

    private function assertNoKey(array $result): void
    {
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, $result['stdout'] . $result['stderr']);
    }

    public function testStatusSaysWhichImplementationRunsThatTheKeyIsThereAndWhatIsQueued(): void
    {
        $result = $this->wp('status', '--format=json');
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $status = json_decode($result['stdout'], true);
        $this->assertSame(CLOSTE_E2E_IMPL, $status['implementation']);
        $this->assertTrue($status['key_configured']);
        $this->assertNotSame('none', $status['key_source']);
        $this->assertSame('idle', $status['sync']);
        $this->assertSame(0, $status['queued']['retries']);
        $this->assertNoKey($result);
        $this->assertSame([], $this->sim->requests(), 'status asks Closte nothing');

        $table = $this->wp('status');
        $this->assertSame(0, $table['exit']);
        $this->assertStringContainsString("implementation\t" . CLOSTE_E2E_IMPL, $table['stdout']);
        $this->assertStringContainsString("key_configured\tyes", $table['stdout']);
    }

    public function testStatusWithoutAnyImplementationOrKeyFailsWithTheReason(): void
    {
        $without = $this->wpCli(['cli', 'closte', 'status'], false);
        $this->assertSame(1, $without['exit'], $without['stdout'] . $without['stderr']);
        $this->assertStringContainsString("implementation\t-", $without['stdout']);
        $this->assertStringContainsString('Error: Inactive: neither the closte PHP extension nor PHP', $without['stderr']);

        $test = $this->wpCli(['cli', 'closte', 'test'], false);
        $this->assertSame(1, $test['exit']);
        $this->assertSame([], $this->sim->requests());
    }

    public function testTheConnectionTestExitsZeroOneOrThreeAsScriptsExpect(): void
    {
        $ok = $this->wp('test');
        $this->assertSame(0, $ok['exit'], $ok['stderr']);
        $this->assertStringStartsWith('Success: Access Authorized', $ok['stdout']);
        $this->assertSame([], $this->sim->domains(), 'the test changed nothing');

        $this->sim->configure(['api_keys' => ['a-different-key']]);
        $refused = $this->wp('test');
        $this->assertSame(1, $refused['exit'], 'a refused key will not pass by itself');
        $this->assertStringContainsString('Closte rejected the API key (CLOSTE_CLIENT_API_KEY in wp-config.php): "Invalid API Key"', $refused['stderr']);
        $this->assertStringContainsString('(closte-auth)', $refused['stderr']);

        $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);
        $this->sim->fault(['kind' => 'close', 'count' => 10]);
        $down = $this->wp('test');
        $this->sim->control('POST', '/faults/clear');
        $this->assertSame(3, $down['exit'], 'unreachable may pass: try later');
        $this->assertStringContainsString('Could not reach the Closte API (network)', $down['stderr']);
        foreach ([$ok, $refused, $down] as $result) {
            $this->assertNoKey($result);
        }
    }

    public function testSyncAddsWhatClosteLacksWithProgressAndExitsZero(): void
    {
        $this->insertRecords(['cli-one.example', 'cli-two.example', 'cli-three.example']);
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'cli-one.example']]);

        $result = $this->wp('sync', '--concurrency=2');
        $this->assertSame(0, $result['exit'], $result['stdout'] . $result['stderr']);
        $this->assertStringContainsString('to add     cli-two.example: domain record of site 1', $result['stdout']);
        $this->assertMatchesRegularExpression('/^2 to add, 0 to remove, 0 not added by this plugin \(left alone\), \d+ already on Closte \(Closte lists 2 aliases\)\.$/m', $result['stdout'], 'the page\'s plan summary');
        $this->assertStringContainsString("added    cli-three.example\nadded    cli-two.example", $result['stdout']);
        $this->assertMatchesRegularExpression('/Success: 2 added, 0 removed, \d+ unchanged, 0 failed\./', $result['stdout']);
        preg_match_all('#\[progress\] Syncing with Closte (\d+)/(\d+)#', $result['stderr'], $ticks, PREG_SET_ORDER);
        $this->assertNotEmpty($ticks, 'progress is reported');
        $last = end($ticks);
        $this->assertSame($last[2], $last[1], 'the progress ends at its total');
        $this->assertContains('cli-two.example', $this->sim->domains());
        $this->assertContains('cli-three.example', $this->sim->domains());
        $this->assertCount(2, $this->requestsTo('/adddomainalias'));

        $again = $this->wp('sync');
        $this->assertSame(0, $again['exit']);
        $this->assertStringContainsString('Success: 0 added, 0 removed', $again['stdout']);
    }

    public function testPruneRemovesOnlyTheSetItsConfirmationCodeNames(): void
    {
        $this->insertRecords(['kept-customer.example']);
        $stale = ['stale-one.example', 'stale-two.example'];
        $this->sim->control('POST', '/domains', ['domains' => array_merge([CLOSTE_E2E_NETWORK, 'kept-customer.example', '*.wild.example', 'hand-added.example'], $stale)]);
        foreach (array_merge($stale, ['appeared-later.example']) as $ours) {
            \Closte_Native\Alias_Registry::record($ours, 1, 'test');
        }

        $unconfirmed = $this->wp('sync', '--prune');
        $this->assertSame(2, $unconfirmed['exit'], $unconfirmed['stdout'] . $unconfirmed['stderr']);
        $this->assertStringContainsString('to remove  stale-one.example: added by this plugin for site 1', $unconfirmed['stdout']);
        $this->assertStringContainsString('unowned    hand-added.example: not added by this plugin: left alone', $unconfirmed['stdout']);
        $this->assertStringContainsString('kept       *.wild.example: wildcard alias', $unconfirmed['stdout']);
        $this->assertStringContainsString('Removals must be confirmed', $unconfirmed['stderr']);
        $this->assertSame([], $this->requestsTo('/deletedomainalias'), 'nothing removed without confirmation');

        $preview = $this->wp('sync', '--prune', '--dry-run');
        $this->assertSame(0, $preview['exit'], $preview['stderr']);
        $this->assertSame(1, preg_match('/--prune --confirm=(2-[0-9a-f]{12})\n/', $preview['stdout'], $m), $preview['stdout']);
        $code = $m[1];
        $this->assertStringContainsString('Success: Dry run: nothing was changed.', $preview['stdout']);

        // The set changes after the preview: the old code confirms nothing.
        $this->sim->control('POST', '/domains', ['domains' => ['appeared-later.example']]);
        $changed = $this->wp('sync', '--prune', "--confirm=$code");
        $this->assertSame(2, $changed['exit']);
        $this->assertStringContainsString('The confirmation code is not the one for the current set of removals', $changed['stderr']);
        $this->assertSame([], $this->requestsTo('/deletedomainalias'));

        preg_match('/--prune --confirm=(3-[0-9a-f]{12})\n/', $this->wp('sync', '--prune', '--dry-run')['stdout'], $m);
        $this->assertNotEmpty($m, 'a new preview gives a new code, with the new count');
        $run = $this->wp('sync', '--prune', "--confirm={$m[1]}");
        $this->assertSame(0, $run['exit'], $run['stdout'] . $run['stderr']);
        $this->assertStringContainsString('Success: 0 added, 3 removed', $run['stdout']);
        $domains = $this->sim->domains();
        foreach (array_merge($stale, ['appeared-later.example']) as $gone) {
            $this->assertNotContains($gone, $domains);
        }
        foreach ([CLOSTE_E2E_NETWORK, 'kept-customer.example', '*.wild.example', 'hand-added.example'] as $kept) {
            $this->assertContains($kept, $domains);
        }
    }

    public function testAnAliasThisPluginDidNotAddIsRemovedOnlyByNameWithItsOwnCode(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'hand-1.example', 'hand-2.example']]);

        $notUnowned = $this->wp('sync', '--prune', '--remove-unowned=' . CLOSTE_E2E_NETWORK);
        $this->assertSame(2, $notUnowned['exit'], $notUnowned['stderr']);
        $this->assertStringContainsString('--remove-unowned takes only aliases the preview lists as unowned; not: ' . CLOSTE_E2E_NETWORK, $notUnowned['stderr']);

        $unconfirmed = $this->wp('sync', '--prune', '--remove-unowned=hand-1.example');
        $this->assertSame(2, $unconfirmed['exit'], $unconfirmed['stderr']);
        $this->assertStringContainsString('Removing aliases this plugin did not add must be confirmed', $unconfirmed['stderr']);
        $this->assertSame([], $this->requestsTo('/deletedomainalias'));

        $preview = $this->wp('sync', '--prune', '--remove-unowned=HAND-1.example', '--dry-run');
        $this->assertSame(0, $preview['exit'], $preview['stderr']);
        $this->assertSame(1, preg_match('/--remove-unowned=hand-1\.example --confirm-unowned=(1-[0-9a-f]{12})\n/', $preview['stdout'], $m), $preview['stdout']);
        $other = $this->wp('sync', '--prune', '--remove-unowned=hand-2.example', "--confirm-unowned={$m[1]}");
        $this->assertSame(2, $other['exit'], 'a code confirms its own names only');
        $this->assertStringContainsString('The --confirm-unowned code is not the one for these names', $other['stderr']);

        $run = $this->wp('sync', '--prune', '--remove-unowned=hand-1.example', "--confirm-unowned={$m[1]}");
        $this->assertSame(0, $run['exit'], $run['stdout'] . $run['stderr']);
        $this->assertStringContainsString('Success: 0 added, 1 removed', $run['stdout']);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'hand-2.example'], $this->sim->domains());
    }

    public function testOutputEscapesNamesLikeTheLog(): void
    {
        // A name from the network (through the domains filter of a mu-plugin, or a raw row)
        // with a terminal escape: printed as an escape, never as the control character.
        $this->insertRecords(["evil\e[31m.example"]);
        $result = $this->wp('sync', '--dry-run');
        $this->assertStringNotContainsString("\e[31m", $result['stdout'] . $result['stderr']);
        $this->assertStringContainsString('evil\\x1b[31m.example', $result['stdout'] . $result['stderr']);
        $domains = $this->wp('domains', '--format=csv');
        $this->assertStringNotContainsString("\e[31m", $domains['stdout']);
    }

    public function testPruneIsRefusedWhenTheNetworksListIsIncomplete(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => [CLOSTE_E2E_NETWORK, 'customer.example']]);
        $result = $this->wpCli(['cli', 'closte', 'sync', '--prune', '--dry-run'], true, ['CLOSTE_E2E_WITHOUT_UM' => '1']);
        $this->assertSame(2, $result['exit'], $result['stdout'] . $result['stderr']);
        $this->assertStringContainsString('Nothing will be removed: ', $result['stderr']);
        $this->assertStringContainsString('Ultimate Multisite is not loaded', $result['stderr']);
        $this->assertSame([CLOSTE_E2E_NETWORK, 'customer.example'], $this->sim->domains());
    }

    public function testBadOptionsAreRefusedBeforeAnyRequest(): void
    {
        $cases = [
            [['sync', '--concurrency=0'], 2, '--concurrency must be a whole number from 1 to 256, not "0"'],
            [['sync', '--concurrency=257'], 2, 'not "257"'],
            [['sync', '--concurrency=eight'], 2, 'not "eight"'],
            [['sync', '--confirm=2-abc'], 2, '--confirm, --remove-unowned and --confirm-unowned are about removals, which only --prune makes.'],
            [['sync', '--remove-unowned=a.example'], 2, 'which only --prune makes.'],
            [['sync', '--prune', '--confirm-unowned=1-abc'], 2, '--confirm-unowned confirms the names given with --remove-unowned; none were given.'],
            [['status', '--format=xml'], 2, '--format=xml is not one of: table, json.'],
            [['domains', '--format=xml'], 2, '--format=xml is not one of: table, json, csv, yaml, count.'],
            [['sync', '--bogus'], 1, 'unknown --bogus parameter'],
        ];
        foreach ($cases as [$args, $exit, $message]) {
            $result = $this->wp(...$args);
            $this->assertSame($exit, $result['exit'], implode(' ', $args) . ': ' . $result['stderr']);
            $this->assertStringContainsString($message, $result['stderr'], implode(' ', $args));
        }
        $this->assertSame([], $this->sim->requests(), 'no request for a bad option');
    }

    public function testASyncWhenClosteIsDownExitsThreeAndChangesNothing(): void
    {
        $this->insertRecords(['waits.example']);
        $this->sim->fault(['kind' => 'status', 'status' => 503, 'count' => 20, 'path' => '/getdomains']);
        $result = $this->wp('sync', '--prune');
        $this->sim->control('POST', '/faults/clear');
        $this->assertSame(3, $result['exit'], $result['stdout'] . $result['stderr']);
        $this->assertStringContainsString("Closte's alias list could not be read", $result['stderr']);
        $this->assertStringContainsString('This may pass', $result['stderr']);
        $this->assertSame([], $this->requestsTo('/adddomainalias'));

        $this->sim->configure(['api_keys' => ['a-different-key']]);
        $refused = $this->wp('sync');
        $this->assertSame(1, $refused['exit'], 'a refused key will not pass by itself');
        $this->assertStringContainsString('Closte refused the API key', $refused['stderr']);
        $this->assertNoKey($refused);
    }

    public function testSiteHealthAsksClosteAsynchronouslyOverRest(): void
    {
        $health = json_decode($this->wpCli(['site-health'])['stdout'], true);
        $this->assertSame('good', $health['closte_native_connection'][0]);
        $this->assertSame('Closte accepts the API key', $health['closte_native_connection'][1]);
        $this->assertTrue($health['closte_native_connection'][3]['has_rest']);
        $this->assertStringContainsString('closte-native/v1/site-health/connection', $health['closte_native_connection'][3]['test']);

        // WordPress's own endpoint for a REST nonce of the logged-in session (what the page's
        // script holds when it asks the test).
        $nonce = trim($this->webRequest('GET', '/wp-admin/admin-ajax.php?action=rest-nonce')['body']);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{10}$/', $nonce);
        $answer = $this->webRequest('GET', '/?rest_route=/closte-native/v1/site-health/connection&_wpnonce=' . $nonce);
        $this->assertSame(200, $answer['status'], $answer['body']);
        $json = json_decode($answer['body'], true);
        $this->assertSame('good', $json['status']);
        $this->assertSame('closte_native_connection', $json['test']);

        $this->sim->configure(['api_keys' => ['a-different-key']]);
        $bad = json_decode($this->webRequest('GET', '/?rest_route=/closte-native/v1/site-health/connection&_wpnonce=' . $nonce)['body'], true);
        $this->assertSame('critical', $bad['status']);
        $this->assertStringContainsString('Closte rejected the API key', $bad['description']);
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, json_encode($bad));

        $anonymous = $this->webRequest('GET', '/?rest_route=/closte-native/v1/site-health/connection', [], 0);
        $this->assertSame(401, $anonymous['status'], 'no cookie, no nonce: refused');

        $without = json_decode($this->wpCli(['site-health'], false)['stdout'], true);
        $this->assertArrayNotHasKey('closte_native_connection', $without, 'no implementation: no connection test');
        $direct = $this->wpCli(['site-health-connection'], false);
        $this->assertSame(0, $direct['exit'], $direct['stderr']);
        $this->assertStringContainsString('"status":"critical"', $direct['stdout'], 'the route answers without an implementation, no fatal');
    }

    public function testUninstallRemovesWhatThePluginStoredAndLeavesClosteAlone(): void
    {
        $this->insertRecords(['owned.example']);
        $this->assertSame(0, $this->wp('sync')['exit']);
        $this->sim->fault(['kind' => 'status', 'status' => 503, 'count' => 50]);
        Standin_Domain_Manager::create_domain('retried.example', 1);
        $this->runQueue(); // fails, schedules a retry
        $this->sim->control('POST', '/faults/clear');
        update_user_meta(1, 'closte_native_notice_dismissed', '0.3.0');
        global $wpdb;
        $this->assertNotEmpty($wpdb->get_col("SELECT meta_key FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%'"));
        $this->assertNotEmpty($this->pendingJobs(), 'a retry is queued');
        $aliases = $this->sim->domains();
        $requests = count($this->sim->requests());
        $settings = get_site_option('wu_settings');

        $result = $this->wpCli(['uninstall']);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        wp_cache_flush();
        $this->assertSame([], $wpdb->get_col("SELECT meta_key FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%' OR meta_key LIKE '\\_site\\_transient%closte\\_%'"));
        $this->assertSame([], $wpdb->get_col("SELECT meta_key FROM {$wpdb->usermeta} WHERE meta_key LIKE 'closte\\_native\\_%'"));
        $this->assertSame([], array_values(array_filter($this->pendingJobs(), static fn (array $job) => 'domain' !== $job['group'])), 'its scheduled jobs are canceled (Ultimate Multisite\'s own stay)');
        $this->assertNotEmpty(standin_as_jobs(null, 'canceled'));
        $this->assertSame($aliases, $this->sim->domains(), 'Closte keeps every alias');
        $this->assertCount($requests, $this->sim->requests(), 'Closte was not asked anything');
        $this->assertSame($settings, get_site_option('wu_settings'), 'other settings stay');
    }
}
