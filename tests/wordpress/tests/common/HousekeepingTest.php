<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Background_Jobs;
use Closte_Native\Logger;
use Closte_Native\Implementation;
use Closte_Native\Alias_Changes;

/**
 * Keeping the operator's data and key safe around the edges: the key wherever the
 * implementation got it stays out of the logs, uninstalling removes only what is ours (and never
 * flushes a live network's object cache), Site Health says what it knows without the key, and
 * the missing-implementation notice stays dismissed.
 */
final class HousekeepingTest extends E2eTestCase
{
    /** A key only the credential store (2.5+) or a runtime setting holds: not the constant's. */
    private const HANDED_OVER_KEY = 'handed-over-key-3c9e51aa70d4';
    private const INI_KEY = 'php-ini-key-81f0c2d95b7e';

    /**
     * wp.php with extra php -d settings, in a process of its own with the implementation under test.
     *
     * @param array<string, string> $ini
     * @return array{exit: int, stdout: string, stderr: string}
     */
    private function wpCliWithIni(array $ini, array $args, array $env): array
    {
        $cmd = array_merge([PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', '-d', 'error_reporting=-1', '-d', 'display_errors=stderr'], self::implementationArgs());
        foreach ($ini as $name => $value) {
            array_push($cmd, '-d', "$name=$value");
        }
        $cmd[] = dirname(__DIR__, 2) . '/bin/wp.php';
        $process = proc_open(array_merge($cmd, $args), [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        $stdout = (string) stream_get_contents($pipes[1]);
        $stderr = (string) stream_get_contents($pipes[2]);
        return ['exit' => proc_close($process), 'stdout' => $stdout, 'stderr' => $stderr];
    }

    public function testAKeyHandedToTheImplementationAtRuntimeIsRedactedFromTheLog(): void
    {
        // What Implementation::use_api_key does with a key from Ultimate Multisite's credential store: an
        // INI setting of the extension, Settings::set() of the PHP implementation.
        Implementation::use_api_key(self::HANDED_OVER_KEY);
        try {
            Logger::log('runtime probe ' . self::HANDED_OVER_KEY . ' end');
        } finally {
            'php' === CLOSTE_E2E_IMPL ? \Closte\Compat\Settings::restore('closte.api_key') : ini_restore('closte.api_key');
        }
        $this->assertStringContainsString('runtime probe [redacted] end', $this->log());
        $this->assertStringNotContainsString(self::HANDED_OVER_KEY, $this->log());
    }

    public function testAKeyOnlyInPhpIniOrOnlyInTheCredentialStoreIsRedactedFromTheLog(): void
    {
        $noConstant = ['CLOSTE_E2E_NO_KEY_CONSTANT' => '1'];
        // php.ini: the PHP implementation reads it with get_cfg_var() (ini_get() knows nothing).
        $ini = $this->wpCliWithIni(['closte.api_key' => self::INI_KEY], ['log', 'ini probe ' . self::INI_KEY . ' end'], $noConstant);
        $this->assertSame(0, $ini['exit'], $ini['stderr']);
        $this->assertStringContainsString('ini probe [redacted] end', $this->log());

        if ($this->registryMode()) {
            update_site_option('wu_hosting_credential_CLOSTE_CLIENT_API_KEY', \WP_Ultimo\Helpers\Credential_Store::encrypt(self::HANDED_OVER_KEY));
            try {
                $stored = $this->wpCli(['log', 'stored probe ' . self::HANDED_OVER_KEY . ' end'], true, $noConstant);
            } finally {
                delete_site_option('wu_hosting_credential_CLOSTE_CLIENT_API_KEY');
            }
            $this->assertSame(0, $stored['exit'], $stored['stderr']);
            $this->assertStringContainsString('stored probe [redacted] end', $this->log());
        }
        $this->assertStringNotContainsString(self::INI_KEY, $this->log());
        $this->assertStringNotContainsString(self::HANDED_OVER_KEY, $this->log());
    }

    /**
     * Runs uninstall.php in this process (once per process: it defines WP_UNINSTALL_PLUGIN), so
     * that what it leaves in the object cache shows. The uninstall runs as on a network with a
     * persistent object cache (site transients in the cache alone), with database rows of ours
     * from before: both kinds must go, and nothing else.
     */
    public function testUninstallRemovesOnlyWhatIsOursAndKeepsTheObjectCache(): void
    {
        global $wpdb;
        $wasInstalling = wp_installing(false); // an earlier test may leave it on: transients in the database
        // Ours, read once so the object cache holds them.
        update_site_option('closte_native_alias_owned.example', ['domain' => 'owned.example', 'site_id' => 1]);
        $this->assertIsArray(get_site_option('closte_native_alias_owned.example'));
        $stored = 'closte_ssl_endpoint_' . substr(hash('sha256', 'http://example.invalid/api/client'), 0, 24);
        set_site_transient($stored, '/ssl/install', 3600);
        // Not ours, though named closte_: another plugin's transient and option; a cache entry.
        set_site_transient('closte_other', 'kept', 3600);
        update_site_option('closte_unrelated_setting', 'kept');
        wp_cache_set('unrelated-entry', 'kept', 'e2e-housekeeping');
        // Jobs: ours in WP-Cron, in Action Scheduler without our group and with it; someone else's.
        $renamedArgs = ['old.example', 1, 'new.example'];
        wp_schedule_single_event(time() + 3600, 'closte_native_remove_renamed', $renamedArgs);
        standin_as_store(time() + 3600, 'closte_native_remove_renamed', ['old2.example', 1, 'new2.example'], '');
        Background_Jobs::schedule(Alias_Changes::RETRY_HOOK, 3600, ['add', 'retry.example', 1, 2, 'token']);
        standin_as_store(time() + 3600, 'someone_elses_hook', [], '');
        $this->assertNotFalse(wp_next_scheduled('closte_native_remove_renamed', $renamedArgs));
        $rows = static fn (string $name): int => (int) $wpdb->get_var($wpdb->prepare("SELECT COUNT(*) FROM {$wpdb->sitemeta} WHERE meta_key = %s", $name));
        $this->assertSame(1, $rows("_site_transient_$stored"));

        // From here on, as with a persistent object cache: the configured API URL's endpoint is
        // remembered in the cache only.
        $wasExternal = wp_using_ext_object_cache(true);
        $cached = 'closte_ssl_endpoint_' . substr(hash('sha256', 'http://127.0.0.1:' . CLOSTE_E2E_SIM_PORT . '/api/client'), 0, 24);
        set_site_transient($cached, '/ssl/install', 3600);
        $this->assertSame('/ssl/install', wp_cache_get($cached, 'site-transient'));
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        try {
            $this->assertTrue(uninstall_plugin('closte-native/closte-native.php'));

            $this->assertFalse(get_site_option('closte_native_alias_owned.example'), 'gone, from the cache too');
            $this->assertSame(0, $rows("_site_transient_$stored"));
            $this->assertSame(0, $rows("_site_transient_timeout_$stored"));
            $this->assertFalse(wp_cache_get($cached, 'site-transient'), 'the endpoint kept in the object cache');
            $this->assertSame(1, $rows('_site_transient_closte_other'), 'another plugin\'s transient stays');
            $this->assertSame('kept', get_site_option('closte_unrelated_setting'));
            $this->assertSame('kept', wp_cache_get('unrelated-entry', 'e2e-housekeeping'), 'the object cache is not flushed');
            $this->assertFalse(wp_next_scheduled('closte_native_remove_renamed', $renamedArgs), 'WP-Cron: the rename hook is unscheduled');
            $this->assertSame([], standin_as_jobs('closte_native_remove_renamed', 'pending'), 'a job scheduled without our group too');
            $this->assertSame([], standin_as_jobs(Alias_Changes::RETRY_HOOK, 'pending'));
            $this->assertCount(1, standin_as_jobs('someone_elses_hook', 'pending'));
        } finally {
            wp_using_ext_object_cache($wasExternal);
            delete_site_transient('closte_other');
            delete_site_option('closte_unrelated_setting');
            wp_unschedule_hook('closte_native_remove_renamed');
            wp_installing($wasInstalling);
        }
    }

    public function testSiteHealthInfoHasAClosteSectionWithoutTheKey(): void
    {
        Standin_Domain_Manager::create_domain('info.example', 1);
        $this->runQueue();
        $info = apply_filters('debug_information', [])['closte_native'] ?? null;
        $this->assertIsArray($info);
        $this->assertSame('Closte', $info['label']);
        $fields = $info['fields'];
        $this->assertStringStartsWith(CLOSTE_E2E_IMPL . ' ', $fields['implementation']['debug']);
        $this->assertSame(closte_version(), substr($fields['implementation']['debug'], strlen(CLOSTE_E2E_IMPL) + 1));
        $this->assertStringContainsString('127.0.0.1:' . CLOSTE_E2E_SIM_PORT, $fields['api_url']['value']);
        $this->assertSame('yes', $fields['api_key']['debug']);
        $this->assertSame('constant CLOSTE_CLIENT_API_KEY', $fields['api_key_source']['value']);
        $this->assertStringStartsWith('/', $fields['ssl_endpoint']['debug'], 'discovered by the add just made');
        $this->assertStringStartsWith($this->registryMode() ? '2.5' : '2.4', $fields['ultimate_multisite']['value']);
        $this->assertSame('1', $fields['owned_aliases']['value']);
        $this->assertSame('0', $fields['pending_retries']['value']);
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, json_encode($info));

        $without = $this->wpCli(['site-health-info'], false);
        $this->assertSame(0, $without['exit'], $without['stderr']);
        $none = json_decode($without['stdout'], true);
        $this->assertSame('none', $none['fields']['implementation']['debug']);
        $this->assertSame('no', $none['fields']['api_key']['debug']);
        $this->assertStringContainsString('neither the closte PHP extension nor PHP', $none['description']);
    }

    public function testWithNoImplementationTheKeyTestSaysSoInsteadOfReportingAMissingKey(): void
    {
        $health = json_decode($this->wpCli(['site-health'], false)['stdout'], true);
        [$status, $label, $description] = $health['closte_native_api_key'];
        $this->assertSame('critical', $status);
        $this->assertSame('The Closte API key cannot be checked: Closte Native is inactive', $label);
        $this->assertStringContainsString('neither the closte PHP extension nor PHP', $description);
        $this->assertStringNotContainsString('No Closte API key', $label . $description);
    }

    public function testClosingTheMissingImplementationNoticeWithItsXLasts(): void
    {
        $page = $this->wpCli(['notices'], false);
        $this->assertStringContainsString('closte-native-missing-extension', $page['stdout']);
        $this->assertStringContainsString('.closte-native-missing-extension .notice-dismiss', $page['stdout'], 'the X is listened to');
        // The request the X's script makes: a POST to admin-post.php with these fields.
        $this->assertSame(1, preg_match('/d=(\{[^}]*\});.*fetch\(("[^"]*")/', $page['stdout'], $m), $page['stdout']);
        $fields = json_decode($m[1], true);
        $this->assertStringEndsWith('/wp-admin/admin-post.php', json_decode($m[2]));
        $this->assertSame('closte_native_dismiss_notice', $fields['action']);

        $post = $this->wpCli(['admin-post', json_encode($fields)], false);
        $this->assertSame(0, $post['exit'], $post['stderr']);
        $this->assertStringContainsString('redirect: ', $post['stdout']);

        $next = $this->wpCli(['notices'], false);
        $this->assertSame(0, $next['exit'], $next['stderr']);
        $this->assertStringNotContainsString('closte-native-missing-extension', $next['stdout'], 'dismissed for good');
    }
}
