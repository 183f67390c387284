<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Certificate_Lifecycle;
use Closte_Native\Certificate_Policy;
use Closte_Native\Certificate_Records;

/**
 * A mapped name's certificate (issue 22): the alias at once, the certificate once DNS points
 * here, checked by a TLS handshake with the simulator's front door, backed off and held as
 * Let's Encrypt asks, and nothing more about the name once its alias is gone. Names resolve
 * through closte.resolve (harness.sh): the network and *.ready.test to 127.0.0.1 like the
 * network's host, *.elsewhere.test to 127.0.0.9, anything else to no address.
 */
final class CertificateLifecycleTest extends E2eTestCase
{
    private string $resolve = '';

    protected function setUp(): void
    {
        parent::setUp();
        $this->resolve = $this->setting('closte.resolve');
    }

    protected function tearDown(): void
    {
        $this->setSetting('closte.resolve', $this->resolve);
        parent::tearDown();
    }

    private function setting(string $name): string
    {
        return extension_loaded('closte') ? (string) ini_get($name) : (string) \Closte\Compat\Settings::raw($name);
    }

    private function setSetting(string $name, string $value): void
    {
        if (extension_loaded('closte')) {
            ini_set($name, $value);
        } else {
            \Closte\Compat\Settings::set($name, $value);
        }
    }

    /** The simulator's view of $name's certificate: facts, handshakes (per SNI), requested. */
    private function certificate(string $name): array
    {
        return $this->sim->control('GET', '/certificates')['certificates'][$name] ?? ['handshakes' => 0, 'requested' => 0];
    }

    /** Certificate requests that reached the simulator for $name, whatever the endpoint. */
    private function sslRequests(string $name): int
    {
        return count(array_filter(
            $this->sim->requests(),
            static fn (array $r) => ! str_contains($r['path'], 'domainalias') && ! str_contains($r['path'], 'getdomains') && ($r['fields']['domain'] ?? null) === $name
        ));
    }

    /** @return list<array<string, mixed>> our pending certificate jobs of $hook for $name */
    private function jobs(string $hook, string $name): array
    {
        return array_values(array_filter($this->pendingJobs($hook), static fn (array $job) => $job['args'] === [$name]));
    }

    private function scheduledIn(string $hook, string $name): int
    {
        $jobs = $this->jobs($hook, $name);
        $this->assertCount(1, $jobs, "one $hook job for $name");
        return (int) $jobs[0]['scheduled_at'] - time();
    }

    /** Maps $name on site 1 and runs the add; returns the record id. */
    private function map(string $name): int
    {
        $id = Standin_Domain_Manager::create_domain($name, 1);
        $this->runQueue();
        $this->assertContains($name, $this->sim->domains(), 'the alias is added at once');
        return $id;
    }

    public function testPolicyTimings(): void
    {
        $this->assertSame([60, 60, 600, 6000, 86400, 86400], array_map([Certificate_Policy::class, 'retry_delay'], [0, 1, 2, 3, 4, 9]));
        $now = 1_800_000_000;
        $day = 86400;
        $this->assertNull(Certificate_Policy::held_until([$now - 3 * $day, $now - 2 * $day, $now - $day], $now), '3 requests: not held');
        $this->assertSame($now - 6 * $day + 7 * $day, Certificate_Policy::held_until([$now - 6 * $day, $now - 3 * $day, $now - 2 * $day, $now - 60], $now), '4 in 7 days: held until the oldest leaves');
        $this->assertNull(Certificate_Policy::held_until([$now - 8 * $day, $now - 3 * $day, $now - 2 * $day, $now - 60], $now), 'one of them is older than 7 days');
        $this->assertSame([$now - 60], Certificate_Policy::requests_in_window([$now - 7 * $day, $now - 60], $now));
        $this->assertSame(300, Certificate_Policy::dns_delay(12, $now - 3600, $now, 300));
        $this->assertSame(10, Certificate_Policy::dns_delay(1, $now, $now, 1), 'clamped like Ultimate Multisite');
        $this->assertSame(3600, Certificate_Policy::dns_delay(13, $now - 3600, $now, 300));
        $this->assertSame(86400, Certificate_Policy::dns_delay(40, $now - $day, $now, 300));
    }

    public function testDnsNotReadyAddsTheAliasButNoCertificateRequestUntilDnsPointsHere(): void
    {
        $name = 'shop.elsewhere.test';
        $this->map($name);
        $this->assertSame(0, $this->sslRequests($name), 'the add asked for no certificate');
        $this->assertSame(0, $this->certificate($name)['requested']);
        $this->assertSame('waiting_dns', Certificate_Records::get($name)['state']);

        $this->runQueue(); // our DNS check
        $held = "certificate for $name held: DNS not ready: $name resolves to 127.0.0.9, not to this network's 127.0.0.1 (" . CLOSTE_E2E_NETWORK . ')';
        $this->assertStringContainsString($held, $this->log('integration-closte-ssl'));
        $this->assertEqualsWithDelta(300, $this->scheduledIn(Certificate_Lifecycle::DNS_HOOK, $name), 3, 'checked again at dns_check_interval');
        $this->runQueue(300);
        $this->runQueue(300);
        $this->assertSame(1, substr_count($this->log('integration-closte-ssl'), $held), 'the same reason is logged once');
        $this->assertSame(0, $this->certificate($name)['requested'], 'never a certificate request while DNS is not ready');
        $this->assertSame(0, $this->sslRequests($name));
        $this->assertSame(3, Certificate_Records::get($name)['dns_checks']);

        // The customer points DNS here: the next check requests the certificate.
        $this->setSetting('closte.resolve', $this->resolve . "; $name=127.0.0.1");
        $this->runQueue(300);
        $this->assertSame(1, $this->certificate($name)['requested'], 'requested once DNS is ready');
        $this->assertSame('requested', Certificate_Records::get($name)['state']);
    }

    public function testReadyDnsRequestsThenVerifiesByHandshake(): void
    {
        $name = 'shop.ready.test';
        $this->map($name);
        $this->runQueue(); // DNS check: ready, request
        $this->assertSame(1, $this->certificate($name)['requested']);
        $this->assertEqualsWithDelta(60, $this->scheduledIn(Certificate_Lifecycle::VERIFY_HOOK, $name), 3, 'checked by handshake a minute later');

        sleep(2); // the simulator issues 1 s after the request
        $this->runQueue(60);
        $record = Certificate_Records::get($name);
        $served = $this->certificate($name);
        $this->assertSame('active', $record['state'], json_encode($record));
        $this->assertSame('Closte Sim R1', $record['certificate']['issuer']);
        $this->assertSame((int) $served['not_after'], $record['certificate']['not_after']);
        $this->assertSame(intdiv((int) $served['not_after'] - time(), 86400), $record['certificate']['days_left']);
        $this->assertSame(0, $record['failures']);
        $this->assertGreaterThanOrEqual(1, $served['handshakes']);
        $this->assertStringContainsString("certificate for $name is active: issuer Closte Sim R1, expires " . gmdate('Y-m-d', (int) $served['not_after']), $this->log('integration-closte-ssl'));
        $this->assertSame([], $this->jobs(Certificate_Lifecycle::REQUEST_HOOK, $name));
    }

    public function testUltimateMultisiteDnsConfirmationRequestsAtOnce(): void
    {
        // Our own check would say "elsewhere"; Ultimate Multisite's DNS stage says ready (e.g. a
        // proxy its loopback check accepts): its word starts the request.
        $name = 'proxied.elsewhere.test';
        update_network_option(null, 'standin_dns', [$name => ['127.0.0.1']]);
        Standin_Domain_Manager::create_domain($name, 1);
        $this->runQueue(); // wu_add_domain, then Ultimate Multisite's DNS stage
        $this->assertContains($name, $this->sim->domains());
        $this->assertSame(1, $this->certificate($name)['requested'], 'requested on wu_domain_manager_dns_propagation_finished');
        $record = Certificate_Records::get($name);
        $this->assertSame('ultimate-multisite', $record['dns']['by']);
        $this->assertSame('requested', $record['state']);
        $this->assertSame([], $this->jobs(Certificate_Lifecycle::DNS_HOOK, $name), 'no DNS check of ours is left');
        $this->assertStringNotContainsString('DNS not ready', $this->log('integration-closte-ssl'));
    }

    public function testFailedVerificationsBackOffThenTheFifthRequestIsHeld(): void
    {
        $name = 'backoff.ready.test';
        $this->sim->configure(['ssl_issue_delay_ms' => 600000]); // never issued: the default certificate answers
        $this->map($name);
        $this->runQueue(); // DNS ready: request 1, verify in 60 s
        $expected = [60, 600, 6000, 86400];
        foreach ($expected as $i => $delay) {
            $this->runQueue(86400); // the verification: name mismatch
            $record = Certificate_Records::get($name);
            $this->assertSame('backoff', $record['state']);
            $this->assertSame($i + 1, $record['failures']);
            $this->assertSame('name_mismatch', $record['certificate']['status']);
            $this->assertEqualsWithDelta($delay, $this->scheduledIn(Certificate_Lifecycle::REQUEST_HOOK, $name), 3, 'backoff after failure ' . ($i + 1));
            $this->assertSame($i + 1, $this->certificate($name)['requested']);
            $this->runQueue(86400); // the request after the backoff
        }

        // The fifth request: 4 already in 7 days.
        $record = Certificate_Records::get($name);
        $this->assertSame('held', $record['state']);
        $this->assertSame(4, $this->certificate($name)['requested'], 'the fifth request was not sent');
        $this->assertSame($record['requests'][0] + 7 * 86400, $record['next_at']);
        $this->assertEqualsWithDelta($record['next_at'] - time(), $this->scheduledIn(Certificate_Lifecycle::REQUEST_HOOK, $name), 3);
        $this->assertSame(1, substr_count($this->log('integration-closte-ssl'), "certificate for $name held: 4 certificate requests in 7 days"));

        $retry = Certificate_Lifecycle::retry_now($name);
        $this->assertFalse($retry['ok']);
        $this->assertStringContainsString('is held', $retry['message']);
        $this->assertSame(4, $this->certificate($name)['requested'], 'Retry now does not pass the hold');
    }

    public function testRetryNowSkipsTheBackoffWait(): void
    {
        $name = 'impatient.ready.test';
        $this->sim->configure(['ssl_issue_delay_ms' => 600000]);
        $this->map($name);
        $this->runQueue(); // request 1
        $this->runQueue(60); // verification fails: request 2 waits 60 s
        $this->assertSame('backoff', Certificate_Records::get($name)['state']);
        $this->assertSame(1, $this->certificate($name)['requested']);

        $retry = Certificate_Lifecycle::retry_now($name);
        $this->assertTrue($retry['ok'], $retry['message']);
        $this->assertSame(2, $this->certificate($name)['requested'], 'sent now, not after the wait');
        $this->assertSame('requested', Certificate_Records::get($name)['state']);
        $this->assertSame([], $this->jobs(Certificate_Lifecycle::REQUEST_HOOK, $name), 'the waiting request job is replaced by the verification');
        $this->assertCount(1, $this->jobs(Certificate_Lifecycle::VERIFY_HOOK, $name));
    }

    public function testRemovingTheAliasStopsEveryCheckOfTheName(): void
    {
        $name = 'leaving.ready.test';
        $id = $this->map($name);
        $this->runQueue(); // request; verification pending
        $this->assertCount(1, $this->jobs(Certificate_Lifecycle::VERIFY_HOOK, $name));

        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        $this->assertNotContains($name, $this->sim->domains());
        foreach (Certificate_Lifecycle::HOOKS as $hook) {
            $this->assertSame([], $this->jobs($hook, $name), "no $hook job left");
        }
        $this->assertNull(Certificate_Records::get($name));
        sleep(2);
        $this->runQueue(86400 * 8);
        $this->assertSame(0, $this->certificate($name)['handshakes'], 'no handshake with the name after its alias was removed');

        // A job that was already running (or queued elsewhere) re-checks first.
        Certificate_Lifecycle::run_verify($name);
        Certificate_Lifecycle::run_dns_check($name);
        $this->assertSame(0, $this->certificate($name)['handshakes']);
        $this->assertSame(1, $this->certificate($name)['requested']);
    }

    public function testUnmappingAndMappingAgainKeepsTheRequestCount(): void
    {
        $name = 'churn.ready.test';
        $id = $this->map($name);
        $this->runQueue(); // request 1
        Standin_Domain_Manager::delete_domain($id);
        $this->runQueue();
        $this->map($name);
        $this->assertSame(1, count(Certificate_Records::get($name)['requests']), 'Let\'s Encrypt counts per name, not per alias');
    }

    public function testDnsJobsDueTogetherAreCheckedTogetherEachNameAsAlone(): void
    {
        $waiting = ['one.elsewhere.test', 'two.elsewhere.test', 'three.elsewhere.test'];
        $ready = ['four.ready.test', 'five.ready.test'];
        foreach (array_merge($waiting, $ready) as $name) {
            Standin_Domain_Manager::create_domain($name, 1);
        }
        // The adds only (every job but the certificate jobs): every name's DNS job is then due
        // at once, as after a burst.
        for ($i = 0; $i < 20; $i++) {
            $other = array_values(array_diff(array_unique(array_column(standin_as_jobs(null, 'pending'), 'hook')), Certificate_Lifecycle::HOOKS));
            if ([] === $other || 0 === standin_as_run_queue(time(), 1000, $other)) {
                break;
            }
        }
        $this->assertEqualsCanonicalizing(array_merge($waiting, $ready), $this->sim->domains());
        $this->assertCount(5, $this->dueJobs(Certificate_Lifecycle::DNS_HOOK), 'one DNS job per name, due now');

        // Once the first DNS job has run, the names point here. The jobs after it in the same
        // run still show what DNS said when the first one ran: their checks were made together.
        $after_first = function (): void {
            $this->setSetting('closte.resolve', $this->resolve . '; one.elsewhere.test=127.0.0.1; two.elsewhere.test=127.0.0.1; three.elsewhere.test=127.0.0.1');
        };
        add_action(Certificate_Lifecycle::DNS_HOOK, $after_first, 20);
        try {
            $this->runQueue();
        } finally {
            remove_action(Certificate_Lifecycle::DNS_HOOK, $after_first, 20);
        }

        $log = $this->log('integration-closte-ssl');
        foreach ($waiting as $name) {
            $record = Certificate_Records::get($name);
            $this->assertSame('waiting_dns', $record['state'], $name);
            $this->assertSame(1, $record['dns_checks'], "$name: checked once");
            $this->assertSame(0, $this->sslRequests($name), "$name: no request while DNS is not ready");
            $this->assertSame(1, substr_count($log, "certificate for $name held: DNS not ready: $name resolves to 127.0.0.9, not to this network's 127.0.0.1"), "$name: logged once");
            $this->assertEqualsWithDelta(300, $this->scheduledIn(Certificate_Lifecycle::DNS_HOOK, $name), 3, "$name: its own next DNS job");
        }
        foreach ($ready as $name) {
            $this->assertSame(1, $this->certificate($name)['requested'], "$name: requested by its own job");
            $this->assertSame('requested', Certificate_Records::get($name)['state']);
            $this->assertSame([], $this->jobs(Certificate_Lifecycle::DNS_HOOK, $name));
        }

        // A finding serves its job once: the next checks ask DNS again.
        $this->runQueue(300);
        foreach ($waiting as $name) {
            $this->assertSame(1, $this->certificate($name)['requested'], "$name: requested once DNS points here");
            $this->assertSame(2, Certificate_Records::get($name)['dns_checks']);
        }
    }

    public function testWildcardAliasHasNoCertificateLifecycle(): void
    {
        $name = '*.agency.ready.test';
        $this->map($name);
        $this->assertNull(Certificate_Records::get($name));
        foreach (Certificate_Lifecycle::HOOKS as $hook) {
            $this->assertSame([], $this->pendingJobs($hook));
        }
        $this->assertStringContainsString("certificate for $name: not followed here; Closte issues wildcard certificates with DNS validation", $this->log('integration-closte-ssl'));
        $this->assertSame(0, $this->sslRequests($name));
    }
}
