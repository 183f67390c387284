<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * Decisions the extension and the PHP implementation once made differently (issue 21): each
 * test runs on both and pins the one answer.
 */
final class ParityTest extends ClosteTestCase
{
    public function testAListedNameEndingInANoBreakSpaceIsTheSameAlias(): void
    {
        // Rust's str::trim strips Unicode whitespace; PHP's trim() only ASCII.
        $this->sim->control('POST', '/domains', ['domains' => ["keep.example.com\u{A0}", "\u{3000}Other.Example.com.\u{2003}"]]);
        $listing = closte_list_domains();
        $this->assertTrue($listing['ok']);
        $names = $listing['domains'];
        sort($names);
        $this->assertSame(['keep.example.com', 'other.example.com'], $names);

        $plan = closte_sync(['keep.example.com'], ['prune' => true, 'dry_run' => true]);
        $this->assertTrue($plan['ok']);
        $this->assertSame(['keep.example.com'], $plan['unchanged']);
        $this->assertSame([], $plan['to_add']);
        $this->assertSame(['other.example.com'], $plan['to_remove']);
    }

    /**
     * @return iterable<string, array{string, bool}>
     */
    public static function retryAfterDates(): iterable
    {
        // An HTTP-date's numbers are digits: "+1" is no hour, so the whole date is ignored and
        // the usual backoff retries; a valid date an hour ahead ends the call (over 30 s).
        yield 'signed hour' => ['Fri, 01 Jan 2100 +1:00:00 GMT', true];
        yield 'signed day' => ['Fri, +1 Jan 2100 01:00:00 GMT', true];
        yield 'five-digit year' => ['Fri, 01 Jan 21000 01:00:00 GMT', true];
        // The year 69 is long past (retry now), not 2069 as gmmktime() would read it.
        yield 'year 0069' => ['Tue, 01 Jan 0069 00:00:00 GMT', true];
        yield 'valid, far ahead' => ['Fri, 01 Jan 2100 01:00:00 GMT', false];
    }

    /** @dataProvider retryAfterDates */
    #[DataProvider('retryAfterDates')]
    public function testRetryAfterDatesAreReadAlike(string $date, bool $retried): void
    {
        $this->sim->fault(['kind' => 'status', 'status' => 503, 'path' => '/deletedomainalias', 'count' => 1, 'retry_after_raw' => $date]);
        closte_remove_domain('gone.example.com');
        $removes = array_filter($this->sim->requests(), static fn (array $r): bool => $r['path'] === '/deletedomainalias');
        $this->assertCount($retried ? 2 : 1, $removes);
    }

    public function testAnSslCandidateAnsweringAStatusAbove599WithADomainRefusalIsTheEndpoint(): void
    {
        $sim = \Closte\Tests\Support\Simulator::start(CLOSTE_TEST_SIM, CLOSTE_TEST_KEY, ['--ssl-endpoint', '/installssl']);
        try {
            closte_test_ini('closte.api_url', $sim->apiUrl());
            $sim->control('POST', '/domains', ['domains' => ['a.example.com']]);
            $sim->fault(['kind' => 'status', 'status' => 600, 'error' => 'Invalid or empty domain: a.example.com', 'path' => '/ssl/install', 'count' => 1]);
            $first = closte_request_ssl('a.example.com');
            $this->assertFalse($first['ok']);
            $this->assertSame(600, $first['status']);
            $this->assertSame('invalid_domain', $first['error_kind']);
            $this->assertSame('/ssl/install', $first['endpoint']);
            // Proof judged by the kind alone (ssl.rs): the endpoint is remembered, not probed again.
            $this->assertSame('/ssl/install', closte_stats()['ssl_endpoint']);
            $second = closte_request_ssl('a.example.com');
            $this->assertSame('/ssl/install', $second['endpoint']);
            $this->assertSame(['/ssl/install', '/ssl/install'], array_column($sim->requests(), 'path'));
        } finally {
            $sim->stop();
        }
    }

    public function testTheClosteApiHostIsRefusedAsAnAliasBeforeAnyRequest(): void
    {
        closte_test_ini('closte.api_url', 'https://API.closte-test.example.com./api/client');
        $host = 'api.closte-test.example.com';
        $message = "invalid domain \"$host\": it is the host of the Closte API itself (closte.api_url), not a site's domain";
        $calls = [
            'add' => static fn () => closte_add_domain($host, 3),
            'remove' => static fn () => closte_remove_domain('API.closte-test.example.com.'),
            'request_ssl' => static fn () => closte_request_ssl($host),
            'ssl_status' => static fn () => closte_ssl_status($host),
            'enqueue' => static fn () => closte_enqueue('add_domain', $host, 3),
            'sync' => static fn () => closte_sync(['ok.example.com', $host], ['dry_run' => true]),
        ];
        foreach ($calls as $what => $call) {
            try {
                $call();
                $this->fail("$what accepted the API host");
            } catch (\Closte\InvalidDomainException $e) {
                $this->assertSame(1, $e->getCode(), $what);
                $this->assertSame($what === 'sync' ? "domains[1]: $message" : $message, $e->getMessage(), $what);
            }
        }
        $this->assertSame(0, closte_pending());
        $this->assertSame($host, closte_normalize_domain($host), 'only the calls that act refuse it');

        closte_test_ini('closte.api_url', 'https://app.closte.com/api/client');
        try {
            closte_add_domain('App.Closte.com');
            $this->fail('the default API host was accepted');
        } catch (\Closte\InvalidDomainException $e) {
            $this->assertStringStartsWith('invalid domain "app.closte.com": it is the host of the Closte API itself', $e->getMessage());
        }
        $this->assertSame([], $this->sim->requests());
    }

    public function testArgumentsAreNeitherCoercedNorExtraEvenWithoutStrictTypes(): void
    {
        // The child's script has no strict_types: PHP would coerce "12" and 1.5 for a typed
        // parameter of a user function and let extra arguments through.
        $url = $this->sim->apiUrl();
        $result = PhpProcess::run(<<<PHP
            closte_test_ini('closte.api_url', '$url');
            \$calls = [
                'float site id' => fn () => closte_add_domain('x.example.com', 1.5),
                'numeric string site id' => fn () => closte_remove_domain('x.example.com', '12'),
                'bool site id' => fn () => closte_add_domain('x.example.com', true),
                'named numeric string' => fn () => closte_add_domain(domain: 'x.example.com', site_id: '3'),
                'int domain' => fn () => closte_request_ssl(12),
                'stringable domain' => fn () => closte_ssl_status(new class { public function __toString(): string { return 'x.example.com'; } }),
                'int operation' => fn () => closte_enqueue(1, 'x.example.com'),
                'string timeout' => fn () => closte_wait([], '1.5'),
                'string list' => fn () => closte_sync('x.example.com'),
                'extra argument' => fn () => closte_add_domain('x.example.com', 0, true, 1),
                'extra on none' => fn () => closte_list_domains(1),
                'extra on sync' => fn () => closte_sync(['x.example.com'], null, 1),
            ];
            foreach (\$calls as \$what => \$call) {
                try {
                    \$call();
                    echo "\$what: accepted\n";
                } catch (\Throwable \$e) {
                    echo "\$what: ", get_class(\$e), "\n";
                }
            }
            echo 'pending=', closte_pending(), "\n";
            echo 'int timeout: ', count(closte_wait([], 0)), "\n";
            PHP, ['closte.api_key' => CLOSTE_TEST_KEY, 'error_reporting' => (string) E_ALL, 'display_errors' => 'stderr']);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertSame('', $result['stderr'], 'no deprecation: nothing was coerced');
        $this->assertSame(<<<'TEXT'
            float site id: TypeError
            numeric string site id: TypeError
            bool site id: TypeError
            named numeric string: TypeError
            int domain: TypeError
            stringable domain: TypeError
            int operation: TypeError
            string timeout: TypeError
            string list: TypeError
            extra argument: ArgumentCountError
            extra on none: ArgumentCountError
            extra on sync: ArgumentCountError
            pending=0
            int timeout: 0

            TEXT, $result['stdout']);
        $this->assertSame([], $this->sim->requests(), 'no request reached Closte');
    }

    public function testAnErrorTextOfUnicodeWhitespaceIsBlank(): void
    {
        $this->sim->fault(['kind' => 'status', 'status' => 422, 'error' => "\u{A0}\u{3000}", 'path' => '/ssl/status', 'count' => 1]);
        $result = closte_ssl_status('x.example.com');
        $this->assertFalse($result['ok']);
        $this->assertStringNotContainsString("\u{A0}", (string) $result['error'], 'blank text counts as absent');
        $this->assertSame(422, $result['status']);
    }
}
