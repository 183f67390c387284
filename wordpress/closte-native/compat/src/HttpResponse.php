<?php
/**
 * One finished HTTP attempt: the answer, or the transport error curl reported.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class HttpResponse
{
    public int $status = 0;
    public string $body = '';
    public ?string $retryAfter = null;
    /** curl's error number (0: an answer arrived), or -1 when our own deadline cut the attempt. */
    public int $errno = 0;
    public string $error = '';
    /** The answer was larger than the body cap and was not read. */
    public bool $oversized = false;
}
