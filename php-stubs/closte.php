<?php

/**
 * Stubs for the `closte` PHP extension (IDE completion and static analysis).
 *
 * Checked against the loaded extension by `make stubs-check` (part of `make test`): every
 * function, parameter, type, default and class here must match ReflectionExtension('closte').
 *
 * Result arrays. Every remote operation returns the same shape:
 *   ok          bool     the operation reached its goal ("already exists" / "not there" count)
 *   operation   string   add_domain | remove_domain | request_ssl | ssl_status | list_domains |
 *                        test_connection | check_dns | verify_certificate
 *   domain      ?string  the normalised domain (lower-case, punycode, no trailing dot)
 *   site_id     int      (add/remove only) the site id given
 *   state       string   added | already_exists | removed | not_present | requested | no_endpoint |
 *                        checked | listed | authorized | dns_ready | dns_not_ready | verified |
 *                        failed
 *   status      int      HTTP status of the last answer, 0 when none arrived
 *   error       ?string  Closte's error text, or ours
 *   error_kind  ?string  auth | invalid_domain | rate_limited | server | timeout | network |
 *                        bad_response | not_found | tls (certificate not verified) |
 *                        internal (the extension failed); null on success
 *   retryable   bool     worth trying again later (rate_limited, server, timeout, network,
 *                        internal): exactly when error_kind is one of these
 *   attempts    int      HTTP attempts spent (retries and confirmations included)
 *   elapsed_ms  float    wall time of the operation
 *   endpoint    ?string  the Closte path that produced the answer
 *   response    ?array   Closte's decoded JSON answer
 *   ssl         ?array   (add only) the nested SSL request, same shape; null when the add failed
 *                        or was made with $request_ssl = false
 *   domains     string[] (list_domains only) the aliases Closte holds
 *   dns         ?array   (check_dns only) ready, reason (ready | no_address | elsewhere |
 *                        expected_unresolved), addresses[], expected, expected_addresses[],
 *                        unexpected[], source (override | system); null when a lookup failed
 *   certificate ?array   (verify_certificate only) status (active | expiring | expired |
 *                        not_yet_valid | name_mismatch | untrusted | no_tls | unreachable |
 *                        no_address | refused_address), address, port, issuer,
 *                        issuer_organization, subject, names[], not_before, not_after,
 *                        days_left, fingerprint (SHA-256 hex), checked_at, detail
 *
 * Native functions are strict about types: "12" for an int parameter throws TypeError (the
 * WordPress integration casts the string ids WordPress passes around).
 *
 * @phpcs:disable
 */

namespace Closte {
    /** Base class of every exception the extension throws. Remote failures are never thrown. */
    class Exception extends \Exception
    {
    }

    /** The domain is not a host name Closte can serve; thrown before any request. Code 1. */
    class InvalidDomainException extends \Closte\Exception
    {
    }

    /** No API key, or an unusable setting; thrown before any request. Code 2. */
    class ConfigurationException extends \Closte\Exception
    {
    }
}

namespace {
    /**
     * Adds $domain as an alias of the Closte app (wildcard flag from a leading "*."), then, when
     * the alias was added or already existed and $request_ssl is true, requests its Let's
     * Encrypt certificate. With $request_ssl = false no certificate request is made and `ssl`
     * is null (request it with closte_request_ssl() once DNS points here).
     *
     * @return array<string, mixed> the result shape, with `ssl`
     * @throws \Closte\InvalidDomainException
     * @throws \Closte\ConfigurationException
     */
    function closte_add_domain(string $domain, int $site_id = 0, bool $request_ssl = true): array {}

    /**
     * Removes the alias $domain; an alias that is not there counts as removed.
     *
     * @return array<string, mixed>
     * @throws \Closte\InvalidDomainException
     * @throws \Closte\ConfigurationException
     */
    function closte_remove_domain(string $domain, int $site_id = 0): array {}

    /**
     * Requests the certificate for $domain. The SSL endpoint is discovered once per process (the
     * first of /ssl/install, /installssl, /ssl, /certificate/install that does not answer
     * 404/405) and cached; closte_stats() shows it.
     *
     * @return array<string, mixed>
     * @throws \Closte\InvalidDomainException
     * @throws \Closte\ConfigurationException
     */
    function closte_request_ssl(string $domain): array {}

    /**
     * The certificate status Closte reports for $domain (`response['status']`).
     *
     * @return array<string, mixed>
     * @throws \Closte\InvalidDomainException
     * @throws \Closte\ConfigurationException
     */
    function closte_ssl_status(string $domain): array {}

    /**
     * Whether $domain's DNS points at this network: both names resolved through one resolver
     * (closte.resolve entries first, else the system's, A and AAAA with CNAMEs followed), and
     * $domain is ready when every address it has is one of $expected_host's. Sends nothing to
     * Closte and needs no API key. `ok` is true when both lookups were answered (state
     * `dns_ready` or `dns_not_ready`, `error` null); a resolver failure is state `failed`,
     * error_kind `network` or `timeout`. The finding is in `dns`.
     *
     * @return array<string, mixed> the result shape, with `dns`
     * @throws \Closte\InvalidDomainException for either name, a wildcard included (code 1)
     * @throws \Closte\ConfigurationException
     */
    function closte_check_dns(string $domain, string $expected_host): array {}

    /**
     * The certificate a visitor of $domain sees: resolves it (as closte_check_dns), connects
     * only to public addresses (closte.allow_private_targets: tests), port
     * closte.tls_check_port, makes one TLS handshake with SNI = the name, and classifies the
     * presented certificate: trusted (system roots + closte.verify_ca_file), covering the name,
     * within its validity. Bounded by closte.timeout; sends nothing after the handshake, and
     * nothing to Closte (no API key needed). `ok` when `certificate.status` is active or
     * expiring; state `verified` when a certificate was classified, else `failed`. Failures:
     * a bad certificate or no TLS is error_kind `tls`; unreachable or no address `network` or
     * `timeout`; only non-public addresses `invalid_domain`.
     *
     * @return array<string, mixed> the result shape, with `certificate`
     * @throws \Closte\InvalidDomainException for an invalid or wildcard name (code 1)
     * @throws \Closte\ConfigurationException for a bad setting or an unusable closte.verify_ca_file
     */
    function closte_verify_certificate(string $domain): array {}

    /**
     * The aliases Closte holds for the app, in `domains`.
     *
     * @return array<string, mixed>
     * @throws \Closte\ConfigurationException
     */
    function closte_list_domains(): array {}

    /**
     * Verifies the key and reachability without changing anything on Closte. `ok` with state
     * `authorized`; otherwise `error_kind` tells a bad key (`auth`) from an unreachable API.
     *
     * @return array<string, mixed>
     * @throws \Closte\ConfigurationException
     */
    function closte_test_connection(): array {}

    /**
     * The normal form of $domain that every other function sends and Closte lists: lower case,
     * IDN as punycode, no trailing dot (`*.` kept). Makes no request.
     *
     * @throws \Closte\InvalidDomainException naming the bad part
     */
    function closte_normalize_domain(string $domain): string {}

    /** True when a non-empty API key is configured (CLOSTE_CLIENT_API_KEY or closte.api_key). */
    function closte_detect(): bool {}

    /**
     * The implementation (`extension`; the pure-PHP implementation says `php`), the version and
     * build commit, counters (operations, requests, successes, retries, failures by kind), the key's source
     * (never the key), the API URL, the cached SSL endpoint (string, false for "none exists",
     * null for "not discovered"), and the runtime state (started, pid, worker_threads).
     *
     * @return array<string, mixed>
     */
    function closte_stats(): array {}

    /** The extension's version (the pure-PHP implementation appends "+php"). */
    function closte_version(): string {}

    /**
     * Starts an operation in the background and returns its job id at once (no network
     * wait). $operation: add_domain, remove_domain, request_ssl, ssl_status,
     * verify_certificate or check_dns. The domain and the configuration are checked first,
     * exactly as by the blocking functions.
     *
     * Options: 'request_ssl' => false (add_domain only; default true) adds the alias without
     * its certificate request (`ssl` null), for callers that request it once DNS points here.
     * 'expected_host' => string (check_dns only, and required there): the job is
     * closte_check_dns($domain, $expected_host), the same result; no API key needed, nothing
     * sent to Closte. The extension resolves several at once (closte.concurrency); the PHP
     * implementation's resolver blocks, so its checks run one after another.
     *
     * At request end, jobs still running get closte.drain_timeout seconds; what is still not
     * finished then is aborted, and it and any failure nobody collected are written to PHP's
     * error log with operation and domain, so they can be re-queued.
     *
     * @param array{request_ssl?: bool, expected_host?: string}|null $options
     * @throws \Closte\InvalidDomainException
     * @throws \Closte\ConfigurationException
     * @throws \Closte\Exception for an unknown operation or a bad option (code 4)
     */
    function closte_enqueue(string $operation, string $domain, int $site_id = 0, ?array $options = null): int {}

    /**
     * Waits up to $timeout seconds for the given jobs (every job of this process when empty) and
     * returns results keyed by job id, each the result shape plus `job_id`. A job not finished
     * in time has state "pending"; an unknown or already collected id has state "unknown". Each
     * finished result is returned once.
     *
     * @param int[] $job_ids
     * @return array<int, array<string, mixed>>
     * @throws \Closte\Exception for a timeout outside 0..3600 (code 4)
     */
    function closte_wait(array $job_ids = [], float $timeout = 30.0): array {}

    /** Jobs started with closte_enqueue() and not finished yet. */
    function closte_pending(): int {}

    /**
     * Brings Closte's alias list in line with $domains: one /getdomains, then an add (with its
     * certificate request) for each missing domain and, with 'prune' => true, a remove for each
     * alias not in $domains, `concurrency` at a time over one keep-alive pool. Every domain is
     * validated before anything is sent; duplicates count once.
     *
     * Options: 'prune' (bool, default false), 'dry_run' (bool: list and plan, change nothing),
     * 'concurrency' (1..256, default closte.concurrency), 'protect' (aliases never removed),
     * 'confirm_remove' (prune removes only these: the set an operator confirmed from a dry
     * run), 'allow_empty' (bool: prune against an empty $domains, refused otherwise),
     * 'progress' (callable(array $result, int $done): void, called as each add/remove finishes),
     * 'request_ssl' (bool, default true: false adds aliases without requesting certificates,
     * `ssl` null in their results), 'summary' (bool, default false: leave out unchanged[] and the
     * listing's domains[], which unchanged_count and listed_count count; for a caller of a
     * large network that keeps only their number: at 100,000 names they are megabytes).
     * Pruning never removes a wildcard alias (`*.`), an alias in 'protect', or an alias whose
     * twin (`www.X` for `X`, `X` for `www.X`: Ultimate Multisite serves both forms of a mapped
     * domain) is in $domains or 'protect'; without a listing nothing is pruned (adds still
     * run: an existing alias is a success).
     *
     * Returns: ok, prune, dry_run, concurrency, to_add[] and to_remove[] (the plan), added[],
     * removed[], unchanged[] (not with 'summary'), unchanged_count, failed[], skipped[] (aliases that are not host names, never
     * touched), kept (alias => 'wildcard'|'protected'|'twin': prune candidates kept by a rule,
     * the first that applies in that order),
     * unconfirmed[] (prune candidates outside confirm_remove, not removed), listing (the
     * /getdomains result; its domains[] not with 'summary'), listed_count (the aliases listed;
     * null without a listing), results (domain => result), elapsed_ms.
     *
     * @param string[] $domains
     * @param array{prune?: bool, dry_run?: bool, concurrency?: int, protect?: string[], confirm_remove?: string[], allow_empty?: bool, progress?: callable, request_ssl?: bool, summary?: bool}|null $options
     * @return array<string, mixed>
     * @throws \Closte\InvalidDomainException naming the element, e.g. "domains[3]: invalid domain ..."
     * @throws \Closte\ConfigurationException
     * @throws \Closte\Exception for a bad option, or prune with an empty list (code 4)
     */
    function closte_sync(array $domains, ?array $options = null): array {}
}
