<?php

declare(strict_types=1);

namespace Closte\Tests\E2e;

use Closte\Tests\Support\Simulator;
use PHPUnit\Framework\TestCase;

/**
 * Each test starts from a network with no domain records, no queued jobs, empty logs and an
 * empty simulator. Ultimate Multisite and Action Scheduler are STAND-INS (see fixtures/).
 */
abstract class E2eTestCase extends TestCase
{
    protected Simulator $sim;

    protected function setUp(): void
    {
        global $wpdb;
        $this->sim = Simulator::attach((int) CLOSTE_E2E_SIM_PORT);
        $this->sim->reset();
        $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY], 'ssl_issue_delay_ms' => 1000, 'auth_error_message' => 'Invalid API Key', 'already_exists_message' => 'Domain alias already exists']);
        $wpdb->query('TRUNCATE ' . standin_as_table());
        $wpdb->query('TRUNCATE ' . standin_as_claims_table());
        $wpdb->query('TRUNCATE ' . \Standin_Domain_Manager::table());
        $wpdb->query('DROP TABLE IF EXISTS ' . \Closte_Native\Alias_Queue::table()); // re-created with its first change
        $wpdb->query("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%' OR meta_key LIKE '\\_site\\_transient%closte\\_native\\_%' OR meta_key IN ('standin_stock_closte_calls', 'standin_domain_query_fails', 'standin_dns', 'standin_network_ip', 'standin_valid_ssl')");
        $wpdb->query("DELETE FROM {$wpdb->usermeta} WHERE meta_key LIKE 'closte\\_native\\_%'");
        wp_cache_flush();
        foreach (glob($this->logDir() . '/*.log') ?: [] as $file) {
            unlink($file);
        }
        // No www twins unless a test asks for them (WwwTwinTest): the other tests count aliases.
        update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
        update_site_option('closte_native_www_twin', '0');
    }

    protected function logDir(): string
    {
        return CLOSTE_E2E_DIR . '/wp-content/uploads/wu-logs';
    }

    protected function log(string $handle = 'integration-closte'): string
    {
        $file = $this->logDir() . "/$handle.log";
        return is_file($file) ? (string) file_get_contents($file) : '';
    }

    /**
     * Runs every job due by now + $offset seconds (one batch of the Action Scheduler stand-in),
     * then the alias-queue drain jobs that batch queued: a domain event's action only queues its
     * change, and Action Scheduler's next batch of the same run takes the drain first (it is due
     * before anything the drain itself schedules).
     */
    protected function runQueue(int $offset = 0): int
    {
        $ran = standin_as_run_queue(time() + $offset);
        for ($i = 0; $i < 20 && [] !== $this->dueJobs(\Closte_Native\Alias_Queue::DRAIN_HOOK, $offset); $i++) {
            $ran += standin_as_run_queue(time() + $offset, 1000, [\Closte_Native\Alias_Queue::DRAIN_HOOK]);
        }
        return $ran;
    }

    /** @return list<array<string, mixed>> pending jobs of $hook due by now + $offset */
    protected function dueJobs(string $hook, int $offset = 0): array
    {
        return array_values(array_filter($this->pendingJobs($hook), static fn (array $job): bool => (int) $job['scheduled_at'] <= time() + $offset));
    }

    /** @return list<array<string, mixed>> */
    protected function pendingJobs(?string $hook = null): array
    {
        return standin_as_jobs($hook, 'pending');
    }

    /** @return list<array<string, mixed>> the API requests the simulator received for $path */
    protected function requestsTo(string $path, ?string $domain = null): array
    {
        return array_values(array_filter(
            $this->sim->requests(),
            static fn (array $r) => $r['path'] === $path && ($domain === null || ($r['fields']['domain'] ?? null) === $domain)
        ));
    }

    /**
     * Runs a wp.php command in a separate PHP process against the same network.
     *
     * @return array{exit: int, stdout: string, stderr: string}
     */
    /**
     * The php arguments that load the closte implementation under test: the extension, or for
     * the PHP implementation curl and intl (the plugin loads its compat/ itself).
     *
     * @return list<string>
     */
    public static function implementationArgs(): array
    {
        return 'php' === CLOSTE_E2E_IMPL
            ? ['-d', 'extension=curl', '-d', 'extension=intl']
            : ['-d', 'extension=' . CLOSTE_E2E_SO];
    }

    /**
     * wp.php in a process of its own. $withExtension false: no closte implementation at all
     * (neither the extension nor curl, which the PHP implementation needs).
     */
    protected function wpCli(array $args, bool $withExtension = true, array $env = []): array
    {
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli', '-d', 'error_reporting=-1', '-d', 'display_errors=stderr'];
        if ($withExtension) {
            $cmd = array_merge($cmd, self::implementationArgs());
        }
        $cmd[] = dirname(__DIR__) . '/bin/wp.php';
        $process = proc_open(array_merge($cmd, $args), [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env ? $env + getenv() : null);
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        $exit = proc_close($process);
        return ['exit' => $exit, 'stdout' => (string) $stdout, 'stderr' => (string) $stderr];
    }

    /**
     * An HTTP request to the network through PHP's built-in server (which loads the extension
     * from its own command line), as the super admin.
     *
     * @return array{status: int, body: string, seconds: float}
     */
    protected function webRequest(string $method, string $path, array $form = [], int $user = 1): array
    {
        static $jar = [];
        $cookies = $jar[$user] ??= trim($this->wpCli(['cookies', (string) $user])['stdout']);
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => 'Host: ' . CLOSTE_E2E_NETWORK . "\r\nCookie: $cookies\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n",
            'content' => http_build_query($form),
            'ignore_errors' => true,
            'follow_location' => 0,
            'timeout' => 60,
        ]]);
        $started = microtime(true);
        $body = file_get_contents('http://127.0.0.1:' . CLOSTE_E2E_WEB_PORT . $path, false, $context);
        $seconds = microtime(true) - $started;
        preg_match('#^HTTP/\S+ (\d+)#', $http_response_header[0] ?? '', $m);
        return ['status' => (int) ($m[1] ?? 0), 'body' => (string) $body, 'seconds' => $seconds];
    }

    /** The nonce our script adds to the wizard's test request, read from a network admin page. */
    protected function testConnectionNonce(): string
    {
        $page = $this->webRequest('GET', '/wp-admin/network/');
        $this->assertSame(1, preg_match('/var nonce = "([0-9a-f]+)"/', $page['body'], $m), 'the nonce script is on network admin pages');
        return $m[1];
    }

    /** True when the stand-in models Ultimate Multisite 2.5+ (the integration registry: 2.5 or 2.18). */
    protected function registryMode(): bool
    {
        return version_compare(CLOSTE_E2E_UM, '2.5', '>=');
    }

    /** The class of ours whose methods are hooked to the domain actions in this mode. */
    protected function ourHookOwner(): string
    {
        return $this->registryMode() ? 'Closte_Native\Registry_Domain_Mapping' : 'Closte_Native\Host_Provider';
    }

    /** The stock class that would answer the domain actions without us. */
    protected function stockHookOwner(): string
    {
        return $this->registryMode() ? 'WP_Ultimo\Integrations\Providers\Closte\Closte_Domain_Mapping' : 'WP_Ultimo\Integrations\Host_Providers\Closte_Host_Provider';
    }

    /** @return list<string> the classes (or "closure") of every callback on $hook */
    protected function hookOwners(string $hook): array
    {
        $owners = [];
        foreach ($GLOBALS['wp_filter'][$hook]->callbacks ?? [] as $callbacks) {
            foreach ($callbacks as $callback) {
                $owners[] = is_array($callback['function']) ? get_class($callback['function'][0]) : 'closure';
            }
        }
        return $owners;
    }

    /**
     * The wizard's test connection over HTTP, in one shape for both generations: 2.4 sends our
     * JSON (a WP_Error as data[0] with code and message), 2.5+ answers data.message itself.
     *
     * @return array{success: bool, message: string, code: ?string, http_status: int}
     */
    protected function connectionAnswer(?string $nonce, int $user = 1): array
    {
        $json = $this->testConnection($nonce, $user);
        $data = $json['data'] ?? [];
        $error = isset($data[0]) && is_array($data[0]) ? $data[0] : null;
        return [
            'success' => (bool) $json['success'],
            'message' => (string) ($error['message'] ?? $data['message'] ?? ''),
            'code' => $error['code'] ?? null,
            'http_status' => $json['http_status'],
        ];
    }

    /** @return array<string, mixed> the decoded JSON answer of the wizard's test connection */
    protected function testConnection(?string $nonce, int $user = 1): array
    {
        $form = ['action' => 'wu_test_hosting_integration', 'integration' => 'closte'];
        if (null !== $nonce) {
            $form['closte_native_nonce'] = $nonce;
        }
        $answer = $this->webRequest('POST', '/wp-admin/admin-ajax.php', $form, $user);
        $json = json_decode($answer['body'], true);
        $this->assertIsArray($json, $answer['status'] . ' ' . substr($answer['body'], 0, 300));
        return $json + ['http_status' => $answer['status']];
    }

    /** Runs the sync's queued background job (and anything else due) in this process. */
    protected function runSyncJob(): void
    {
        wp_cache_flush();
        $this->runQueue();
        wp_cache_flush();
    }
}
