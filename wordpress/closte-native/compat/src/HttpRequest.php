<?php
/**
 * What a client coroutine yields to have one HTTP attempt made (the Scheduler answers with an
 * HttpResponse), and what it yields to wait (Sleep).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class HttpRequest
{
    /**
     * @param array<string, string> $fields form fields (POST body) or query (GET), `apikey` first
     */
    public function __construct(
        public readonly string $method,
        public readonly string $url,
        public readonly string $path,
        public readonly array $fields,
        public readonly Settings $settings,
    ) {
    }
}
