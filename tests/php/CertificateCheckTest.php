<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\TestPki;
use Closte\Tests\Support\TlsServer;

require_once __DIR__ . '/Support/TlsServer.php';

/**
 * closte_check_dns and closte_verify_certificate (issue 22), on both implementations: names
 * resolved through closte.resolve to loopback, certificates presented by a TLS server on
 * 127.0.0.1 that this test starts (Support/TlsServer.php) with certificates it makes from its
 * own CA (closte.verify_ca_file). Also closte_add_domain's and closte_sync's request_ssl.
 */
final class CertificateCheckTest extends ClosteTestCase
{
    private const DNS_KEYS = ['ready', 'reason', 'addresses', 'expected', 'expected_addresses', 'unexpected', 'source'];
    private const CERTIFICATE_KEYS = [
        'status', 'address', 'port', 'issuer', 'issuer_organization', 'subject', 'names',
        'not_before', 'not_after', 'days_left', 'fingerprint', 'checked_at', 'detail',
    ];

    private static ?TlsServer $server = null;
    private static ?TestPki $pki = null;
    private static string $dir = '';
    /** @var array<string, array{cert: string, key: string}|null> */
    private static array $leaves = [];

    public static function setUpBeforeClass(): void
    {
        self::$dir = sys_get_temp_dir() . '/closte-cert-test-' . bin2hex(random_bytes(6));
        mkdir(self::$dir, 0700);
        self::$pki = new TestPki(self::$dir);
        self::$leaves = [
            'active.test' => self::$pki->leaf('active', ['active.test', 'www.active.test']),
            'soon.test' => self::$pki->leaf('soon', ['soon.test'], 'intermediate', 10),
            'untrusted.test' => self::$pki->leaf('untrusted', ['untrusted.test'], 'stranger'),
            'expired.test' => self::$pki->expiredLeaf('expired', 'expired.test'),
        ];
        self::$server = new TlsServer(self::$dir, array_filter(self::$leaves), self::$pki->leaf('default', ['default.test']));
    }

    public static function tearDownAfterClass(): void
    {
        self::$server?->stop();
        self::$server = null;
        foreach (glob(self::$dir . '/*') ?: [] as $file) {
            unlink($file);
        }
        @rmdir(self::$dir);
    }

    protected function setUp(): void
    {
        parent::setUp();
        closte_test_ini('closte.resolve', 'network.test=127.0.0.1; *.ready.test=127.0.0.1; *.elsewhere.test=127.0.0.9; *.test=127.0.0.1; *=');
        closte_test_ini('closte.allow_private_targets', '1');
        closte_test_ini('closte.tls_check_port', (string) self::$server->port());
        closte_test_ini('closte.verify_ca_file', self::$pki->caFile('root'));
    }

    // closte_check_dns

    public function testANamePointingAtTheMainHostIsReady(): void
    {
        $result = closte_check_dns('Shop.Ready.Test', 'network.test');
        $this->assertResultShape($result, 'check_dns', ['dns']);
        $this->assertTrue($result['ok']);
        $this->assertSame('shop.ready.test', $result['domain']);
        $this->assertSame('dns_ready', $result['state']);
        $this->assertSame([0, 1, null, null], [$result['status'], $result['attempts'], $result['endpoint'], $result['response']]);
        $this->assertSame(self::DNS_KEYS, array_keys($result['dns']));
        $this->assertSame([
            'ready' => true, 'reason' => 'ready', 'addresses' => ['127.0.0.1'], 'expected' => 'network.test',
            'expected_addresses' => ['127.0.0.1'], 'unexpected' => [], 'source' => 'override',
        ], $result['dns']);
    }

    public function testANamePointingElsewhereIsNotReadyAndSaysWhere(): void
    {
        $result = closte_check_dns('shop.elsewhere.test', 'network.test');
        $this->assertTrue($result['ok'], 'both lookups were answered');
        $this->assertSame('dns_not_ready', $result['state']);
        $this->assertNull($result['error']);
        $this->assertSame(['ready' => false, 'reason' => 'elsewhere', 'unexpected' => ['127.0.0.9']], array_intersect_key($result['dns'], array_flip(['ready', 'reason', 'unexpected'])));
        $this->assertSame(['127.0.0.9'], $result['dns']['addresses']);
    }

    public function testANameWithoutAddressIsNotReady(): void
    {
        $result = closte_check_dns('nowhere.example.com', 'network.test');
        $this->assertTrue($result['ok']);
        $this->assertSame('dns_not_ready', $result['state']);
        $this->assertSame(['no_address', [], 'override'], [$result['dns']['reason'], $result['dns']['addresses'], $result['dns']['source']]);
    }

    public function testAWildcardIsRefusedForEitherName(): void
    {
        foreach ([['*.ready.test', 'network.test'], ['shop.ready.test', '*.Network.test']] as [$domain, $expected]) {
            try {
                closte_check_dns($domain, $expected);
                $this->fail("$domain / $expected was accepted");
            } catch (\Closte\InvalidDomainException $e) {
                $wildcard = strtolower(str_starts_with($domain, '*') ? $domain : $expected);
                $this->assertSame(1, $e->getCode());
                $this->assertSame("invalid domain \"$wildcard\": a wildcard name has no address of its own; check a name under it", $e->getMessage());
            }
        }
    }

    public function testABadExpectedHostIsRefusedBeforeAnyLookup(): void
    {
        try {
            closte_check_dns('shop.ready.test', 'https://network.test/');
            $this->fail('a URL was accepted as the expected host');
        } catch (\Closte\InvalidDomainException $e) {
            $this->assertSame(1, $e->getCode());
            $this->assertStringStartsWith('invalid domain "https://network.test/": it is a URL', $e->getMessage());
        }
        $this->expectException(\TypeError::class);
        closte_check_dns('shop.ready.test', 12);
    }

    public function testABadResolveSettingIsAConfigurationErrorNamingTheEntry(): void
    {
        closte_test_ini('closte.resolve', 'a.test=127.0.0.1; b.test');
        try {
            closte_check_dns('a.test', 'network.test');
            $this->fail('the bad setting was accepted');
        } catch (\Closte\ConfigurationException $e) {
            $this->assertSame(2, $e->getCode());
            $this->assertSame('closte.resolve: entry "b.test" has no "=" (expected name=address[,address...])', $e->getMessage());
        }
    }

    // closte_verify_certificate

    /** The certificate's facts as the test made them. */
    private static function made(string $name): array
    {
        $pem = (string) file_get_contents(self::$leaves[$name]['cert']);
        $facts = openssl_x509_parse($pem);
        return [
            'not_before' => $facts['validFrom_time_t'],
            'not_after' => $facts['validTo_time_t'],
            'fingerprint' => openssl_x509_fingerprint($pem, 'sha256'),
        ];
    }

    private function verify(string $name): array
    {
        $result = closte_verify_certificate($name);
        $this->assertResultShape($result, 'verify_certificate', ['certificate']);
        $this->assertSame(self::CERTIFICATE_KEYS, array_keys($result['certificate']));
        $this->assertSame([0, null, null], [$result['status'], $result['endpoint'], $result['response']]);
        return $result;
    }

    public function testATrustedCertificateCoveringTheNameIsActive(): void
    {
        $before = time();
        $result = $this->verify('active.test');
        $certificate = $result['certificate'];
        $this->assertTrue($result['ok'], $certificate['detail']);
        $this->assertSame(['verified', null, null, false, 1], [$result['state'], $result['error'], $result['error_kind'], $result['retryable'], $result['attempts']]);
        $made = self::made('active.test');
        $this->assertSame([
            'status' => 'active',
            'address' => '127.0.0.1',
            'port' => self::$server->port(),
            'issuer' => 'Closte Test R1',
            'issuer_organization' => 'closte tests',
            'subject' => 'active.test',
            'names' => ['active.test', 'www.active.test'],
            'not_before' => $made['not_before'],
            'not_after' => $made['not_after'],
            'fingerprint' => $made['fingerprint'],
        ], array_diff_key($certificate, array_flip(['days_left', 'checked_at', 'detail'])));
        $this->assertGreaterThanOrEqual($before, $certificate['checked_at']);
        $this->assertLessThanOrEqual(time(), $certificate['checked_at']);
        $this->assertSame((int) floor(($certificate['not_after'] - $certificate['checked_at']) / 86400), $certificate['days_left']);
        $this->assertContains($certificate['days_left'], [89, 90]);
        $this->assertStringContainsString('active.test', $certificate['detail']);
    }

    public function testACertificateWithinFourteenDaysIsExpiringAndStillOk(): void
    {
        $result = $this->verify('soon.test');
        $this->assertTrue($result['ok']);
        $this->assertSame('expiring', $result['certificate']['status']);
        $this->assertContains($result['certificate']['days_left'], [9, 10]);
    }

    public function testAnotherNamesCertificateIsANameMismatch(): void
    {
        $result = $this->verify('mismatch.test');
        $this->assertFalse($result['ok']);
        $this->assertSame(['verified', 'tls', false], [$result['state'], $result['error_kind'], $result['retryable']]);
        $this->assertSame('name_mismatch', $result['certificate']['status']);
        $this->assertSame(['default.test'], $result['certificate']['names']);
        $this->assertSame($result['certificate']['detail'], $result['error']);
    }

    public function testACertificateOfAnUnknownCaIsUntrustedAndTheTestCaIsWhatMadeItTrusted(): void
    {
        $result = $this->verify('untrusted.test');
        $this->assertFalse($result['ok']);
        $this->assertSame(['verified', 'tls', 'untrusted', 'Stranger Root'], [$result['state'], $result['error_kind'], $result['certificate']['status'], $result['certificate']['issuer']]);
        closte_test_ini('closte.verify_ca_file', self::$pki->caFile('stranger'));
        $this->assertSame('active', $this->verify('untrusted.test')['certificate']['status'], 'trusted once its CA is an anchor');
        $this->assertSame('untrusted', $this->verify('active.test')['certificate']['status'], 'the system roots do not know the test CA');
    }

    public function testAnExpiredCertificateIsExpired(): void
    {
        if (self::$leaves['expired.test'] === null) {
            $this->fail('no openssl command to sign a certificate valid in the past (scripts/install-deps.sh installs it)');
        }
        $result = $this->verify('expired.test');
        $this->assertFalse($result['ok']);
        $this->assertSame(['verified', 'tls', false, 'expired'], [$result['state'], $result['error_kind'], $result['retryable'], $result['certificate']['status']]);
        $this->assertSame(self::made('expired.test')['not_after'], $result['certificate']['not_after']);
        $this->assertContains($result['certificate']['days_left'], [-1, -2]);
    }

    public function testLoopbackIsRefusedWithoutAllowPrivateTargetsAndNothingConnects(): void
    {
        closte_test_ini('closte.allow_private_targets', '0');
        closte_test_ini('closte.resolve', 'shop.example.com=10.1.2.3,127.0.0.1');
        $connections = self::$server->connections();
        $result = $this->verify('shop.example.com');
        $this->assertFalse($result['ok']);
        $this->assertSame(['failed', 'invalid_domain', false, 0], [$result['state'], $result['error_kind'], $result['retryable'], $result['attempts']]);
        $this->assertSame(['refused_address', '10.1.2.3'], [$result['certificate']['status'], $result['certificate']['address']]);
        $this->assertStringContainsString('10.1.2.3', $result['error']);
        $this->assertSame($connections, self::$server->connections(), 'no connection was made');
    }

    public function testAClosedPortIsUnreachableAndRetryable(): void
    {
        $probe = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) parse_url('tcp://' . stream_socket_get_name($probe, false), PHP_URL_PORT);
        fclose($probe);
        closte_test_ini('closte.tls_check_port', (string) $port);
        $result = $this->verify('active.test');
        $this->assertFalse($result['ok']);
        $this->assertSame(['failed', 'network', true, 1], [$result['state'], $result['error_kind'], $result['retryable'], $result['attempts']]);
        $this->assertSame(['unreachable', '127.0.0.1', $port, null], [$result['certificate']['status'], $result['certificate']['address'], $result['certificate']['port'], $result['certificate']['fingerprint']]);
    }

    public function testAServerWithoutTlsIsNoTlsWithoutAWarning(): void
    {
        $plain = new TlsServer(self::$dir, [], self::$leaves['active.test'], true);
        try {
            closte_test_ini('closte.tls_check_port', (string) $plain->port());
            $result = $this->verify('active.test');
            $this->assertSame(1, $plain->connections());
        } finally {
            $plain->stop();
        }
        $this->assertFalse($result['ok']);
        $this->assertSame(['failed', 'tls', false, 1], [$result['state'], $result['error_kind'], $result['retryable'], $result['attempts']]);
        $this->assertSame(['no_tls', '127.0.0.1', null], [$result['certificate']['status'], $result['certificate']['address'], $result['certificate']['issuer']]);
        $this->assertStringStartsWith('no TLS on 127.0.0.1:' . $result['certificate']['port'] . ': ', $result['error']);
        $this->assertNull(error_get_last(), 'no warning was raised');
    }

    public function testANameWithoutAddressIsNoAddress(): void
    {
        $result = $this->verify('nowhere.example.com');
        $this->assertSame([false, 'failed', 'network', true, 0], [$result['ok'], $result['state'], $result['error_kind'], $result['retryable'], $result['attempts']]);
        $this->assertSame(['no_address', null], [$result['certificate']['status'], $result['certificate']['address']]);
    }

    public function testAWildcardIsRefusedBeforeAnyConnection(): void
    {
        $this->expectException(\Closte\InvalidDomainException::class);
        $this->expectExceptionMessage('invalid domain "*.active.test": a wildcard name has no address of its own; check a name under it');
        closte_verify_certificate('*.active.test');
    }

    public function testAnUnreadableCaFileIsAConfigurationErrorBeforeAnyConnection(): void
    {
        $missing = self::$dir . '/missing.pem';
        closte_test_ini('closte.verify_ca_file', $missing);
        $connections = self::$server->connections();
        try {
            closte_verify_certificate('active.test');
            $this->fail('a missing CA file was accepted');
        } catch (\Closte\ConfigurationException $e) {
            $this->assertSame("closte.verify_ca_file must be a readable PEM file with at least one certificate, got \"$missing\"", $e->getMessage());
        }
        $this->assertSame($connections, self::$server->connections());
    }

    public function testAnEnqueuedCheckGivesTheSameResultWithItsJobId(): void
    {
        $ids = [closte_enqueue('verify_certificate', 'active.test'), closte_enqueue('verify_certificate', 'mismatch.test')];
        $results = closte_wait($ids, 30.0);
        $this->assertSame($ids, array_keys($results));
        $this->assertSame($ids[0], $results[$ids[0]]['job_id']);
        $this->assertSame(['verify_certificate', 'active.test', true, 'active'], [$results[$ids[0]]['operation'], $results[$ids[0]]['domain'], $results[$ids[0]]['ok'], $results[$ids[0]]['certificate']['status']]);
        $this->assertSame('name_mismatch', $results[$ids[1]]['certificate']['status']);
    }

    public function testEnqueuedDnsChecksGiveWhatTheBlockingCheckGivesWithTheirJobIds(): void
    {
        $names = ['Shop.Ready.Test', 'shop.elsewhere.test', 'nowhere.example.com'];
        $ids = [];
        foreach ($names as $name) {
            $ids[] = closte_enqueue('check_dns', $name, 0, ['expected_host' => 'Network.Test']);
        }
        $results = closte_wait($ids, 30.0);
        $this->assertSame($ids, array_keys($results));
        foreach ($names as $i => $name) {
            $blocking = closte_check_dns($name, 'network.test');
            $queued = $results[$ids[$i]];
            $this->assertSame($ids[$i], $queued['job_id']);
            $this->assertResultShape($queued, 'check_dns', ['dns', 'job_id']);
            unset($queued['job_id'], $queued['elapsed_ms'], $blocking['elapsed_ms']);
            $this->assertSame($blocking, $queued, $name);
        }
        $this->assertSame(['dns_ready', 'dns_not_ready', 'dns_not_ready'], array_column($results, 'state'));
        $this->assertSame([], $this->sim->requests(), 'nothing was sent to Closte');
    }

    public function testAnEnqueuedDnsCheckNeedsNoApiKeyAndRefusesWhatTheBlockingCheckRefuses(): void
    {
        closte_test_ini('closte.api_key', '');
        $id = closte_enqueue('check_dns', 'shop.ready.test', 0, ['expected_host' => 'network.test']);
        $this->assertSame('dns_ready', closte_wait([$id], 30.0)[$id]['state'], 'no API key is needed: nothing goes to Closte');
        foreach ([['*.ready.test', 'network.test'], ['shop.ready.test', '*.network.test']] as [$domain, $expected]) {
            try {
                closte_enqueue('check_dns', $domain, 0, ['expected_host' => $expected]);
                $this->fail("$domain / $expected was accepted");
            } catch (\Closte\InvalidDomainException $e) {
                $this->assertSame(1, $e->getCode());
                $this->assertStringEndsWith('a wildcard name has no address of its own; check a name under it', $e->getMessage());
            }
        }
        try {
            closte_enqueue('check_dns', 'shop.ready.test', 0, ['expected_host' => 'https://network.test/']);
            $this->fail('a URL was accepted as the expected host');
        } catch (\Closte\InvalidDomainException $e) {
            $this->assertStringStartsWith('invalid domain "https://network.test/": it is a URL', $e->getMessage());
        }
        $this->assertSame(0, closte_pending(), 'nothing started for a refused check');
    }

    // Against the simulator's TLS front door (its test CA, certificates it issues or is given)

    private function useFrontDoor(): void
    {
        closte_test_ini('closte.tls_check_port', (string) $this->sim->frontDoorPort());
        closte_test_ini('closte.verify_ca_file', $this->sim->caFile());
    }

    public function testEveryKindOfTheFrontDoorIsClassifiedWithItsDatesAndIssuer(): void
    {
        $this->useFrontDoor();
        $expected = [
            'valid' => [true, 'active'],
            'expiring' => [true, 'expiring'],
            'expired' => [false, 'expired'],
            'not_yet_valid' => [false, 'not_yet_valid'],
            'wrong_name' => [false, 'name_mismatch'],
            'untrusted' => [false, 'untrusted'],
        ];
        foreach ($expected as $kind => [$ok, $status]) {
            $name = str_replace('_', '-', $kind) . '.front.test';
            $served = $this->sim->installCertificate($name, ['kind' => $kind]);
            $result = $this->verify($name);
            $certificate = $result['certificate'];
            $this->assertSame([$ok, $status, 'verified'], [$result['ok'], $certificate['status'], $result['state']], "$kind: {$certificate['detail']}");
            $this->assertSame($ok ? null : 'tls', $result['error_kind'], $kind);
            $this->assertSame([$served['names'], $served['not_before'], $served['not_after'], $served['fingerprint']], [$certificate['names'], $certificate['not_before'], $certificate['not_after'], $certificate['fingerprint']], $kind);
            $this->assertSame((int) floor(($certificate['not_after'] - $certificate['checked_at']) / 86400), $certificate['days_left'], $kind);
        }
        $handshakes = array_map(static fn (array $row): int => $row['handshakes'], $this->sim->certificates());
        $this->assertSame(1, $handshakes['valid.front.test'] ?? null, 'one handshake per check, with SNI = the name');
    }

    public function testTheCertificateTheSimulatorIssuesAfterTheRequestIsActive(): void
    {
        $this->useFrontDoor();
        $this->sim->configure(['ssl_issue_delay_ms' => 0]);
        $this->assertSame('name_mismatch', $this->verify('issued.front.test')['certificate']['status'], 'the default certificate before any request');
        $this->assertTrue(closte_add_domain('issued.front.test')['ssl']['ok']);
        $result = $this->verify('issued.front.test');
        $this->assertTrue($result['ok'], $result['certificate']['detail']);
        $this->assertSame(['active', ['issued.front.test'], 'Closte Sim R1', 'closte-sim'], [$result['certificate']['status'], $result['certificate']['names'], $result['certificate']['issuer'], $result['certificate']['issuer_organization']]);
    }

    // closte_add_domain / closte_sync without the certificate request

    /** @return list<string> paths of the SSL requests the simulator received */
    private function sslRequests(): array
    {
        return array_values(array_filter(array_column($this->sim->requests(), 'path'), static fn (string $path): bool => str_contains($path, 'ssl')));
    }

    public function testAnAddWithoutRequestSslMakesNoCertificateRequest(): void
    {
        $result = closte_add_domain('nossl.example.com', 3, false);
        $this->assertTrue($result['ok']);
        $this->assertSame(['added', 3, null], [$result['state'], $result['site_id'], $result['ssl']]);
        $this->assertSame([], $this->sslRequests());
        $this->assertTrue(closte_add_domain('ssl.example.com')['ssl']['ok'], 'the default still requests it');
        $this->assertNotSame([], $this->sslRequests());
    }

    public function testRequestSslIsABoolAndNothingElse(): void
    {
        try {
            closte_add_domain('nossl.example.com', 0, 0);
            $this->fail('an int was accepted as request_ssl');
        } catch (\TypeError $e) {
            // ext-php-rs words it "Invalid value given for argument `request_ssl`.", PHP names the types too.
            $this->assertStringContainsString('request_ssl', $e->getMessage());
        }
        $this->assertSame([], $this->sim->requests(), 'nothing was sent');
    }

    public function testASyncWithoutRequestSslAddsWithoutCertificateRequests(): void
    {
        $report = closte_sync(['one.example.com', 'two.example.com'], ['request_ssl' => false]);
        $this->assertTrue($report['ok']);
        $this->assertSame(['one.example.com', 'two.example.com'], $report['added'] === ['two.example.com', 'one.example.com'] ? array_reverse($report['added']) : $report['added']);
        foreach ($report['results'] as $name => $added) {
            $this->assertNull($added['ssl'], $name);
        }
        $this->assertSame([], $this->sslRequests());
        try {
            closte_sync(['three.example.com'], ['request_ssl' => 'no']);
            $this->fail('a string was accepted as the request_ssl option');
        } catch (\Closte\Exception $e) {
            $this->assertSame(4, $e->getCode());
            $this->assertStringContainsString('request_ssl', $e->getMessage());
        }
    }
}
