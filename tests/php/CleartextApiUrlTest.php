<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;

/**
 * The API key never travels in cleartext: an http:// closte.api_url is accepted only for a
 * loopback host. Every request in this file goes through closte.proxy, played by the
 * simulator (it records absolute-form requests with via_proxy), so a refused URL that was
 * sent anyway would show up in the simulator's record even though its host does not resolve.
 */
final class CleartextApiUrlTest extends ClosteTestCase
{
    private const REFUSAL = 'closte.api_url must use https:// (http:// only for a loopback host: 127.0.0.0/8, [::1] or localhost), '
        . 'because the API key would otherwise travel in cleartext: "%s"';

    protected function setUp(): void
    {
        parent::setUp();
        closte_test_ini('closte.proxy', 'http://127.0.0.1:' . $this->sim->port());
        closte_test_ini('closte.max_retries', '0');
    }

    /** Each entry point, called once: blocking, asynchronous, sync and the connection test. */
    private static function entryPoints(): array
    {
        return [
            'closte_add_domain' => static fn () => closte_add_domain('cleartext.example.com'),
            'closte_remove_domain' => static fn () => closte_remove_domain('cleartext.example.com'),
            'closte_request_ssl' => static fn () => closte_request_ssl('cleartext.example.com'),
            'closte_ssl_status' => static fn () => closte_ssl_status('cleartext.example.com'),
            'closte_list_domains' => static fn () => closte_list_domains(),
            'closte_test_connection' => static fn () => closte_test_connection(),
            'closte_enqueue' => static fn () => closte_enqueue('add_domain', 'cleartext.example.com'),
            'closte_sync' => static fn () => closte_sync(['cleartext.example.com']),
        ];
    }

    public function testAPlainHttpUrlToAnotherHostIsRefusedByEveryEntryPointBeforeAnyConnection(): void
    {
        $url = 'http://closte-api.example.invalid/api/client';
        closte_test_ini('closte.api_url', $url);
        $outcomes = [];
        foreach (self::entryPoints() as $name => $call) {
            try {
                $call();
                $outcomes[$name] = 'accepted';
            } catch (\Closte\ConfigurationException $e) {
                $outcomes[$name] = $e->getCode() . ' ' . $e->getMessage();
            }
        }
        closte_wait([], 5.0);
        $this->assertSame([], $this->sim->requests(), 'nothing reached the proxy');
        $this->assertSame(
            array_fill_keys(array_keys(self::entryPoints()), '2 ' . sprintf(self::REFUSAL, $url)),
            $outcomes
        );
        $this->assertNull(closte_stats()['api_url'], 'closte_stats() reports no usable URL either');
    }

    /** The control: the same proxy route carries a loopback http:// URL, so the test above would see a request. */
    public function testAPlainHttpUrlToALoopbackHostIsSentThroughTheSameRoute(): void
    {
        // Port 1: nothing listens there, so a request that arrives came through the proxy.
        foreach (['http://127.0.0.1:1/api/client', 'http://localhost:1/api/client', 'http://[::1]:1/api/client'] as $url) {
            $this->sim->reset();
            closte_test_ini('closte.api_url', $url);
            $result = closte_test_connection();
            $this->assertTrue($result['ok'], "$url: " . $result['error']);
            $this->assertSame([true], array_column($this->sim->requests(), 'via_proxy'), $url);
        }
    }

    /** The rule on the host as written, the same in both implementations (config.rs has the full list). */
    public function testOnlyLoopbackHostsAsWrittenMayUsePlainHttp(): void
    {
        $accepted = [
            'http://127.255.255.254:1/api/client',
            'http://LOCALHOST:1/api/client',
            'http://[0:0:0:0:0:0:0:1]:1/api/client',
            'https://closte-api.example.invalid/api/client',
        ];
        foreach ($accepted as $url) {
            closte_test_ini('closte.api_url', $url);
            $this->assertSame($url, closte_stats()['api_url'], $url);
        }
        $refused = [
            'http://app.closte.com/api/client',
            'HTTP://APP.CLOSTE.COM/api/client',
            'http://128.0.0.1/api/client',
            'http://126.255.255.255/api/client',
            'http://10.0.0.1:8099/api/client',
            'http://[::2]/api/client',
            'http://[::ffff:127.0.0.1]/api/client',
            'http://localhost.example.com/api/client',
            'http://localhost./api/client',
            'http://api.localhost/api/client',
            'http://127.1/api/client',
            'http://127.0.0.01/api/client',
            'http://2130706433/api/client',
        ];
        foreach ($refused as $url) {
            closte_test_ini('closte.api_url', $url);
            try {
                closte_list_domains();
                $this->fail("accepted $url");
            } catch (\Closte\ConfigurationException $e) {
                $this->assertSame(sprintf(self::REFUSAL, $url), $e->getMessage(), $url);
            }
        }
        $this->assertSame([], $this->sim->requests());
    }
}
