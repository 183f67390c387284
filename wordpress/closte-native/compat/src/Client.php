<?php
/**
 * The Closte client of the PHP implementation: the same operations, decisions and retry
 * policy as the extension's, written as coroutines the Scheduler runs (each returns an
 * Outcome). One generic request function, exchange(), sends any endpoint with the
 * per-attempt deadline, the body cap and the retry policy; the operations above it decide
 * what an answer means.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Client
{
    /** The SSL endpoints the stock integration tries, in its order; the first that exists is remembered. */
    public const SSL_ENDPOINT_CANDIDATES = ['/ssl/install', '/installssl', '/ssl', '/certificate/install'];
    /** First retry delay in seconds; doubles per retry, with jitter, up to the cap. */
    private const BACKOFF_BASE = 0.2;
    private const BACKOFF_CAP = 5.0;
    /** A Retry-After longer than this ends the call as rate_limited (a queue retries later). */
    public const MAX_RETRY_AFTER_SECS = 30;
    /** curl errors that are TLS failures: a certificate that failed will fail again. */
    private const TLS_ERRORS = [35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98];

    public const OPERATIONS = ['add_domain', 'remove_domain', 'request_ssl', 'ssl_status'];

    public function __construct(public readonly Settings $settings, private readonly string $key)
    {
    }

    /** Runs one domain operation (what closte_enqueue accepts). */
    public function run(string $operation, DomainName $domain): \Generator
    {
        return match ($operation) {
            'add_domain' => $this->addDomain($domain),
            'remove_domain' => $this->removeDomain($domain),
            'request_ssl' => $this->requestSsl($domain),
            'ssl_status' => $this->sslStatus($domain),
        };
    }

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

    /** Adds the alias, then requests its certificate. "Already exists" counts as added. */
    public function addDomain(DomainName $domain): \Generator
    {
        $started = microtime(true);
        $outcome = yield from $this->changeAlias('add_domain', '/adddomainalias', $domain);
        if ($outcome->ok) {
            $outcome->ssl = yield from $this->requestSsl($domain);
        }
        $outcome->elapsedMs = (microtime(true) - $started) * 1000;
        return $outcome;
    }

    /** Removes the alias. "Not there" counts as removed. */
    public function removeDomain(DomainName $domain): \Generator
    {
        $started = microtime(true);
        $outcome = yield from $this->changeAlias('remove_domain', '/deletedomainalias', $domain);
        $outcome->elapsedMs = (microtime(true) - $started) * 1000;
        return $outcome;
    }

    /**
     * Add and remove: one exchange, Closte's idempotent refusal ("already exists" / "not
     * found") read as success, anything unclear settled with /getdomains.
     */
    private function changeAlias(string $operation, string $path, DomainName $domain): \Generator
    {
        $adding = $operation === 'add_domain';
        $outcome = new Outcome($operation, $domain->name);
        $outcome->endpoint = $path;
        [$result, $outcome->attempts] = yield from $this->exchange('POST', $path, ['domain' => $domain->name, 'wildcard' => $domain->wildcard ? '1' : '0']);
        if ($result instanceof Answer) {
            if ($result->success) {
                $outcome->succeedWith($adding ? 'added' : 'removed', $result);
                return $outcome;
            }
            $says = $adding ? ErrorKind::saysAlreadyExists(...) : ErrorKind::saysNotFound(...);
            if ($result->error !== null && $says($result->error)) {
                $outcome->succeedWith($adding ? 'already_exists' : 'not_present', $result);
                return $outcome;
            }
        }
        yield from $this->settleAmbiguous($outcome, self::asFailure($result), $domain, $adding);
        return $outcome;
    }

    /**
     * After a failure whose meaning is unclear (a 5xx, an unknown refusal, a timeout after
     * which the change may have happened, a not-found under HTTP 200), ask /getdomains whether
     * the alias is as wanted. If it is, the operation succeeded; otherwise the failure stands.
     */
    private function settleAmbiguous(Outcome $outcome, Failure $failure, DomainName $domain, bool $wantPresent): \Generator
    {
        $outcome->fail($failure);
        $ambiguous = in_array($failure->kind, [ErrorKind::SERVER, ErrorKind::BAD_RESPONSE, ErrorKind::TIMEOUT], true)
            || ($failure->kind === ErrorKind::NOT_FOUND && $failure->status === 200);
        if (!$ambiguous) {
            return;
        }
        [$listing, $attempts] = yield from $this->exchange('GET', '/getdomains', []);
        $outcome->attempts += $attempts;
        if (!$listing instanceof Answer || !$listing->success) {
            return;
        }
        $present = in_array($domain->name, self::extractDomains($listing->body), true);
        if ($present === $wantPresent) {
            $outcome->succeed($wantPresent ? 'already_exists' : 'not_present', $failure->status, $failure->body);
        }
    }

    /** Requests the certificate through the SSL endpoint, discovered once per process and URL. */
    public function requestSsl(DomainName $domain): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome('request_ssl', $domain->name);
        $url = $this->settings->apiUrl;
        $known = SslEndpoints::get($url);
        if ($known === null) {
            // Single flight: whoever waited here finds the endpoint known, as a rule.
            while (SslEndpoints::isDiscovering($url)) {
                yield new Sleep(0.002);
            }
            $known = SslEndpoints::get($url);
        }
        if ($known === null) {
            SslEndpoints::discovering($url, true);
            try {
                yield from $this->discoverSsl($outcome, $domain);
            } finally {
                SslEndpoints::discovering($url, false);
            }
        } elseif ($known === false) {
            self::noSslEndpoint($outcome);
        } else {
            [$result, $outcome->attempts] = yield from $this->exchange('POST', $known, self::sslFields($domain));
            $outcome->endpoint = $known;
            self::settle($outcome, $result, 'requested');
        }
        $outcome->elapsedMs = (microtime(true) - $started) * 1000;
        return $outcome;
    }

    private function discoverSsl(Outcome $outcome, DomainName $domain): \Generator
    {
        foreach (self::SSL_ENDPOINT_CANDIDATES as $path) {
            [$result, $attempts] = yield from $this->exchange('POST', $path, self::sslFields($domain));
            $outcome->attempts += $attempts;
            $outcome->endpoint = $path;
            if ($result instanceof Failure && in_array($result->status, [404, 405], true)) {
                continue;
            }
            $exists = $result instanceof Answer
                ? $result->success || self::provesEndpointExists($result->rejection())
                : self::provesEndpointExists($result);
            if ($exists) {
                SslEndpoints::remember($this->settings->apiUrl, $path);
            }
            // Without proof either way nothing is remembered; the next call probes again.
            self::settle($outcome, $result, 'requested');
            return;
        }
        SslEndpoints::remember($this->settings->apiUrl, null);
        self::noSslEndpoint($outcome);
    }

    /**
     * An answer other than 404/405 shows that an SSL endpoint exists, unless it could come from
     * something in front of every path (auth check, rate limiter, gateway error).
     */
    private static function provesEndpointExists(Failure $failure): bool
    {
        return $failure->family === Failure::REJECTED
            && !in_array($failure->kind, [ErrorKind::AUTH, ErrorKind::RATE_LIMITED, ErrorKind::SERVER], true)
            && $failure->status < 500;
    }

    /** The common ending of an operation: a success answer is $state, anything else a failure. */
    private static function settle(Outcome $outcome, Answer|Failure $result, string $state): void
    {
        if ($result instanceof Answer && $result->success) {
            $outcome->succeedWith($state, $result);
        } else {
            $outcome->fail(self::asFailure($result));
        }
    }

    /** A refusal (an answer without success) as a failure; a failure as it is. */
    private static function asFailure(Answer|Failure $result): Failure
    {
        return $result instanceof Answer ? $result->rejection() : $result;
    }

    private static function noSslEndpoint(Outcome $outcome): void
    {
        $outcome->endpoint = null;
        $outcome->failWith('no_endpoint', ErrorKind::NOT_FOUND, sprintf(
            "Closte exposes none of the SSL endpoints %s; Closte issues the Let's Encrypt certificate itself once the alias exists and DNS points at the app",
            implode(', ', self::SSL_ENDPOINT_CANDIDATES)
        ));
    }

    private static function sslFields(DomainName $domain): array
    {
        return ['domain' => $domain->name, 'type' => 'letsencrypt'];
    }

    /** The certificate status Closte reports for a domain. */
    public function sslStatus(DomainName $domain): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome('ssl_status', $domain->name);
        $outcome->endpoint = '/ssl/status';
        [$result, $outcome->attempts] = yield from $this->exchange('POST', '/ssl/status', ['domain' => $domain->name]);
        self::settle($outcome, $result, 'checked');
        $outcome->elapsedMs = (microtime(true) - $started) * 1000;
        return $outcome;
    }

    /** The aliases Closte holds for the app. */
    public function listDomains(): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome('list_domains', null);
        $outcome->endpoint = '/getdomains';
        [$result, $outcome->attempts] = yield from $this->exchange('GET', '/getdomains', []);
        if ($result instanceof Answer && $result->success) {
            $outcome->domains = self::extractDomains($result->body);
            unset($result->body['domains']); // the names are in `domains`
            $outcome->succeedWith('listed', $result);
        } else {
            $outcome->fail(self::asFailure($result));
        }
        $outcome->elapsedMs = (microtime(true) - $started) * 1000;
        return $outcome;
    }

    /**
     * Verifies the key and reachability without changing anything: an add with an empty
     * domain, which Closte refuses with "Invalid or empty domain: " when the key is valid.
     */
    public function testConnection(): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome('test_connection', null);
        $outcome->endpoint = '/adddomainalias';
        [$result, $outcome->attempts] = yield from $this->exchange('POST', '/adddomainalias', ['domain' => '', 'wildcard' => '0']);
        if ($result instanceof Answer && ($result->success || str_starts_with((string) $result->error, 'Invalid or empty domain'))) {
            $outcome->succeedWith('authorized', $result);
        } else {
            $outcome->fail(self::asFailure($result));
        }
        $outcome->elapsedMs = (microtime(true) - $started) * 1000;
        return $outcome;
    }

    /**
     * Names from a /getdomains answer: `domains` may hold strings or objects with a
     * `domain`/`name`/`alias`/`domain_name` field. Lower-cased, trailing dot removed.
     *
     * @return list<string>
     */
    public static function extractDomains(array $body): array
    {
        $items = $body['domains'] ?? null;
        if (!is_array($items) || !array_is_list($items)) {
            return [];
        }
        $names = [];
        foreach ($items as $item) {
            $name = null;
            if (is_string($item)) {
                $name = $item;
            } elseif (is_array($item) && !array_is_list($item)) {
                foreach (['domain', 'name', 'alias', 'domain_name'] as $field) {
                    if (isset($item[$field]) && is_string($item[$field])) {
                        $name = $item[$field];
                        break;
                    }
                }
            }
            if ($name !== null) {
                $name = strtolower(rtrim(trim($name), '.'));
                if ($name !== '') {
                    $names[] = $name;
                }
            }
        }
        return $names;
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
