<?php
/**
 * What a client coroutine yields to wait (a retry's backoff, a turn for a running slot).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Sleep
{
    public function __construct(public readonly float $seconds)
    {
    }
}
