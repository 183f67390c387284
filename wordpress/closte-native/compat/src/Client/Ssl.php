<?php
/**
 * The certificate side of the Closte client (client/ssl.rs in the extension): SSL endpoint
 * discovery (once per process and API URL, single flight), the certificate request through the
 * endpoint found, and the certificate status.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat\Client;

use Closte\Compat\Answer;
use Closte\Compat\DomainName;
use Closte\Compat\ErrorKind;
use Closte\Compat\Failure;
use Closte\Compat\Operation;
use Closte\Compat\Outcome;
use Closte\Compat\Sleep;
use Closte\Compat\SslEndpoints;
use Closte\Compat\State;

trait Ssl
{
    /** The SSL endpoints the stock integration tries, in its order; the first that exists is remembered. */
    public const SSL_ENDPOINT_CANDIDATES = ['/ssl/install', '/installssl', '/ssl', '/certificate/install'];

    /** Requests the certificate through the SSL endpoint, discovered once per process and URL. */
    public function requestSsl(DomainName $domain): \Generator
    {
        $started = microtime(true);
        $outcome = new Outcome(Operation::RequestSsl, $domain->name);
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
            [$result, $attempts] = yield from $this->exchange('POST', $known, self::sslFields($domain));
            $outcome->addAttempts($attempts);
            $outcome->setEndpoint($known);
            self::settle($outcome, $result, State::Requested);
        }
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }

    private function discoverSsl(Outcome $outcome, DomainName $domain): \Generator
    {
        foreach (self::SSL_ENDPOINT_CANDIDATES as $path) {
            [$result, $attempts] = yield from $this->exchange('POST', $path, self::sslFields($domain));
            $outcome->addAttempts($attempts);
            $outcome->setEndpoint($path);
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
            self::settle($outcome, $result, State::Requested);
            return;
        }
        SslEndpoints::remember($this->settings->apiUrl, null);
        self::noSslEndpoint($outcome);
    }

    /**
     * An answer other than 404/405 shows that an SSL endpoint exists, unless it could come from
     * something in front of every path (auth check, rate limiter, gateway error: every 5xx is
     * classified `server`). Judged by the kind alone, as ssl.rs does: a 6xx status with a domain
     * refusal's text proves the endpoint as any 4xx refusal does.
     */
    private static function provesEndpointExists(Failure $failure): bool
    {
        return $failure->family === Failure::REJECTED
            && !in_array($failure->kind, [ErrorKind::AUTH, ErrorKind::RATE_LIMITED, ErrorKind::SERVER], true);
    }

    private static function noSslEndpoint(Outcome $outcome): void
    {
        $outcome->setEndpoint(null);
        $outcome->failWith(State::NoEndpoint, ErrorKind::NOT_FOUND, sprintf(
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
        $outcome = new Outcome(Operation::SslStatus, $domain->name);
        $outcome->setEndpoint('/ssl/status');
        [$result, $attempts] = yield from $this->exchange('POST', '/ssl/status', ['domain' => $domain->name]);
        $outcome->addAttempts($attempts);
        self::settle($outcome, $result, State::Checked);
        $outcome->setElapsedMs((microtime(true) - $started) * 1000);
        return $outcome;
    }
}
