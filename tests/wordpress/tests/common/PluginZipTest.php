<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Certificate_Lifecycle;
use Closte_Native\Certificate_Watch;

/**
 * The plugin as operators install it: the zip `make dist` builds (scripts/plugin-zip.sh),
 * installed by WordPress's own Plugin_Upgrader (what Network Admin > Plugins > Add New > Upload
 * Plugin runs on the uploaded file), network-activated, then used: the wizard's test connection,
 * a domain mapped through the Ultimate Multisite stand-in reaching the simulator, the
 * certificate lifecycle taking it over.
 *
 * The harness's copy of the plugin (cp -r of the tree) is moved out of wp-content/plugins and
 * its network activation removed first, so WordPress installs into a network that does not
 * have the plugin (the Upload screen refuses an existing folder unless told to replace it);
 * each step runs in a process of its own (bin/plugin-zip.php, wp.php, HTTP), as WordPress runs
 * them in requests of their own, so the code that answers is the copy WordPress unpacked, not
 * the one this PHPUnit process loaded. tearDown puts the harness's copy and activation back.
 */
final class PluginZipTest extends E2eTestCase
{
    private const PLUGIN = 'closte-native/closte-native.php';

    private string $installed;
    private string $aside;
    private string $work;
    private bool $hadUpgradeDir;
    /** @var array<string, int> */
    private array $sitewide;

    protected function setUp(): void
    {
        parent::setUp();
        $this->installed = WP_PLUGIN_DIR . '/closte-native';
        $this->aside = CLOSTE_E2E_DIR . '/closte-native.harness-copy';
        $this->work = CLOSTE_E2E_DIR . '/plugin-zip';
        $this->hadUpgradeDir = is_dir(WP_CONTENT_DIR . '/upgrade');
        wp_cache_flush();
        $this->sitewide = (array) get_site_option('active_sitewide_plugins', []);
        $this->assertArrayHasKey(self::PLUGIN, $this->sitewide, 'the harness network-activated the plugin');
    }

    protected function tearDown(): void
    {
        if (is_dir($this->aside)) {
            if (is_dir($this->installed)) {
                self::removeTree($this->installed);
            }
            rename($this->aside, $this->installed);
        }
        wp_cache_flush(); // the other processes changed the option: compare with the database
        update_site_option('active_sitewide_plugins', $this->sitewide);
        self::removeTree($this->work);
        if (! $this->hadUpgradeDir) {
            self::removeTree(WP_CONTENT_DIR . '/upgrade');
        }
        parent::tearDown();
    }

    public function testTheZipInstallsThroughPluginUpgraderNetworkActivatesAndWorks(): void
    {
        $build = $this->execute([dirname(__DIR__, 4) . '/scripts/plugin-zip.sh', $this->work]);
        $this->assertSame(0, $build['exit'], $build['stderr']);
        $zip = $this->work . '/closte-native-' . CLOSTE_NATIVE_VERSION . '.zip';
        $this->assertFileExists($zip);
        // Listed with WordPress's own PclZip (what unzip_file() falls back to without ZipArchive).
        require_once ABSPATH . 'wp-admin/includes/class-pclzip.php';
        $listing = (new PclZip($zip))->listContent();
        $this->assertIsArray($listing, 'PclZip reads the zip');
        $files = array_values(array_map(static fn (array $e) => $e['filename'], array_filter($listing, static fn (array $e) => ! $e['folder'])));
        sort($files, SORT_STRING);
        $this->assertContains('closte-native/compat/bootstrap.php', $files, 'the zip carries the PHP implementation');

        // A network without the plugin: no folder, no activation, nothing of ours answering.
        $this->assertTrue(rename($this->installed, $this->aside));
        $without = $this->sitewide;
        unset($without[self::PLUGIN]);
        wp_cache_flush();
        update_site_option('active_sitewide_plugins', $without);
        $before = $this->step(['smoke']);
        $this->assertFalse($before['loaded'], 'the harness copy is out of reach');
        $this->assertNull($before['installed']);

        // Upload Plugin > Install Now: Plugin_Upgrader unpacks the zip into wp-content/plugins.
        $install = $this->step(['install', $zip]);
        $this->assertTrue($install['result'], 'Plugin_Upgrader::install: ' . implode(' / ', $install['errors']) . ' ' . implode(' / ', $install['messages']));
        $this->assertSame(self::PLUGIN, $install['plugin'], 'WordPress found the plugin file in the zip');
        $this->assertSame([], $install['errors']);
        $onDisk = $this->execute(['sh', '-c', 'cd "$1" && find closte-native -type f | LC_ALL=C sort', 'sh', WP_PLUGIN_DIR]);
        $this->assertSame($files, explode("\n", trim($onDisk['stdout'])), 'wp-content/plugins/closte-native holds exactly the zip\'s files');

        // Network Activate.
        $activate = $this->step(['activate']);
        $this->assertNull($activate['error']);
        $this->assertTrue($activate['active_for_network']);

        // The next request runs the installed copy, on the implementation under test.
        $smoke = $this->step(['smoke']);
        $this->assertTrue($smoke['loaded']);
        $this->assertSame(CLOSTE_NATIVE_VERSION, $smoke['version']);
        $this->assertSame($this->installed, $smoke['dir']);
        $this->assertStringStartsWith($this->installed . '/includes/', $smoke['plugin_class_file']);
        $this->assertSame(CLOSTE_E2E_IMPL, $smoke['implementation']);
        $this->assertSame(['Name' => 'Closte Native for Ultimate Multisite', 'Version' => CLOSTE_NATIVE_VERSION, 'Network' => true], $smoke['installed']);
        $this->assertTrue($smoke['active_for_network']);
        $this->assertSame(array_fill_keys(array_merge(Certificate_Lifecycle::HOOKS, [Certificate_Watch::HOOK]), true), $smoke['certificate_hooks'], 'the certificate lifecycle\'s jobs have their handlers');

        // The integration answers the wizard's test connection (HTTP, through the web server).
        $answer = $this->connectionAnswer($this->testConnectionNonce());
        $this->assertTrue($answer['success'], $answer['message']);
        $this->assertNotEmpty($this->sim->requests(), 'the test connection reached the simulator');

        // A domain mapped through the Ultimate Multisite stand-in reaches Closte.
        $map = $this->wpCli(['map', 'zip-install.example', '1']);
        $this->assertSame(0, $map['exit'], $map['stderr']);
        $queue = $this->wpCli(['run-queue']);
        $this->assertSame(0, $queue['exit'], $queue['stderr']);
        $this->assertSame(['zip-install.example'], $this->sim->domains());
        $this->assertCount(1, $this->requestsTo('/adddomainalias', 'zip-install.example'));
        $this->assertStringContainsString('add_domain zip-install.example (site 1): OK', $this->log());
        // ... and the certificate lifecycle takes it over: its DNS check is queued.
        wp_cache_flush();
        $dns = array_values(array_filter($this->pendingJobs(Certificate_Lifecycle::DNS_HOOK), static fn (array $job) => $job['args'] === ['zip-install.example']));
        $this->assertCount(1, $dns, 'one certificate DNS check queued for the new alias');
    }

    /**
     * One step of bin/plugin-zip.php in its own process, on the implementation under test.
     *
     * @return array<string, mixed> its JSON
     */
    private function step(array $args): array
    {
        $cmd = array_merge(
            [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', '-d', 'error_reporting=-1', '-d', 'display_errors=stderr'],
            self::implementationArgs(),
            [dirname(__DIR__, 2) . '/bin/plugin-zip.php'],
            $args
        );
        $result = $this->execute($cmd);
        $json = json_decode(trim($result['stdout']), true);
        $this->assertIsArray($json, "plugin-zip.php {$args[0]} (exit {$result['exit']}): {$result['stdout']} {$result['stderr']}");
        return $json;
    }

    /** @return array{exit: int, stdout: string, stderr: string} */
    private function execute(array $cmd): array
    {
        $process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $stdout = (string) stream_get_contents($pipes[1]);
        $stderr = (string) stream_get_contents($pipes[2]);
        return ['exit' => proc_close($process), 'stdout' => $stdout, 'stderr' => $stderr];
    }

    private static function removeTree(string $dir): void
    {
        if (! is_dir($dir)) {
            return;
        }
        $items = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS), RecursiveIteratorIterator::CHILD_FIRST);
        foreach ($items as $item) {
            $item->isDir() && ! $item->isLink() ? rmdir($item->getPathname()) : unlink($item->getPathname());
        }
        rmdir($dir);
    }
}
