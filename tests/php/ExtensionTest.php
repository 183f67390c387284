<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;
use PHPUnit\Framework\Attributes\Group;

/**
 * Loading, configuration sources, phpinfo, threads and fork safety. Under CLOSTE_IMPL=php the
 * same API comes from the PHP implementation; the tests of the native runtime and of INI
 * registration are in the group `native-only`.
 */
final class ExtensionTest extends ClosteTestCase
{
    public function testTheImplementationExportsTheApiAndSaysWhichItIs(): void
    {
        if (CLOSTE_TEST_IMPL === 'php') {
            $functions = array_values(array_filter(
                get_defined_functions()['user'],
                static fn (string $f): bool => str_starts_with($f, 'closte_') && !str_starts_with($f, 'closte_test_ini')
            ));
        } else {
            $functions = array_keys((new ReflectionExtension('closte'))->getFunctions());
        }
        sort($functions);
        $this->assertSame([
            'closte_add_domain', 'closte_check_dns', 'closte_detect', 'closte_enqueue', 'closte_list_domains',
            'closte_normalize_domain', 'closte_pending', 'closte_remove_domain', 'closte_request_ssl', 'closte_ssl_status',
            'closte_stats', 'closte_sync', 'closte_test_connection', 'closte_verify_certificate', 'closte_version', 'closte_wait',
        ], $functions);
        $cargo = file_get_contents(dirname(__DIR__, 2) . '/Cargo.toml');
        preg_match('/^version = "([^"]+)"/m', $cargo, $m);
        if (CLOSTE_TEST_IMPL === 'php') {
            $this->assertSame($m[1] . '+php', closte_version());
            $this->assertSame($m[1], closte_stats()['version']);
            $this->assertSame('php', closte_stats()['implementation']);
            $this->assertFalse(phpversion('closte'));
        } else {
            $this->assertSame($m[1], closte_version());
            $this->assertSame($m[1], phpversion('closte'));
            $this->assertSame('extension', closte_stats()['implementation']);
        }
    }

    /** What the defaults are, as the implementation under test registers (or holds) them. */
    private static function registeredDefaults(): array
    {
        $result = PhpProcess::run('$d = extension_loaded("closte") ? ini_get_all("closte", false) : Closte\Compat\Settings::DEFAULTS; ksort($d); echo json_encode($d);');
        return json_decode($result['stdout'], true) ?? ['stderr' => $result['stderr']];
    }

    public function testTheDefaultsAreTheDocumentedOnes(): void
    {
        $this->assertSame([
            'closte.allow_private_targets' => '0',
            'closte.api_key' => '',
            'closte.api_url' => 'https://app.closte.com/api/client',
            'closte.ca_file' => '',
            'closte.concurrency' => '8',
            'closte.connect_timeout' => '5',
            'closte.drain_timeout' => '5',
            'closte.max_retries' => '2',
            'closte.proxy' => '',
            'closte.resolve' => '',
            'closte.timeout' => '15',
            'closte.tls_check_port' => '443',
            'closte.user_agent' => '',
            'closte.verify_ca_file' => '',
            'closte.worker_threads' => '2',
        ], self::registeredDefaults());
    }

    public function testTheOperatorGuideAndTheInstallerFollowTheRegisteredDefaults(): void
    {
        $registered = self::registeredDefaults();
        $guide = (string) file_get_contents(dirname(__DIR__, 2) . '/docs/operator-guide.md');
        preg_match_all('/^\| `(closte\.[a-z_]+)` \| (.*?) \|/m', $guide, $rows, PREG_SET_ORDER);
        $documented = [];
        foreach ($rows as [, $name, $default]) {
            // "(empty)" or "`value`", plus a note for the user agent.
            $documented[$name] = preg_match('/^`([^`]*)`/', $default, $m) ? $m[1] : '';
        }
        $expected = $registered;
        $expected['closte.user_agent'] = 'closte-php/<version>'; // the documented effective value of ''
        ksort($expected);
        ksort($documented);
        $this->assertSame($expected, $documented, 'docs/operator-guide.md, "Configuration": one row per setting with its default');

        // The installer writes the ini from the loaded extension's own defaults.
        $script = (string) file_get_contents(dirname(__DIR__, 2) . '/scripts/install-extension.sh');
        $this->assertStringContainsString('ini_get_all("closte", false)', $script);
    }

    public function testAnUnusableCaFileOrApiUrlIsAConfigurationErrorNotARetryableFailure(): void
    {
        $notPem = tempnam(sys_get_temp_dir(), 'closte-ca-');
        file_put_contents($notPem, "not a certificate\n");
        $cases = [
            ['closte.ca_file', '/nonexistent/ca.pem'],
            ['closte.ca_file', sys_get_temp_dir()],
            ['closte.ca_file', $notPem],
            ['closte.api_url', 'http://127.0.0.1:99999/api/client'],
            ['closte.api_url', 'http://[::1/api/client'],
        ];
        try {
            foreach ($cases as [$setting, $value]) {
                $result = PhpProcess::run(<<<PHP
                    closte_test_ini('$setting', '$value');
                    try { closte_add_domain('example.com'); echo 'no exception'; }
                    catch (\Closte\Exception \$e) { echo get_class(\$e), ' ', \$e->getCode(), ': ', \$e->getMessage(); }
                    PHP, ['closte.api_key' => CLOSTE_TEST_KEY]);
                $this->assertSame(0, $result['exit'], $result['stderr']);
                $this->assertStringStartsWith('Closte\\ConfigurationException 2: ', $result['stdout'], "$setting=$value");
                $this->assertStringContainsString($setting, $result['stdout'], 'the message names the setting');
            }
        } finally {
            unlink($notPem);
        }
    }

    public function testEnvironmentProxiesAreIgnoredAndClosteProxyIsUsed(): void
    {
        $dead = 'http://127.0.0.1:1';
        foreach (['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'] as $name) {
            putenv("$name=$dead");
        }
        try {
            $direct = PhpProcess::run(
                "echo json_encode(closte_add_domain('direct.example.com')['ok']);",
                ['closte.api_key' => CLOSTE_TEST_KEY, 'closte.api_url' => $this->sim->apiUrl()]
            );
            $this->assertSame('true', $direct['stdout'], 'an environment proxy is not used: ' . $direct['stderr']);

            // closte.proxy: the simulator plays the proxy; nothing listens at the API URL itself
            // (a loopback host: plain http:// to any other is refused, see CleartextApiUrlTest).
            $proxied = PhpProcess::run(
                "echo json_encode(closte_add_domain('proxied.example.com')['ok']); echo ' ', closte_test_ini_get('closte.proxy') !== '' ? 'set' : 'unset';",
                ['closte.api_key' => CLOSTE_TEST_KEY, 'closte.api_url' => 'http://localhost:1/api/client', 'closte.proxy' => 'http://127.0.0.1:' . $this->sim->port()]
            );
            $this->assertSame('true set', $proxied['stdout'], $proxied['stderr']);
        } finally {
            foreach (['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'] as $name) {
                putenv($name);
            }
        }
        $viaProxy = array_column(array_filter($this->sim->requests(), static fn ($r) => ($r['fields']['domain'] ?? '') === 'proxied.example.com'), 'via_proxy');
        $this->assertNotEmpty($viaProxy);
        $this->assertSame([true], array_values(array_unique($viaProxy)), 'the request went through closte.proxy');
        $direct = array_column(array_filter($this->sim->requests(), static fn ($r) => ($r['fields']['domain'] ?? '') === 'direct.example.com'), 'via_proxy');
        $this->assertSame([false], array_values(array_unique($direct)));
    }

    public function testABadDrainTimeoutOrConcurrencyIsAConfigurationErrorNamingTheSetting(): void
    {
        foreach (['closte.drain_timeout' => '61', 'closte.concurrency' => '0'] as $setting => $value) {
            $result = PhpProcess::run(<<<PHP
                closte_test_ini('$setting', '$value');
                try { closte_enqueue('add_domain', 'example.com'); echo 'accepted'; }
                catch (\Closte\ConfigurationException \$e) { echo get_class(\$e), ' ', \$e->getCode(), ': ', \$e->getMessage(); }
                PHP);
            $this->assertSame(0, $result['exit'], $result['stderr']);
            $this->assertStringStartsWith("Closte\\ConfigurationException 2: $setting must be", $result['stdout']);
            $this->assertStringContainsString("\"$value\"", $result['stdout']);
        }
        $this->assertSame([], $this->sim->requests());
    }

    public function testConstantWinsOverIniAndIsReadAtCallTime(): void
    {
        $url = $this->sim->apiUrl();
        $key = CLOSTE_TEST_KEY;
        $result = PhpProcess::run(<<<PHP
            closte_test_ini('closte.api_url', '$url');
            closte_test_ini('closte.api_key', 'wrong-ini-key');
            \$before = closte_test_connection();
            define('CLOSTE_CLIENT_API_KEY', '$key');
            \$after = closte_test_connection();
            echo json_encode([\$before['error_kind'], \$after['ok'], closte_stats()['key_source'], closte_detect()]);
            PHP);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertSame(['auth', true, 'constant CLOSTE_CLIENT_API_KEY', true], json_decode($result['stdout'], true));
    }

    public function testDetectWithoutAnyKey(): void
    {
        $result = PhpProcess::run('var_export(closte_detect());');
        $this->assertSame('false', $result['stdout']);
        $result = PhpProcess::run('define("CLOSTE_CLIENT_API_KEY", ""); var_export(closte_detect());');
        $this->assertSame('false', $result['stdout'], 'an empty constant is no key');
    }

    /**
     * Native only: INI entries and a phpinfo section exist only with the extension.
     *
     * @group native-only
     */
    #[Group('native-only')]
    public function testPhpinfoShowsSettingsButNeverTheKey(): void
    {
        $result = PhpProcess::run('phpinfo(INFO_MODULES);', ['closte.api_key' => CLOSTE_TEST_KEY]);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertStringContainsString('Closte support => enabled', $result['stdout']);
        $this->assertStringContainsString('closte.api_key => ******** (set) => ******** (set)', $result['stdout']);
        $this->assertStringContainsString('closte.api_url => https://app.closte.com/api/client', $result['stdout']);
        $this->assertStringContainsString('Runtime => not started', $result['stdout']);
        $this->assertStringNotContainsString(CLOSTE_TEST_KEY, $result['stdout']);

        $ri = shell_exec(escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg(CLOSTE_TEST_SO)
            . ' -d closte.api_key=' . CLOSTE_TEST_KEY . ' --ri closte');
        $this->assertStringContainsString('closte.api_key => ******** (set)', $ri);
        $this->assertStringNotContainsString(CLOSTE_TEST_KEY, $ri);
    }

    /**
     * Native only: the tokio runtime's threads.
     *
     * @group native-only
     */
    #[Group('native-only')]
    public function testLoadingStartsNoThreadAndTheFirstCallStartsTheConfiguredNumber(): void
    {
        $url = $this->sim->apiUrl();
        $result = PhpProcess::run(<<<PHP
            function threads(): int {
                preg_match('/^Threads:\\s+(\\d+)/m', file_get_contents('/proc/' . getmypid() . '/status'), \$m);
                return (int) \$m[1];
            }
            \$loaded = threads();
            \$statsBefore = closte_stats()['runtime'];
            closte_test_ini('closte.api_url', '$url');
            closte_test_ini('closte.worker_threads', '3');
            \$r = closte_list_domains();
            echo json_encode([\$loaded, \$statsBefore['started'], \$r['ok'], threads(), closte_stats()['runtime']]);
            PHP, ['closte.api_key' => CLOSTE_TEST_KEY]);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        [$loaded, $startedBefore, $ok, $after, $runtime] = json_decode($result['stdout'], true);
        $this->assertSame(1, $loaded, 'loading the extension starts no thread');
        $this->assertFalse($startedBefore);
        $this->assertTrue($ok);
        $this->assertSame(3, $runtime['worker_threads']);
        $this->assertTrue($runtime['started']);
        // main thread + 3 workers + at most a few blocking (DNS) threads
        $this->assertGreaterThanOrEqual(4, $after);
        $this->assertLessThanOrEqual(1 + 3 + 4, $after);
    }

    public function testForkedChildBuildsItsOwnRuntime(): void
    {
        $url = $this->sim->apiUrl();
        $result = PhpProcess::run(<<<PHP
            closte_test_ini('closte.api_url', '$url');
            \$parent = closte_add_domain('parent.example.com');
            \$pipe = tempnam(sys_get_temp_dir(), 'closte-fork-');
            \$pid = pcntl_fork();
            if (\$pid === 0) {
                \$child = closte_add_domain('child.example.com');
                \$stats = closte_stats()['runtime'];
                file_put_contents(\$pipe, json_encode([\$child['ok'], \$stats['pid'] === getmypid(), \$stats['owned_by_this_process']]));
                exit(0);
            }
            \$deadline = microtime(true) + 20;
            do {
                \$done = pcntl_waitpid(\$pid, \$status, WNOHANG);
                if (\$done === 0) { usleep(20000); }
            } while (\$done === 0 && microtime(true) < \$deadline);
            if (\$done === 0) { posix_kill(\$pid, 9); echo json_encode(['child hung']); exit(1); }
            \$again = closte_list_domains();
            echo json_encode([\$parent['ok'], pcntl_wexitstatus(\$status), json_decode(file_get_contents(\$pipe), true), \$again['domains']]);
            unlink(\$pipe);
            PHP, ['closte.api_key' => CLOSTE_TEST_KEY, 'extension' => 'posix']);
        $this->assertSame(0, $result['exit'], $result['stdout'] . $result['stderr']);
        [$parentOk, $childExit, $child, $domains] = json_decode($result['stdout'], true);
        $this->assertTrue($parentOk);
        $this->assertSame(0, $childExit);
        $this->assertSame([true, true, true], $child, 'the child completed its own call on its own runtime');
        $this->assertSame(['child.example.com', 'parent.example.com'], $domains, 'the parent still works after the fork');
    }

    public function testStatsNeverContainTheKey(): void
    {
        closte_add_domain('example.com');
        $stats = closte_stats();
        $this->assertSame('ini closte.api_key', $stats['key_source']);
        $this->assertTrue($stats['key_configured']);
        $this->assertSame($this->sim->apiUrl(), $stats['api_url']);
        $this->assertStringNotContainsString(CLOSTE_TEST_KEY, var_export($stats, true));
        $this->assertGreaterThanOrEqual(2, $stats['requests']);
        $this->assertSame(['auth', 'invalid_domain', 'rate_limited', 'server', 'timeout', 'network', 'bad_response', 'not_found', 'tls', 'internal'], array_keys($stats['failures']));
    }
}
