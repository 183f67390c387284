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

    public function testASummaryCountsTheListingAndTheUnchangedNamesInsteadOfReturningThem(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['same-1.example.com', 'same-2.example.com', 'old.example.com']]);
        $desired = ['same-1.example.com', 'same-2.example.com', 'new.example.com'];
        $whole = closte_sync($desired, ['prune' => true, 'dry_run' => true]);
        $summary = closte_sync($desired, ['prune' => true, 'dry_run' => true, 'summary' => true]);
        $this->assertSame(2, $whole['unchanged_count'], 'counted without the option too');
        $this->assertSame(3, $whole['listed_count']);
        $this->assertCount(3, $whole['listing']['domains']);
        $this->assertSame(
            ['ok', 'prune', 'dry_run', 'concurrency', 'to_add', 'to_remove', 'added', 'removed', 'unchanged_count', 'failed', 'skipped', 'kept', 'unconfirmed', 'listing', 'listed_count', 'results', 'elapsed_ms'],
            array_keys($summary),
            'the same keys in the same order in both implementations'
        );
        $this->assertSame('unchanged_count', array_keys($whole)[9], 'the count follows the list it counts');
        $this->assertArrayNotHasKey('unchanged', $summary);
        $this->assertArrayNotHasKey('domains', $summary['listing']);
        $this->assertSame(2, $summary['unchanged_count']);
        $this->assertSame(3, $summary['listed_count']);
        $same = static fn (array $r): array => array_diff_key($r, ['unchanged' => 1, 'listing' => 1, 'elapsed_ms' => 1]);
        $this->assertSame($same($whole), $same($summary), 'the plan and everything else as without the option');
        $this->assertSame(['new.example.com'], $summary['to_add']);
        $this->assertSame(['old.example.com'], $summary['to_remove']);
        $listing = static fn (array $l): array => array_diff_key($l, ['domains' => 1, 'elapsed_ms' => 1]);
        $this->assertSame($listing($whole['listing']), $listing($summary['listing']));

        $run = closte_sync($desired, ['prune' => true, 'summary' => true, 'request_ssl' => false]);
        $this->assertSame(['new.example.com'], $run['added'], 'a real run with a summary, as the removal slices make it');
        $this->assertSame(['old.example.com'], $run['removed']);
        $this->assertSame(2, $run['unchanged_count']);
        $this->assertArrayNotHasKey('unchanged', $run);

        $this->sim->fault(['kind' => 'status', 'status' => 500, 'path' => '/getdomains', 'count' => 1]);
        $unlisted = closte_sync($desired, ['dry_run' => true, 'summary' => true]);
        $this->assertNull($unlisted['listed_count'], 'no listing: nothing to count, not zero');
        $this->assertSame(0, $unlisted['unchanged_count']);

        try {
            closte_sync($desired, ['dry_run' => true, 'summary' => 1]);
            $this->fail('a summary that is not a bool was accepted');
        } catch (\Closte\Exception $e) {
            $this->assertSame(4, $e->getCode());
            $this->assertSame('option "summary" must be a bool', $e->getMessage());
        }
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
        $before = closte_stats();
        $domains = [];
        for ($i = 0; $i < 40; $i++) {
            $domains[] = "reuse-$i.example.com";
        }
        $result = closte_sync($domains, ['concurrency' => 4]);
        $this->assertCount(40, $result['added']);
        $after = closte_stats();
        // Connections already open in the pool (earlier tests) may serve all of it: 0 is fine.
        $opened = $after['connections'] - $before['connections'];
        $this->assertGreaterThanOrEqual(81, $after['requests'] - $before['requests'], 'a listing, 40 adds, 40 certificate requests');
        $this->assertLessThanOrEqual(8, $opened, '81 requests over at most a few pooled connections');
    }

    public function testADryRunPlansAndChangesNothing(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['keep.example.com', 'old.example.com', '*.net.example.com', 'www.net.example.com']]);
        $plan = closte_sync(['keep.example.com', 'new.example.com'], ['prune' => true, 'dry_run' => true, 'protect' => ['WWW.net.example.com.']]);
        $this->assertTrue($plan['ok']);
        $this->assertTrue($plan['dry_run']);
        $this->assertSame(['new.example.com'], $plan['to_add']);
        $this->assertSame(['old.example.com'], $plan['to_remove']);
        $this->assertSame(['*.net.example.com' => 'wildcard', 'www.net.example.com' => 'protected'], $plan['kept']);
        $this->assertSame(['keep.example.com'], $plan['unchanged']);
        $this->assertSame([], $plan['added']);
        $this->assertSame([], $plan['removed']);
        $this->assertSame([], $plan['results']);
        $this->assertSame(['/getdomains'], array_column($this->sim->requests(), 'path'), 'one listing, no change');
        $this->assertSame(['*.net.example.com', 'keep.example.com', 'old.example.com', 'www.net.example.com'], $this->sim->domains());
    }

    public function testPruneRemovesOnlyTheConfirmedSet(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['a.example.com', 'b.example.com', 'site.example.com']]);
        $plan = closte_sync(['site.example.com'], ['prune' => true, 'dry_run' => true]);
        $this->assertSame(['a.example.com', 'b.example.com'], $plan['to_remove']);
        // Between preview and confirmation another alias appeared and a confirmed one went.
        $this->sim->control('POST', '/domains', ['domains' => ['late.example.com']]);
        closte_remove_domain('b.example.com');
        $run = closte_sync(['site.example.com'], ['prune' => true, 'confirm_remove' => $plan['to_remove']]);
        $this->assertTrue($run['ok']);
        $this->assertSame(['a.example.com'], $run['removed']);
        $this->assertSame(['late.example.com'], $run['unconfirmed'], 'a new candidate is reported, not removed');
        $this->assertSame(['late.example.com', 'site.example.com'], $this->sim->domains());
    }

    public function testPruneNeverRemovesAWildcardAlias(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['*.agency.example.com', 'gone.example.com']]);
        $run = closte_sync(['site.example.com'], ['prune' => true]);
        $this->assertSame(['gone.example.com'], $run['removed']);
        $this->assertSame(['*.agency.example.com' => 'wildcard'], $run['kept']);
        $this->assertContains('*.agency.example.com', $this->sim->domains());
    }

    /** Ultimate Multisite serves both forms of a mapped domain: naming one keeps the other. */
    public function testPruneKeepsTheTwinOfADesiredOrProtectedDomain(): void
    {
        $listed = ['alpha-shop.com', 'beta-shop.com', 'unrelated.example.com', 'www.alpha-shop.com', 'www.beta-shop.com', 'www.gamma-shop.com', 'wwwalpha-shop.com'];
        $this->sim->control('POST', '/domains', ['domains' => $listed]);
        $desired = ['alpha-shop.com', 'www.beta-shop.com'];
        $options = ['prune' => true, 'protect' => ['gamma-shop.com']];
        $kept = ['beta-shop.com' => 'twin', 'www.alpha-shop.com' => 'twin', 'www.gamma-shop.com' => 'twin'];

        $plan = closte_sync($desired, $options + ['dry_run' => true]);
        $this->assertTrue($plan['ok']);
        $this->assertSame($kept, $plan['kept']);
        $this->assertSame(['unrelated.example.com', 'wwwalpha-shop.com'], $plan['to_remove'], 'an unrelated alias, and one that only starts with www');
        $this->assertSame($listed, $this->sim->domains(), 'a dry run changes nothing');

        $run = closte_sync($desired, $options);
        $this->assertTrue($run['ok']);
        $this->assertSame($kept, $run['kept']);
        sort($run['removed']);
        $this->assertSame(['unrelated.example.com', 'wwwalpha-shop.com'], $run['removed']);
        $this->assertSame(['alpha-shop.com', 'beta-shop.com', 'www.alpha-shop.com', 'www.beta-shop.com', 'www.gamma-shop.com'], $this->sim->domains());
        $removals = array_column(array_filter($this->sim->requests(), static fn ($r) => $r['path'] === '/deletedomainalias'), 'fields');
        $this->assertEqualsCanonicalizing(['unrelated.example.com', 'wwwalpha-shop.com'], array_column($removals, 'domain'), 'no request touched a twin');
    }

    /** Protecting the alias itself is reported as protected, not as a twin; a wildcard stays a wildcard. */
    public function testTheKeptRulesApplyInOrder(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['*.alpha-shop.com', 'www.alpha-shop.com', 'www.beta-shop.com']]);
        $run = closte_sync(['alpha-shop.com', 'beta-shop.com'], ['prune' => true, 'protect' => ['www.alpha-shop.com']]);
        $this->assertSame(['*.alpha-shop.com' => 'wildcard', 'www.alpha-shop.com' => 'protected', 'www.beta-shop.com' => 'twin'], $run['kept']);
        $this->assertEqualsCanonicalizing(['alpha-shop.com', 'beta-shop.com'], $run['added']);
        $this->assertSame([], $run['removed']);
    }

    public function testPruneWithAnEmptyListIsRefusedUnlessAllowed(): void
    {
        $this->sim->control('POST', '/domains', ['domains' => ['one.example.com', 'two.example.com']]);
        try {
            closte_sync([], ['prune' => true]);
            $this->fail('an empty list was pruned against');
        } catch (\Closte\Exception $e) {
            $this->assertSame(4, $e->getCode());
            $this->assertStringContainsString('refusing to prune against an empty domain list', $e->getMessage());
            $this->assertStringContainsString("'allow_empty' => true", $e->getMessage());
        }
        $this->assertSame([], $this->sim->requests(), 'refused before any request');
        $this->assertSame(['one.example.com', 'two.example.com'], $this->sim->domains());

        $this->assertSame([], closte_sync([])['added'], 'an empty list without prune is harmless');
        $all = closte_sync([], ['prune' => true, 'allow_empty' => true]);
        sort($all['removed']); // completion order
        $this->assertSame(['one.example.com', 'two.example.com'], $all['removed']);
    }

    public function testListOptionsAreValidatedLikeDomains(): void
    {
        foreach (['protect', 'confirm_remove'] as $option) {
            try {
                closte_sync(['site.example.com'], ['prune' => true, $option => ['ok.example.com', 'not a domain']]);
                $this->fail("$option accepted a bad name");
            } catch (\Closte\InvalidDomainException $e) {
                $this->assertStringStartsWith("{$option}[1]: invalid domain", $e->getMessage());
            }
            try {
                closte_sync(['site.example.com'], [$option => 'ok.example.com']);
                $this->fail("$option accepted a string");
            } catch (\Closte\Exception $e) {
                $this->assertSame(4, $e->getCode());
                $this->assertStringContainsString("option \"$option\" must be an array of domains", $e->getMessage());
            }
        }
        $this->assertSame([], $this->sim->requests());
    }
}
