<?php
/**
 * Why one exchange with Closte did not produce a success. Two families are kept apart:
 * Closte answered and said no (REJECTED), or no usable answer came (TRANSPORT, DECODE).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Failure
{
    public const REJECTED = 'rejected';
    public const TRANSPORT = 'transport';
    public const DECODE = 'decode';

    /**
     * @param array<mixed>|null $body Closte's decoded answer (rejections only)
     */
    private function __construct(
        public readonly string $family,
        public readonly string $kind,
        public readonly int $status,
        public readonly string $message,
        public readonly ?int $retryAfter = null,
        public readonly ?array $body = null,
    ) {
    }

    public static function rejected(int $status, string $kind, string $message, ?int $retryAfter, ?array $body): self
    {
        return new self(self::REJECTED, $kind, $status, $message, $retryAfter, $body);
    }

    public static function transport(string $kind, string $message): self
    {
        return new self(self::TRANSPORT, $kind, 0, $message);
    }

    /** An answer that is not Closte's JSON: a server error when the status says so. */
    public static function decode(int $status, string $message): self
    {
        $kind = $status >= 500 && $status <= 599 ? ErrorKind::SERVER : ErrorKind::BAD_RESPONSE;
        return new self(self::DECODE, $kind, $status, $message);
    }

    /**
     * Safe to retry inside the same call: the request never reached Closte, timed out, or
     * Closte or a gateway said "try again" (429, 502-504). A plain 500 is retryable only later.
     */
    public function retryNow(): bool
    {
        return match ($this->family) {
            self::TRANSPORT => $this->kind !== ErrorKind::TLS,
            self::REJECTED => $this->kind === ErrorKind::RATE_LIMITED || ($this->status >= 502 && $this->status <= 504),
            default => $this->status >= 502 && $this->status <= 504,
        };
    }
}
