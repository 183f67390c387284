<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;

/** closte_sync(): repair drift between a domain list and Closte's aliases. */
final class SyncTest extends ClosteTestCase
{
    public function testAddsWhatIsMissingAndLeavesTheRest(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['present.example.com', 'extra.example.com']]);
        $desired = ['present.example.com', 'Missing-1.Example.com', 'missing-2.example.com', 'missing-1.example.com.'];
        $seen = [];
        $result = closte_sync($desired, ['concurrency' => 4, 'progress' => function (array $r, int $done) use (&$seen) {
            $seen[] = [$r['domain'], $done];
        }]);
        $this->assertTrue($result['ok']);
        $this->assertFalse($result['prune']);
        $this->assertSame(4, $result['concurrency']);
        sort($result['added']);
        $this->assertSame(['missing-1.example.com', 'missing-2.example.com'], $result['added'], 'duplicates count once');
        $this->assertSame(['present.example.com'], $result['unchanged']);
        $this->assertSame([], $result['removed']);
        $this->assertSame([], $result['failed']);
        $this->assertTrue($result['listing']['ok']);
        $this->assertResultShape($result['results']['missing-2.example.com'], 'add_domain', ['ssl']);
        $this->assertCount(2, $seen);
        $this->assertSame([1, 2], array_column($seen, 1));
        $this->assertSame(['extra.example.com', 'missing-1.example.com', 'missing-2.example.com', 'present.example.com'], $this->sim->domains());
        $adds = array_filter($this->sim->requests(), static fn ($r) => $r['path'] === '/adddomainalias');
        $this->assertCount(2, $adds, 'no request for what was already there');
    }

    public function testPruneRemovesWhatIsExtra(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['keep.example.com', 'old.example.com', 'older.example.com']]);
        $result = closte_sync(['keep.example.com', 'new.example.com'], ['prune' => true]);
        $this->assertTrue($result['ok']);
        sort($result['removed']);
        $this->assertSame(['old.example.com', 'older.example.com'], $result['removed']);
        $this->assertSame(['new.example.com'], $result['added']);
        $this->assertSame(['keep.example.com', 'new.example.com'], $this->sim->domains());
    }

    public function testWithoutAListingNothingIsPruned(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['old.example.com']]);
        $this->sim->fault(['kind' => 'status', 'status' => 500, 'path' => '/getdomains', 'count' => 1]);
        $result = closte_sync(['new.example.com'], ['prune' => true]);
        $this->assertFalse($result['ok']);
        $this->assertSame('server', $result['listing']['error_kind']);
        $this->assertSame(['old.example.com'], $this->sim->domains(), 'nothing removed blindly');

        $this->sim->fault(['kind' => 'status', 'status' => 500, 'path' => '/getdomains', 'count' => 1]);
        $adds = closte_sync(['new.example.com']);
        $this->assertSame(['new.example.com'], $adds['added'], 'adds still run without a listing');
    }

    public function testBadInputIsRejectedBeforeAnyRequest(): void
    {
        try {
            closte_sync(['good.example.com', 'https://bad.example.com']);
            $this->fail('a URL was accepted');
        } catch (\Closte\InvalidDomainException $e) {
            $this->assertStringStartsWith('domains[1]: invalid domain "https://bad.example.com"', $e->getMessage());
        }
        foreach ([['concurrency' => 0], ['concurrency' => 'x'], ['progress' => 'no_such_function'], ['prune' => true, 'typo' => 1]] as $options) {
            try {
                closte_sync(['good.example.com'], $options);
                $this->fail('bad options accepted: ' . json_encode($options));
            } catch (\Closte\Exception $e) {
                $this->assertSame(4, $e->getCode());
            }
        }
        try {
            closte_sync([42]);
            $this->fail('a non-string was accepted');
        } catch (\Closte\Exception $e) {
            $this->assertStringContainsString('domains[0] is not a string', $e->getMessage());
        }
        $this->assertSame([], $this->sim->requests());
    }

    public function testConnectionsAreReused(): void
    {
        $before = closte_stats()['connections'];
        $domains = [];
        for ($i = 0; $i < 40; $i++) {
            $domains[] = "reuse-$i.example.com";
        }
        $result = closte_sync($domains, ['concurrency' => 4]);
        $this->assertCount(40, $result['added']);
        $opened = closte_stats()['connections'] - $before;
        $this->assertGreaterThanOrEqual(1, $opened);
        $this->assertLessThanOrEqual(8, $opened, '81 requests over at most a few pooled connections');
    }
}
