<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Certificate_Lifecycle;
use Closte_Native\Alias_Changes;

/**
 * closte-native in a real WordPress 6.1 multisite (MariaDB, Debian's wordpress package) with the
 * real extension, against the Closte simulator. Ultimate Multisite and Action Scheduler are
 * STAND-INS modelled on their contract (tests/wordpress/fixtures): they cannot be installed here.
 */
final class HostIntegrationTest extends E2eTestCase
{
    public function testExactlyOneClosteIntegrationAnswersEachHook(): void
    {
        foreach (['wu_add_domain', 'wu_remove_domain', 'wu_add_subdomain', 'wu_remove_subdomain', 'wu_async_process_domain_stage_max_tries'] as $hook) {
            $this->assertSame([$this->ourHookOwner()], $this->hookOwners($hook), "exactly one Closte integration on $hook");
        }

        do_action('wu_add_domain', 'stock-check.example', '1');
        $this->assertSame([], get_network_option(null, 'standin_stock_closte_calls', []), 'the stock code was never called');
        $this->assertCount(1, $this->requestsTo('/adddomainalias', 'stock-check.example'), 'one alias request, from the extension');
    }

    public function testMappingADomainAddsTheAliasWithoutACertificateRequest(): void
    {
        $id = Standin_Domain_Manager::create_domain('customer-shop.example', 1);
        $this->assertGreaterThan(0, $id);
        $this->assertSame([], $this->sim->domains(), 'nothing happens until the queue runs');

        $this->runQueue();

        $this->assertSame(['customer-shop.example'], $this->sim->domains());
        // The certificate waits for DNS (CertificateLifecycleTest): the add requests none.
        $this->assertFalse($this->sim->state()['domains'][0]['ssl_requested']);
        $add = $this->requestsTo('/adddomainalias', 'customer-shop.example');
        $this->assertCount(1, $add);
        $this->assertSame('0', $add[0]['fields']['wildcard']);
        $this->assertSame('valid', $add[0]['key']);
        $this->assertStringContainsString('add_domain customer-shop.example (site 1): OK state=added status=200 attempts=1', $this->log());
        $this->assertStringContainsString('certificate for customer-shop.example: alias added without a certificate request (wu_add_domain)', $this->log('integration-closte-ssl'));
        $this->assertCount(1, $this->pendingJobs(Certificate_Lifecycle::DNS_HOOK));
    }

    public function testSslStageGetsMoreTries(): void
    {
        $record = new class ('checking-ssl-cert') {
            public function __construct(private string $stage) {}
            public function get_stage(): string { return $this->stage; }
        };
        $this->assertSame(20, apply_filters('wu_async_process_domain_stage_max_tries', 5, $record));
        $dns = new class ('checking-dns') {
            public function __construct(private string $stage) {}
            public function get_stage(): string { return $this->stage; }
        };
        $this->assertSame(5, apply_filters('wu_async_process_domain_stage_max_tries', 5, $dns));
        $this->assertSame([], get_network_option(null, 'standin_stock_closte_calls', []), 'the stock filter was detached too');
    }

    public function testWildcardDomainIsFlagged(): void
    {
        Standin_Domain_Manager::create_domain('*.agency.example', 1);
        $this->runQueue();
        $add = $this->requestsTo('/adddomainalias', '*.agency.example');
        $this->assertCount(1, $add);
        $this->assertSame('1', $add[0]['fields']['wildcard']);
        $this->assertTrue($this->sim->state()['domains'][0]['wildcard']);
    }

    public function testCreatingAndDuplicatingASiteAddsItsAliasOnce(): void
    {
        $id = wpmu_create_blog('shop.' . CLOSTE_E2E_NETWORK, '/', 'Shop', 1, ['public' => 1], get_current_network_id());
        $this->assertIsInt($id);
        $hooks = array_diff(array_column($this->pendingJobs(), 'hook'), ['wu_async_process_domain_stage']);
        sort($hooks);
        $this->assertSame(['wu_add_domain', 'wu_add_subdomain'], $hooks, 'site creation: subdomain event and domain record (and Ultimate Multisite\'s own domain stage)');
        $this->runQueue();
        $this->assertContains('shop.' . CLOSTE_E2E_NETWORK, $this->sim->domains());
        $this->assertCount(1, $this->requestsTo('/adddomainalias', 'shop.' . CLOSTE_E2E_NETWORK), 'the second hook is skipped, not sent');
        $this->assertStringContainsString('skipped, already done by', $this->log());

        $copy = Standin_Domain_Manager::duplicate_site($id, 'shop-copy.' . CLOSTE_E2E_NETWORK, 'Shop copy');
        $this->runQueue();
        $this->assertContains('shop-copy.' . CLOSTE_E2E_NETWORK, $this->sim->domains());
        $this->assertMatchesRegularExpression("/add_domain shop-copy\\.closte-e2e\\.test \\(site $copy\\): OK state=added/", $this->log());

        wpmu_delete_blog($copy, true);
        wpmu_delete_blog($id, true);
        $this->runQueue();
        $this->assertNotContains('shop.' . CLOSTE_E2E_NETWORK, $this->sim->domains());
        $this->assertNotContains('shop-copy.' . CLOSTE_E2E_NETWORK, $this->sim->domains());
    }

    public function testUnmappingRemovesTheAlias(): void
    {
        $id = Standin_Domain_Manager::create_domain('leaving.example', 1);
        $this->runQueue();
        $this->assertSame(['leaving.example'], $this->sim->domains());
        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        $this->assertSame([], $this->sim->domains());
        $this->assertStringContainsString('remove_domain leaving.example (site 1): OK state=removed', $this->log());
    }

    public function testSiteIdsArriveAsStrings(): void
    {
        $result = $this->wpCli(['fire', 'wu_add_domain', 'strings.example', '1']);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertStringNotContainsString('TypeError', $result['stderr']);
        $this->assertSame(['strings.example'], $this->sim->domains());
        $this->assertStringContainsString('add_domain strings.example (site 1): OK', $this->log());
    }

    public function testInvalidDomainIsLoggedWithItsReasonAndNotSent(): void
    {
        do_action('wu_add_domain', 'https://customer.example/shop', '1');
        $this->assertSame([], $this->sim->requests());
        $this->assertStringContainsString('add_domain (site 1): not sent to Closte: invalid domain "https://customer.example/shop": it is a URL with scheme "https://"', $this->log());
    }

    public function testAnOutageIsRetriedThroughTheQueueAndNothingIsLost(): void
    {
        add_filter('closte_native_retry_base_delay', $fast = static fn () => 2);
        try {
            $this->sim->fault(['kind' => 'status', 'status' => 503]);
            Standin_Domain_Manager::create_domain('outage.example', 1);
            $this->runQueue();
            $this->assertSame([], $this->sim->domains());
            $this->assertStringContainsString('add_domain outage.example (site 1): FAILED state=failed status=503', $this->log());
            $this->assertStringContainsString('rescheduled as attempt 2/6', $this->log());
            $retry = $this->pendingJobs(Alias_Changes::RETRY_HOOK);
            $this->assertCount(1, $retry);
            $this->assertSame(['add', 'outage.example', 1, 2], array_slice($retry[0]['args'], 0, 4));

            // Still down at the second attempt.
            $this->runQueue(60);
            $this->assertStringContainsString('rescheduled as attempt 3/6', $this->log());

            // Closte recovers. The job is in the database: a different PHP process (another
            // web server, or the same one after a restart) picks it up.
            $this->sim->control('POST', '/faults/clear');
            $run = $this->wpCli(['run-queue', '3600']);
            $this->assertSame(0, $run['exit'], $run['stderr']);
            wp_cache_flush();
            $this->assertSame(['outage.example'], $this->sim->domains(), 'the alias exists after recovery: ' . $run['stdout'] . $this->log());
            $this->assertStringContainsString('add_domain outage.example (site 1): OK state=added status=200 attempts=1', $this->log());
            $this->assertStringContainsString('retry, attempt 3/6', $this->log());
            $this->assertSame([], $this->pendingJobs(Alias_Changes::RETRY_HOOK));
        } finally {
            remove_filter('closte_native_retry_base_delay', $fast);
        }
    }

    public function testRetriesAreBoundedThenGivenUp(): void
    {
        add_filter('closte_native_retry_base_delay', $fast = static fn () => 1);
        add_filter('closte_native_max_attempts', $three = static fn () => 3);
        try {
            $this->sim->fault(['kind' => 'close']);
            Standin_Domain_Manager::create_domain('never.example', 1);
            for ($i = 0; $i < 5; $i++) {
                $this->runQueue(3600);
            }
            $this->assertStringContainsString('add_domain never.example (site 1): gave up after 3 attempts; last error (network)', $this->log());
            $this->assertSame([], $this->pendingJobs(Alias_Changes::RETRY_HOOK));
        } finally {
            remove_filter('closte_native_retry_base_delay', $fast);
            remove_filter('closte_native_max_attempts', $three);
            $this->sim->control('POST', '/faults/clear');
        }
    }

    public function testALaterUnmapSupersedesAPendingRetry(): void
    {
        // The retry is due well after the unmap's job (30 s, not 1 s): Action Scheduler runs
        // due jobs by scheduled date, and with 1 s a slow first run let the retry come first
        // (then it re-adds and the unmap removes; a right end state, but not this path).
        add_filter('closte_native_retry_base_delay', $fast = static fn () => 30);
        try {
            $this->sim->fault(['kind' => 'status', 'status' => 503, 'count' => 3]);
            $id = Standin_Domain_Manager::create_domain('changed-mind.example', 1);
            $this->runQueue();
            $this->assertCount(1, $this->pendingJobs(Alias_Changes::RETRY_HOOK));
            Standin_Domain_Manager::delete_domain($id);
            $this->runQueue(3600);
            $this->assertSame([], $this->sim->domains(), 'the stale add retry did not re-add the alias');
            $this->assertStringContainsString('retry 2 dropped, superseded by a later', $this->log());
            $this->assertStringContainsString('remove_domain changed-mind.example (site 1): left in place on Closte: this integration did not add it', $this->log());
        } finally {
            remove_filter('closte_native_retry_base_delay', $fast);
        }
    }

    public function testAWrongKeyIsLoggedAsSuchAndNotRetried(): void
    {
        $this->sim->configure(['api_keys' => ['a-different-key']]);
        Standin_Domain_Manager::create_domain('badkey.example', 1);
        $this->runQueue();
        $this->assertStringContainsString('error_kind=auth retryable=no error="Invalid API Key"', $this->log());
        $this->assertStringContainsString('Closte refused the API key: check CLOSTE_CLIENT_API_KEY', $this->log());
        $this->assertSame([], $this->pendingJobs(Alias_Changes::RETRY_HOOK));
    }

    public function testWizardTestConnectionOverHttp(): void
    {
        $nonce = $this->testConnectionNonce();
        $ok = $this->connectionAnswer($nonce);
        $this->assertTrue($ok['success'], json_encode($ok));
        $this->assertSame('Access Authorized', $ok['message']);
        $this->assertSame([], $this->sim->domains(), 'the test changed nothing');
        $this->assertCount(1, $this->requestsTo('/adddomainalias'), 'the test went through the extension');

        $this->sim->configure(['api_keys' => ['a-different-key']]);
        $bad = $this->connectionAnswer($nonce);
        $this->assertFalse($bad['success']);
        $this->assertStringContainsString('Closte rejected the API key (CLOSTE_CLIENT_API_KEY in wp-config.php): "Invalid API Key"', $bad['message']);

        $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);
        $this->sim->fault(['kind' => 'close', 'count' => 10]);
        $down = $this->connectionAnswer($nonce);
        $this->sim->control('POST', '/faults/clear');
        $this->assertFalse($down['success']);
        $this->assertStringContainsString('Could not reach the Closte API (network)', $down['message']);
        $this->assertSame([], get_network_option(null, 'standin_stock_closte_calls', []));
        foreach ([$bad, $down] as $answer) {
            $this->assertStringNotContainsString(CLOSTE_E2E_KEY, $answer['message']);
        }
    }

    public function testTheTestConnectionIsRefusedToSubscribersAndRequestsWithoutOurNonce(): void
    {
        $subscriber = wp_insert_user(['user_login' => 'sub-' . wp_generate_password(6, false), 'user_pass' => wp_generate_password(), 'role' => 'subscriber']);
        $this->assertIsInt($subscriber);
        try {
            $refused = $this->connectionAnswer($this->testConnectionNonce(), $subscriber);
            $this->assertFalse($refused['success']);
            $this->assertSame('Only network administrators may test the Closte connection.', $refused['message']);

            $noNonce = $this->connectionAnswer(null);
            $this->assertFalse($noNonce['success']);
            $this->assertStringStartsWith('The connection test request is missing its security token.', $noNonce['message']);
            $forged = $this->connectionAnswer('0123456789');
            $this->assertStringStartsWith('The connection test request is missing its security token.', $forged['message']);
            $this->assertSame([], $this->sim->requests(), 'Closte was never asked');
        } finally {
            require_once ABSPATH . 'wp-admin/includes/user.php';
            wpmu_delete_user($subscriber);
        }
    }

    public function testClosteTextIsEscapedInTheWizardAndSanitisedInTheLog(): void
    {
        $this->sim->configure(['api_keys' => ['a-different-key'], 'auth_error_message' => "Invalid API key <img src=x onerror=alert(1)>\nFORGED LINE\u{2028}x\x1b[31m"]);
        $bad = $this->connectionAnswer($this->testConnectionNonce());
        $this->assertStringStartsWith('Closte rejected the API key', $bad['message']);
        $this->assertStringNotContainsString('<img', $bad['message']);
        $this->assertStringContainsString('&lt;img src=x onerror=alert(1)&gt;', $bad['message']);
        $log = $this->log();
        $this->assertStringContainsString('\\x3cimg src=x onerror=alert(1)\\x3e', $log);
        foreach (['<', '>', "\u{2028}", "\x1b", "\r"] as $raw) {
            $this->assertStringNotContainsString($raw, $log, 'no raw ' . json_encode($raw) . ' in the log');
        }
        $this->assertStringNotContainsString("\nFORGED", $log, 'no forged line');
    }

    public function testTheOperatorSeesWhichImplementationRunsInTheDescriptionAndSiteHealth(): void
    {
        $health = json_decode($this->wpCli(['site-health'])['stdout'], true);
        if ('php' === CLOSTE_E2E_IMPL) {
            $this->assertStringContainsString('Runs on the built-in PHP implementation (same behaviour). The closte PHP extension would add', $health['description']);
            $this->assertSame('recommended', $health['closte_native_implementation'][0]);
        } else {
            $this->assertStringContainsString('Runs on the native closte PHP extension.', $health['description']);
            $this->assertSame('good', $health['closte_native_implementation'][0]);
        }
        $this->assertSame('good', $health['closte_native_api_key'][0]);
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, json_encode($health));

        $without = json_decode($this->wpCli(['site-health'], false)['stdout'], true);
        $this->assertSame('critical', $without['closte_native_implementation'][0]);
        $this->assertStringContainsString('neither the closte PHP extension nor PHP', $without['description']);
        $this->assertSame('critical', $without['closte_native_api_key'][0], 'no implementation: no key can be used');
    }

    public function testWithNeitherImplementationThereIsANoticeAndNoFatal(): void
    {
        $result = $this->wpCli(['notices'], false);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertStringNotContainsString('Fatal', $result['stderr'] . $result['stdout']);
        $this->assertStringContainsString('closte-native-missing-extension', $result['stdout']);
        $this->assertStringContainsString('is-dismissible', $result['stdout']);
        $this->assertStringContainsString('neither the &quot;closte&quot; PHP extension nor PHP&#039;s curl extension', $result['stdout']);
        $this->assertStringContainsString('Ultimate Multisite&#039;s built-in Closte integration handles mapped domains, as before', $result['stdout']);
        $this->assertStringContainsString('ask Closte support to enable', $result['stdout']);
        $this->assertStringNotContainsString('make install', $result['stdout']);
        // None of our hooks; the stock integration (stand-in) keeps answering as before.
        $this->assertStringContainsString('"wu_add_domain":' . json_encode([$this->stockHookOwner()]), $result['stdout']);
        $this->assertStringContainsString('"closte_native_retry":false', $result['stdout']);
        $this->assertStringContainsString('"extension":false,"implementation":null', $result['stdout']);

        // Ultimate Multisite firing its hooks without the extension: nothing breaks.
        $fire = $this->wpCli(['fire', 'wu_add_domain', 'no-ext.example', '1'], false);
        $this->assertSame(0, $fire['exit'], $fire['stderr']);
        $this->assertSame([], $this->sim->requests());

        $withExtension = $this->wpCli(['notices']);
        $this->assertStringNotContainsString('closte-native-missing-extension', $withExtension['stdout']);
        $this->assertStringContainsString('"wu_add_domain":' . json_encode([$this->ourHookOwner()]), $withExtension['stdout']);
    }

    public function testNetworkAdminIsNotHeldUpByClosteLatency(): void
    {
        $this->sim->configure(['latency_ms' => 3000]);
        for ($i = 1; $i <= 50; $i++) {
            Standin_Domain_Manager::create_domain("bulk-$i.example", 1);
        }
        // A queue runner works through the 50 mappings in the background, at 3 s per call.
        $runner = proc_open(
            array_merge([PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli'], self::implementationArgs(), [dirname(__DIR__, 2) . '/bin/wp.php', 'run-queue']),
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes
        );
        try {
            $deadline = microtime(true) + 20;
            while (count($this->sim->requests()) === 0 && microtime(true) < $deadline) {
                usleep(50000);
            }
            $this->assertNotEmpty($this->sim->requests(), 'the runner is talking to (slow) Closte');
            $pages = [];
            foreach (['/wp-admin/network/', '/wp-admin/network/sites.php'] as $path) {
                $page = $this->webRequest('GET', $path);
                $this->assertSame(200, $page['status'], substr($page['body'], 0, 500));
                $this->assertStringContainsString('Network Admin', $page['body']);
                $pages[$path] = $page['seconds'];
            }
            foreach ($pages as $path => $seconds) {
                $this->assertLessThan(3.0, $seconds, "$path answered within one Closte round trip ({$seconds}s)");
            }
            $this->assertLessThan(50, count($this->sim->domains()), 'the mappings were still being processed meanwhile');
        } finally {
            proc_terminate($runner, 9);
            proc_close($runner);
            $this->sim->configure(['latency_ms' => 0]);
        }
    }

    public function testTheKeyIsInNoLogFile(): void
    {
        // Produce successes and every kind of failure first.
        Standin_Domain_Manager::create_domain('logged.example', 1);
        $this->sim->fault(['kind' => 'status', 'status' => 500, 'count' => 1]);
        Standin_Domain_Manager::create_domain('logged-2.example', 1);
        $this->runQueue();
        $nonce = $this->testConnectionNonce();
        $this->sim->configure(['api_keys' => ['another']]);
        global $wpdb;
        Standin_Domain_Manager::delete_domain((int) $wpdb->get_var($wpdb->prepare('SELECT id FROM ' . Standin_Domain_Manager::table() . ' WHERE domain = %s', 'logged.example')));
        $this->runQueue();
        // The test connection through HTTP writes the log too.
        $this->testConnection($nonce);
        $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);

        $files = array_merge(
            glob($this->logDir() . '/*.log') ?: [],
            glob(CLOSTE_E2E_DIR . '/logs/*.log') ?: []
        );
        $this->assertNotEmpty(glob($this->logDir() . '/*.log'));
        $this->assertContains(CLOSTE_E2E_DIR . '/logs/closte-sim.log', $files, "the simulator's own log is checked too");
        $this->assertStringContainsString('/adddomainalias', (string) file_get_contents(CLOSTE_E2E_DIR . '/logs/closte-sim.log'));
        $this->assertStringContainsString('error_kind=auth', $this->log());
        foreach ($files as $file) {
            $text = (string) file_get_contents($file);
            $this->assertStringNotContainsString(CLOSTE_E2E_KEY, $text, $file);
            $this->assertStringNotContainsString(substr(CLOSTE_E2E_KEY, 0, 10), $text, $file);
        }
    }
}
