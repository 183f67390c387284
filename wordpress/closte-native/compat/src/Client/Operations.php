<?php
/**
 * The operations of the Closte client (client/operations.rs in the extension): what each one
 * sends and what an answer means (an "already exists" is a success for an add; an unclear
 * failure is settled with /getdomains).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat\Client;

use Closte\Compat\Answer;
use Closte\Compat\CertificateCheck;
use Closte\Compat\DomainName;
use Closte\Compat\ErrorKind;
use Closte\Compat\Failure;
use Closte\Compat\Operation;
use Closte\Compat\Outcome;
use Closte\Compat\State;
use Closte\Compat\Utf8;

trait Operations
{
    /** Runs one domain operation (what closte_enqueue accepts). */
    public function run(Operation $operation, DomainName $domain): \Generator
    {
        return match ($operation) {
            Operation::AddDomain => $this->addDomain($domain),
            Operation::RemoveDomain => $this->removeDomain($domain),
            Operation::RequestSsl => $this->requestSsl($domain),
            Operation::SslStatus => $this->sslStatus($domain),
            Operation::VerifyCertificate => (new CertificateCheck($this->settings))->verify($domain),
            default => throw new \LogicException("{$operation->value} is not an operation on one domain"),
        };
    }

    /**
     * Adds the alias, then (unless $requestSsl is false: the caller requests it once DNS points
     * here) requests its certificate. "Already exists" counts as added.
     */
    public function addDomain(DomainName $domain, bool $requestSsl = true): \Generator
    {
        $started = microtime(true);
        $outcome = yield from $this->changeAlias(Operation::AddDomain, '/adddomainalias', $domain);
        if ($outcome->ok() && $requestSsl) {
            $outcome->setSsl(yield from $this->requestSsl($domain));
        }
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }

    /** Removes the alias. "Not there" counts as removed. */
    public function removeDomain(DomainName $domain): \Generator
    {
        $started = microtime(true);
        $outcome = yield from $this->changeAlias(Operation::RemoveDomain, '/deletedomainalias', $domain);
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }

    /**
     * Add and remove: one exchange, Closte's idempotent refusal ("already exists" / "not
     * found") read as success, anything unclear settled with /getdomains.
     */
    private function changeAlias(Operation $operation, string $path, DomainName $domain): \Generator
    {
        $adding = $operation === Operation::AddDomain;
        $outcome = new Outcome($operation, $domain->name);
        $outcome->setEndpoint($path);
        [$result, $attempts] = yield from $this->exchange('POST', $path, ['domain' => $domain->name, 'wildcard' => $domain->wildcard ? '1' : '0']);
        $outcome->addAttempts($attempts);
        if ($result instanceof Answer) {
            if ($result->success) {
                $outcome->succeedWith($adding ? State::Added : State::Removed, $result);
                return $outcome;
            }
            $says = $adding ? ErrorKind::saysAlreadyExists(...) : ErrorKind::saysNotFound(...);
            if ($result->error !== null && $says($result->error)) {
                $outcome->succeedWith($adding ? State::AlreadyExists : State::NotPresent, $result);
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
        $outcome->addAttempts($attempts);
        if (!$listing instanceof Answer || !$listing->success) {
            return;
        }
        $present = in_array($domain->name, self::extractDomains($listing->body), true);
        if ($present === $wantPresent) {
            $outcome->succeed($wantPresent ? State::AlreadyExists : State::NotPresent, $failure->status, $failure->body);
        }
    }

    /** The common ending of an operation: a success answer is $state, anything else a failure. */
    private static function settle(Outcome $outcome, Answer|Failure $result, State $state): void
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

    /** The aliases Closte holds for the app. */
    public function listDomains(): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome(Operation::ListDomains, null);
        $outcome->setEndpoint('/getdomains');
        [$result, $attempts] = yield from $this->exchange('GET', '/getdomains', []);
        $outcome->addAttempts($attempts);
        if ($result instanceof Answer && $result->success) {
            $outcome->setDomains(self::extractDomains($result->body));
            unset($result->body['domains']); // the names are in `domains`
            $outcome->succeedWith(State::Listed, $result);
        } else {
            $outcome->fail(self::asFailure($result));
        }
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }

    /**
     * Verifies the key and reachability without changing anything: an add with an empty
     * domain, which Closte refuses with "Invalid or empty domain: " when the key is valid.
     */
    public function testConnection(): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome(Operation::TestConnection, null);
        $outcome->setEndpoint('/adddomainalias');
        [$result, $attempts] = yield from $this->exchange('POST', '/adddomainalias', ['domain' => '', 'wildcard' => '0']);
        $outcome->addAttempts($attempts);
        if ($result instanceof Answer && ($result->success || str_starts_with((string) $result->error, 'Invalid or empty domain'))) {
            $outcome->succeedWith(State::Authorized, $result);
        } else {
            $outcome->fail(self::asFailure($result));
        }
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }

    /**
     * Names from a /getdomains answer: `domains` may hold strings or objects with a
     * `domain`/`name`/`alias`/`domain_name` field. Trimmed of Unicode whitespace, lower-cased
     * (ASCII only), trailing dots removed: operations.rs's extract_domains.
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
                // Rust's trim (Unicode whitespace, no NUL), so both implementations list one name.
                $name = strtolower(rtrim(Utf8::trim($name), '.'));
                if ($name !== '') {
                    $names[] = $name;
                }
            }
        }
        return $names;
    }
}
