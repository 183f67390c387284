<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\Simulator;

/** The remote operations, through the real extension, against the real simulator. */
final class DomainOperationsTest extends ClosteTestCase
{
    public function testAddDomainAddsTheAliasAndRequestsSsl(): void
    {
        $result = closte_add_domain('Shop.Example.COM.', 42);
        $this->assertResultShape($result, 'add_domain', ['site_id', 'ssl']);
        $this->assertTrue($result['ok']);
        $this->assertSame('added', $result['state']);
        $this->assertSame('shop.example.com', $result['domain']);
        $this->assertSame(42, $result['site_id']);
        $this->assertSame(200, $result['status']);
        $this->assertSame(1, $result['attempts']);
        $this->assertSame('/adddomainalias', $result['endpoint']);
        $this->assertTrue($result['response']['success']);

        $ssl = $result['ssl'];
        $this->assertResultShape($ssl, 'request_ssl');
        $this->assertTrue($ssl['ok']);
        $this->assertSame('requested', $ssl['state']);
        $this->assertSame('/ssl/install', $ssl['endpoint']);

        $this->assertSame(['shop.example.com'], $this->sim->domains());
        $requests = $this->sim->requests();
        $this->assertSame('/adddomainalias', $requests[0]['path']);
        $this->assertSame(['domain' => 'shop.example.com', 'wildcard' => '0'], $requests[0]['fields']);
        $this->assertSame('valid', $requests[0]['key']);
        $this->assertSame('/ssl/install', $requests[1]['path']);
        $this->assertSame('letsencrypt', $requests[1]['fields']['type']);
        $this->assertTrue($this->sim->state()['domains'][0]['ssl_requested']);
    }

    public function testNormalizeDomainGivesTheFormClosteListsWithoutARequest(): void
    {
        $this->assertSame('xn--bcher-kva.example', closte_normalize_domain('Bücher.Example.'));
        $this->assertSame('*.shop.example.com', closte_normalize_domain('*.SHOP.example.com'));
        try {
            closte_normalize_domain('my_site.example.com');
            $this->fail('an underscore was accepted');
        } catch (\Closte\InvalidDomainException $e) {
            $this->assertSame(1, $e->getCode());
            $this->assertStringContainsString('label "my_site" contains \'_\'', $e->getMessage());
        }
        $this->assertSame([], $this->sim->requests());
    }

    public function testSiteIdDefaultsToZero(): void
    {
        $this->assertSame(0, closte_add_domain('example.com')['site_id']);
        $this->assertSame(0, closte_remove_domain('example.com')['site_id']);
    }

    public function testWildcardDomainIsFlagged(): void
    {
        $result = closte_add_domain('*.customers.example.com', 3);
        $this->assertTrue($result['ok']);
        $this->assertSame('*.customers.example.com', $result['domain']);
        $request = $this->sim->requests()[0];
        $this->assertSame('1', $request['fields']['wildcard']);
        $this->assertSame('*.customers.example.com', $request['fields']['domain']);
        $this->assertTrue($this->sim->state()['domains'][0]['wildcard']);
    }

    public function testIdnDomainIsSentAsPunycode(): void
    {
        $result = closte_add_domain('Bücher.example');
        $this->assertTrue($result['ok']);
        $this->assertSame(['xn--bcher-kva.example'], $this->sim->domains());
    }

    public function testAddingTwiceIsSuccess(): void
    {
        closte_add_domain('example.com');
        foreach (['Domain alias already exists', 'This domain was already added to the application'] as $text) {
            $this->sim->configure(['already_exists_message' => $text]);
            $again = closte_add_domain('example.com');
            $this->assertTrue($again['ok'], $text);
            $this->assertSame('already_exists', $again['state']);
            $this->assertTrue($again['ssl']['ok'], 'the certificate is still requested');
        }
        $this->assertSame(['example.com'], $this->sim->domains());
    }

    public function testRemoveDomainAndRemovingTwice(): void
    {
        closte_add_domain('example.com');
        $removed = closte_remove_domain('example.com', 7);
        $this->assertResultShape($removed, 'remove_domain', ['site_id']);
        $this->assertTrue($removed['ok']);
        $this->assertSame('removed', $removed['state']);
        $this->assertSame([], $this->sim->domains());

        foreach (['Domain alias not found', 'Alias does not exist'] as $text) {
            $this->sim->configure(['not_found_message' => $text]);
            $again = closte_remove_domain('example.com');
            $this->assertTrue($again['ok'], $text);
            $this->assertSame('not_present', $again['state']);
        }
    }

    public function testListDomains(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['b.example.com', 'a.example.com']]);
        $result = closte_list_domains();
        $this->assertResultShape($result, 'list_domains', ['domains']);
        $this->assertTrue($result['ok']);
        $this->assertSame(['a.example.com', 'b.example.com'], $result['domains']);
        $this->assertNull($result['domain']);
        $this->assertSame('GET', $this->sim->requests()[0]['method']);
    }

    public function testRequestSslAndStatus(): void
    {
        $this->sim->configure(['ssl_issue_delay_ms' => 60000]);
        closte_add_domain('example.com');
        $status = closte_ssl_status('example.com');
        $this->assertResultShape($status, 'ssl_status');
        $this->assertTrue($status['ok']);
        $this->assertSame('pending', $status['response']['status']);

        $this->sim->configure(['ssl_issue_delay_ms' => 0]);
        $this->assertSame('active', closte_ssl_status('example.com')['response']['status']);

        $ssl = closte_request_ssl('example.com');
        $this->assertResultShape($ssl, 'request_ssl');
        $this->assertTrue($ssl['ok']);

        $unknown = closte_request_ssl('unknown.example.com');
        $this->assertFalse($unknown['ok']);
        $this->assertStringContainsString('not an alias', $unknown['error']);
    }

    public function testSslEndpointIsDiscoveredOnceAndShownInStats(): void
    {
        $sim = Simulator::start(CLOSTE_TEST_SIM, CLOSTE_TEST_KEY, ['--ssl-endpoint', '/ssl']);
        try {
            closte_test_ini('closte.api_url', $sim->apiUrl());
            $this->assertNull(closte_stats()['ssl_endpoint'], 'not discovered yet');
            $first = closte_add_domain('a.example.com');
            $this->assertSame('/ssl', $first['ssl']['endpoint']);
            $this->assertSame(3, $first['ssl']['attempts'], '/ssl/install and /installssl answered 404');
            closte_add_domain('b.example.com');
            closte_add_domain('c.example.com');
            $paths = array_count_values(array_column($sim->requests(), 'path'));
            $this->assertSame(1, $paths['/ssl/install']);
            $this->assertSame(1, $paths['/installssl']);
            $this->assertSame(3, $paths['/ssl']);
            $this->assertArrayNotHasKey('/certificate/install', $paths);
            $this->assertSame('/ssl', closte_stats()['ssl_endpoint']);
        } finally {
            $sim->stop();
        }
    }

    public function testNoSslEndpointLeavesTheAliasAdded(): void
    {
        $sim = Simulator::start(CLOSTE_TEST_SIM, CLOSTE_TEST_KEY, ['--ssl-endpoint', 'none']);
        try {
            closte_test_ini('closte.api_url', $sim->apiUrl());
            $result = closte_add_domain('example.com');
            $this->assertTrue($result['ok']);
            $this->assertFalse($result['ssl']['ok']);
            $this->assertSame('no_endpoint', $result['ssl']['state']);
            $this->assertSame('not_found', $result['ssl']['error_kind']);
            $this->assertFalse(closte_stats()['ssl_endpoint']);
            $this->assertSame(['example.com'], $sim->domains());
        } finally {
            $sim->stop();
        }
    }

    public function testConnectionTestChangesNothing(): void
    {
        $result = closte_test_connection();
        $this->assertResultShape($result, 'test_connection');
        $this->assertTrue($result['ok']);
        $this->assertSame('authorized', $result['state']);
        $this->assertSame([], $this->sim->domains());
        $this->assertSame('', $this->sim->requests()[0]['fields']['domain']);
    }

    public function testWrongKeyIsAnAuthFailure(): void
    {
        closte_test_ini('closte.api_key', 'not-the-key');
        foreach ([200, 401] as $status) {
            $this->sim->configure(['auth_status' => $status]);
            $test = closte_test_connection();
            $this->assertFalse($test['ok']);
            $this->assertSame('auth', $test['error_kind']);
            $this->assertFalse($test['retryable']);
            $add = closte_add_domain('example.com');
            $this->assertSame('auth', $add['error_kind']);
            $this->assertSame('Invalid API Key', $add['error']);
            $this->assertNull($add['ssl']);
            $this->assertSame(1, $add['attempts']);
        }
        $this->assertSame([], $this->sim->domains());
    }

    public function testUnreachableApiIsANetworkFailure(): void
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        closte_test_ini('closte.api_url', "http://127.0.0.1:$port/api/client");
        closte_test_ini('closte.max_retries', '1');
        $result = closte_add_domain('example.com');
        $this->assertFalse($result['ok']);
        $this->assertSame('network', $result['error_kind']);
        $this->assertSame(0, $result['status']);
        $this->assertTrue($result['retryable']);
        $this->assertSame(2, $result['attempts']);
        $test = closte_test_connection();
        $this->assertSame('network', $test['error_kind']);
    }

    public function testHangIsCutAtTheTimeout(): void
    {
        closte_test_ini('closte.timeout', '0.5');
        closte_test_ini('closte.max_retries', '0');
        $this->sim->fault(['kind' => 'hang', 'count' => 2]);
        $started = microtime(true);
        $result = closte_list_domains();
        $elapsed = microtime(true) - $started;
        $this->assertSame('timeout', $result['error_kind']);
        $this->assertTrue($result['retryable']);
        $this->assertLessThan(5.0, $elapsed, 'the call ends near its 0.5 s deadline, not at the hang');
    }

    public function testGatewayErrorsAreRetried(): void
    {
        $this->sim->fault(['kind' => 'status', 'status' => 502, 'count' => 2, 'path' => '/adddomainalias']);
        $before = closte_stats();
        $result = closte_add_domain('example.com');
        $after = closte_stats();
        $this->assertTrue($result['ok']);
        $this->assertSame(3, $result['attempts']);
        $this->assertSame(2, $after['retries'] - $before['retries']);
        $this->assertSame(2, $after['failures']['server'] - $before['failures']['server']);
        $this->assertSame(['example.com'], $this->sim->domains());
    }

    public function testMalformedAnswerIsABadResponse(): void
    {
        $this->sim->fault(['kind' => 'malformed', 'count' => 1]);
        $result = closte_list_domains();
        $this->assertFalse($result['ok']);
        $this->assertSame('bad_response', $result['error_kind']);
        $this->assertSame(200, $result['status']);
        $this->assertStringContainsString('malformed JSON', $result['error']);
    }
}
