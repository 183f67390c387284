<?php
/**
 * The result of one remote operation, as the array every function returns. Success and
 * failure change only through succeed()/fail()/failWith(), so every result has the documented
 * shape: a success has no error and no kind; a failure has both, retryable exactly when its
 * kind is.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Outcome
{
    public bool $ok = false;
    public string $state = 'failed';
    public int $status = 0;
    public ?string $error = null;
    public ?string $errorKind = null;
    public bool $retryable = false;
    public int $attempts = 0;
    public float $elapsedMs = 0.0;
    /** @var array<mixed>|null */
    public ?array $response = null;
    public ?string $endpoint = null;
    /** @var list<string>|null list_domains only */
    public ?array $domains = null;
    /** add_domain only: the nested certificate request */
    public ?Outcome $ssl = null;

    public function __construct(public readonly string $operation, public readonly ?string $domain)
    {
    }

    public function succeed(string $state, int $status, ?array $response): void
    {
        $this->ok = true;
        $this->state = $state;
        $this->status = $status;
        $this->response = $response;
        $this->error = null;
        $this->errorKind = null;
        $this->retryable = false;
    }

    public function succeedWith(string $state, Answer $answer): void
    {
        $this->succeed($state, $answer->status, $answer->body);
    }

    public function fail(Failure $failure): void
    {
        $this->ok = false;
        $this->state = 'failed';
        $this->status = $failure->status;
        $this->error = $failure->message;
        $this->errorKind = $failure->kind;
        $this->retryable = ErrorKind::isRetryable($failure->kind);
        $this->response = $failure->body;
    }

    /** A failure that is ours, not Closte's (no SSL endpoint exists, a job failed). */
    public function failWith(string $state, string $kind, string $message): void
    {
        $this->ok = false;
        $this->state = $state;
        $this->error = $message;
        $this->errorKind = $kind;
        $this->retryable = ErrorKind::isRetryable($kind);
    }

    /** The result array, keys in the extension's order; `site_id` when given. */
    public function toArray(?int $siteId = null): array
    {
        $array = self::shape($this->ok, $this->operation, $this->domain, $siteId, $this->state, $this->status, $this->error, $this->errorKind, $this->retryable, $this->attempts, $this->elapsedMs, $this->endpoint);
        $array['response'] = $this->response;
        if ($this->operation === 'add_domain') {
            $array['ssl'] = $this->ssl?->toArray();
        }
        if ($this->domains !== null) {
            $array['domains'] = $this->domains;
        }
        return $array;
    }

    /** closte_wait's entry for a job not finished (`pending`) or an id naming no job (`unknown`). */
    public static function placeholder(?string $operation, ?string $domain, ?int $siteId, ?float $pendingForMs): array
    {
        $array = self::shape(
            false,
            $operation ?? 'unknown',
            $domain,
            $siteId,
            $pendingForMs === null ? 'unknown' : 'pending',
            0,
            $pendingForMs === null ? 'no such job in this process (already collected, or never started here)' : null,
            null,
            false,
            0,
            $pendingForMs ?? 0.0,
            null
        );
        $array['response'] = null;
        if ($operation === 'add_domain') {
            $array['ssl'] = null;
        }
        return $array;
    }

    private static function shape(bool $ok, string $operation, ?string $domain, ?int $siteId, string $state, int $status, ?string $error, ?string $kind, bool $retryable, int $attempts, float $elapsedMs, ?string $endpoint): array
    {
        $array = ['ok' => $ok, 'operation' => $operation, 'domain' => $domain];
        if ($siteId !== null) {
            $array['site_id'] = $siteId;
        }
        return $array + [
            'state' => $state,
            'status' => $status,
            'error' => $error,
            'error_kind' => $kind,
            'retryable' => $retryable,
            'attempts' => $attempts,
            'elapsed_ms' => $elapsedMs,
            'endpoint' => $endpoint,
        ];
    }
}
