<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;

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
}
