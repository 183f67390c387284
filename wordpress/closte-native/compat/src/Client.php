<?php
/**
 * The Closte client of the PHP implementation: the same operations, decisions and retry
 * policy as the extension's, written as coroutines the Scheduler runs (each returns an
 * Outcome). One generic request function, exchange(), sends any endpoint with the
 * per-attempt deadline, the body cap and the retry policy; the operations above it decide
 * what an answer means. Split like the extension's client/: this file holds the type and its
 * construction (client/mod.rs), its methods live in the traits Client\Request (request.rs),
 * Client\Ssl (ssl.rs) and Client\Operations (operations.rs).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Client
{
    use Client\Request;
    use Client\Ssl;
    use Client\Operations;

    public function __construct(public readonly Settings $settings, private readonly string $key)
    {
    }
}
