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
    private bool $ok = false;
    private State $state = State::Failed;
    /** HTTP status of the last answer, 0 when there was none. */
    private int $status = 0;
    private ?string $error = null;
    private ?string $errorKind = null;
    private bool $retryable = false;
    /** HTTP attempts spent on this operation (retries and confirmations included). */
    private int $attempts = 0;
    private float $elapsedMs = 0.0;
    /** @var array<mixed>|null Closte's decoded JSON answer, when there was one */
    private ?array $response = null;
    /** The endpoint path that produced the answer. */
    private ?string $endpoint = null;
    /** @var list<string>|null list_domains only */
    private ?array $domains = null;
    /** add_domain only: the nested certificate request */
    private ?Outcome $ssl = null;
    /** check_dns's `dns`, verify_certificate's `certificate` */
    private ?array $details = null;

    public function __construct(public readonly Operation $operation, public readonly ?string $domain)
    {
    }

    public function ok(): bool
    {
        return $this->ok;
    }

    public function error(): ?string
    {
        return $this->error;
    }

    public function errorKind(): ?string
    {
        return $this->errorKind;
    }

    /** @return list<string>|null the aliases a list_domains found */
    public function domains(): ?array
    {
        return $this->domains;
    }

    // The metadata the client fills in; success and failure change only below.

    public function addAttempts(int $attempts): void
    {
        $this->attempts += $attempts;
    }

    public function setElapsedMs(float $elapsedMs): void
    {
        $this->elapsedMs = $elapsedMs;
    }

    public function setEndpoint(?string $endpoint): void
    {
        $this->endpoint = $endpoint;
    }

    /** @param list<string> $domains */
    public function setDomains(array $domains): void
    {
        $this->domains = $domains;
    }

    public function setSsl(Outcome $ssl): void
    {
        $this->ssl = $ssl;
    }

    public function setDetails(array $details): void
    {
        $this->details = $details;
    }

    public function succeed(State $state, int $status, ?array $response): void
    {
        $this->ok = true;
        $this->state = $state;
        $this->status = $status;
        $this->response = $response;
        $this->error = null;
        $this->errorKind = null;
        $this->retryable = false;
    }

    public function succeedWith(State $state, Answer $answer): void
    {
        $this->succeed($state, $answer->status, $answer->body);
    }

    public function fail(Failure $failure): void
    {
        $this->ok = false;
        $this->state = State::Failed;
        $this->status = $failure->status;
        $this->error = $failure->message;
        $this->errorKind = $failure->kind;
        $this->retryable = ErrorKind::isRetryable($failure->kind);
        $this->response = $failure->body;
    }

    /** A failure that is ours, not Closte's (no SSL endpoint exists, a job failed). */
    public function failWith(State $state, string $kind, string $message): void
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
        $array = self::shape($this->ok, $this->operation->value, $this->domain, $siteId, $this->state->value, $this->status, $this->error, $this->errorKind, $this->retryable, $this->attempts, $this->elapsedMs, $this->endpoint);
        $array['response'] = $this->response;
        if ($this->operation === Operation::AddDomain) {
            $array['ssl'] = $this->ssl?->toArray();
        }
        $detailsKey = self::detailsKey($this->operation);
        if ($detailsKey !== null) {
            $array[$detailsKey] = $this->details;
        }
        if ($this->domains !== null) {
            $array['domains'] = $this->domains;
        }
        return $array;
    }

    /** closte_wait's entry for a job not finished (`pending`) or an id naming no job (`unknown`). */
    public static function placeholder(?Operation $operation, ?string $domain, ?int $siteId, ?float $pendingForMs): array
    {
        $array = self::shape(
            false,
            $operation?->value ?? 'unknown',
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
        if ($operation === Operation::AddDomain) {
            $array['ssl'] = null;
        }
        $detailsKey = $operation === null ? null : self::detailsKey($operation);
        if ($detailsKey !== null) {
            $array[$detailsKey] = null;
        }
        return $array;
    }

    /** The key of what a check found: `dns` for check_dns, `certificate` for verify_certificate. */
    private static function detailsKey(Operation $operation): ?string
    {
        return match ($operation) {
            Operation::CheckDns => 'dns',
            Operation::VerifyCertificate => 'certificate',
            default => null,
        };
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
