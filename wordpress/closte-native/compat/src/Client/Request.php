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
    /** libcurl's error numbers that PHP's curl extension does not define, by libcurl's names. */
    private const CURLE_SSL_ENGINE_INITFAILED = 66;
    private const CURLE_SSL_SHUTDOWN_FAILED = 80;
    private const CURLE_SSL_CRL_BADFILE = 82;
    private const CURLE_SSL_ISSUER_ERROR = 83;
    private const CURLE_SSL_INVALIDCERTSTATUS = 91;
    private const CURLE_SSL_CLIENTCERT = 98;
    /** curl errors that are TLS failures: a certificate that failed will fail again. */
    private const TLS_ERRORS = [
        CURLE_SSL_CONNECT_ERROR,
        CURLE_SSL_ENGINE_NOTFOUND,
        CURLE_SSL_ENGINE_SETFAILED,
        CURLE_SSL_CERTPROBLEM,
        CURLE_SSL_CIPHER,
        CURLE_SSL_CACERT, // libcurl's CURLE_PEER_FAILED_VERIFICATION
        CURLE_FTP_SSL_FAILED, // libcurl's CURLE_USE_SSL_FAILED
        self::CURLE_SSL_ENGINE_INITFAILED,
        CURLE_SSL_CACERT_BADFILE,
        self::CURLE_SSL_SHUTDOWN_FAILED,
        self::CURLE_SSL_CRL_BADFILE,
        self::CURLE_SSL_ISSUER_ERROR,
        CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        self::CURLE_SSL_INVALIDCERTSTATUS,
        self::CURLE_SSL_CLIENTCERT,
    ];

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
                $response->errno === CURLE_OPERATION_TIMEDOUT => ErrorKind::TIMEOUT,
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
