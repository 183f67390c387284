<?php
/**
 * The one request function of the Closte client (client/request.rs in the extension): exchange()
 * sends any endpoint with the per-attempt deadline, the body cap and the retry policy, and cuts an
 * echoed key out of every answer before anything reads it.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat\Client;

use Closte\Compat\Answer;
use Closte\Compat\ErrorKind;
use Closte\Compat\Failure;
use Closte\Compat\HttpRequest;
use Closte\Compat\HttpResponse;
use Closte\Compat\RetryAfter;
use Closte\Compat\Scheduler;
use Closte\Compat\Sleep;
use Closte\Compat\Stats;

trait Request
{
    /** First retry delay in seconds; doubles per retry, with jitter, up to the cap. */
    private const BACKOFF_BASE = 0.2;
    private const BACKOFF_CAP = 5.0;
    /** A Retry-After longer than this ends the call as rate_limited (a queue retries later). */
    public const MAX_RETRY_AFTER_SECS = 30;
    /** curl errors that are TLS failures: a certificate that failed will fail again. */
    private const TLS_ERRORS = [35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98];

    /**
     * Sends one endpoint, retrying what is safe to retry.
     *
     * @param array<string, string> $fields
     * @return \Generator<int, HttpRequest|Sleep, HttpResponse|null, array{0: Answer|Failure, 1: int}>
     */
    public function exchange(string $method, string $path, array $fields): \Generator
    {
        $attempts = 0;
        while (true) {
            $attempts++;
            $response = yield new HttpRequest($method, $this->settings->apiUrl . $path, $path, ['apikey' => $this->key] + $fields, $this->settings);
            $result = $this->interpret($response, $path);
            Stats::request($result instanceof Failure ? $result->kind : null);
            $delay = null;
            if ($result instanceof Failure && $result->retryNow() && $attempts <= $this->settings->maxRetries) {
                $delay = self::retryDelay($attempts, $result->retryAfter);
            }
            if ($delay === null) {
                return [$result, $attempts];
            }
            Stats::retry();
            yield new Sleep($delay);
        }
    }

    private function interpret(HttpResponse $response, string $path): Answer|Failure
    {
        if ($response->oversized) {
            return Failure::decode($response->status, sprintf("Closte's answer exceeds %d bytes; not read", Scheduler::MAX_BODY_BYTES));
        }
        if ($response->errno === -1) {
            return Failure::transport(ErrorKind::TIMEOUT, sprintf('%s: no complete answer within %ss', $path, $this->settings->timeout));
        }
        if ($response->errno !== 0) {
            $kind = match (true) {
                $response->errno === 28 => ErrorKind::TIMEOUT,
                in_array($response->errno, self::TLS_ERRORS, true) && !self::isResetDuringHandshake($response->error) => ErrorKind::TLS,
                default => ErrorKind::NETWORK,
            };
            return Failure::transport($kind, $this->withoutKey("$path: {$response->error}"));
        }
        $retryAfter = $response->retryAfter === null ? null : RetryAfter::parse($response->retryAfter, time());
        return Answer::decode($response->status, $this->withoutKey($response->body), $retryAfter);
    }

    /** A connection reset while TLS starts is the network's doing, not the certificate's. */
    private static function isResetDuringHandshake(string $error): bool
    {
        $lower = strtolower($error);
        return str_contains($lower, 'reset') || str_contains($lower, 'syscall') || str_contains($lower, 'unexpected eof');
    }

    /**
     * Exponential backoff with jitter (50-100 % of the step); Retry-After raises the wait.
     * Null when the server asks for longer than a call waits.
     */
    private static function retryDelay(int $attempt, ?int $retryAfter): ?float
    {
        if ($retryAfter !== null && $retryAfter > self::MAX_RETRY_AFTER_SECS) {
            return null;
        }
        $step = min(self::BACKOFF_BASE * (2 ** min($attempt - 1, 10)), self::BACKOFF_CAP);
        $backoff = $step * (0.5 + random_int(0, 999) / 2000);
        return max($backoff, (float) ($retryAfter ?? 0));
    }

    /**
     * Whatever an answer may echo of the key ("Invalid API key: <key>") is cut before anything
     * reads it: as sent (form-encoded), as it is, and as JSON escapes it.
     */
    private function withoutKey(string $text): string
    {
        $forms = array_unique(array_filter([
            $this->key,
            trim((string) json_encode($this->key, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), '"'),
            str_replace(['%2A', '%20'], ['*', '+'], rawurlencode($this->key)),
        ], static fn (string $form): bool => $form !== ''));
        return str_replace($forms, '[redacted]', $text);
    }
}
