<?php

declare(strict_types=1);

namespace Closte\Tests\Support;

use Closte\Compat\AddressPolicy;
use Closte\Compat\Answer;
use Closte\Compat\CertificateVerdict;
use Closte\Compat\Client;
use Closte\Compat\DnsReadiness;
use Closte\Compat\DomainName;
use Closte\Compat\ErrorKind;
use Closte\Compat\Failure;
use Closte\Compat\ResolveOverrides;
use Closte\Compat\RetryAfter;
use Closte\Compat\Settings;
use Closte\Compat\Sync;
use Closte\ConfigurationException;
use Closte\InvalidDomainException;

/**
 * The PHP runner of the shared vectors (tests/vectors/*.json): each case's input through the
 * PHP implementation's classes (Closte\Compat\*), compared with its expected value. The twin of
 * crates/closte-core/tests/vectors.rs; VectorsTest calls it. It needs the PHP implementation
 * loaded (compat/bootstrap.php), so with the extension loaded VectorsTest runs it in a child
 * `php -n` without the extension. No PHPUnit here: the child has none.
 */
final class VectorRunner
{
    public const DIR = __DIR__ . '/../../vectors';

    /** Retry-After waits above this are compared as "beyond" (see retry_after.json's header). */
    private const LARGEST_EXACT_WAIT = 1000000000000000;

    /** Every vector file and the method that decides its cases (as in vectors.rs). */
    public const FAMILIES = [
        'domain_names.json' => 'domainName',
        'retry_after.json' => 'retryAfterSeconds',
        'failure_classification.json' => 'failureClassification',
        'listing_extraction.json' => 'listingExtraction',
        'answer_decoding.json' => 'answerDecoding',
        'sync_plan.json' => 'syncPlan',
        'settings.json' => 'setting',
        'address_policy.json' => 'addressPolicy',
        'dns_readiness.json' => 'dnsReadiness',
        'certificate_names.json' => 'certificateNames',
        'certificate_status.json' => 'certificateStatus',
        'resolve_overrides.json' => 'resolveOverrides',
    ];

    /**
     * Runs every case of $file. With $changeOne, the expected value of the first compared case
     * is replaced (by null, then by {"changed": true}) before the run, to prove the comparison
     * catches it: the result then holds the runs of both replacements.
     *
     * @return array<string, mixed>
     */
    public static function check(string $file, bool $changeOne = false): array
    {
        $doc = json_decode((string) file_get_contents(self::DIR . "/$file"), true, 512, JSON_THROW_ON_ERROR);
        $result = [
            'about' => $doc['header']['about'] ?? null,
            'cases' => count($doc['cases']),
            'ids' => array_column($doc['cases'], 'id'),
            'bad_drifts' => [],
            'intl' => extension_loaded('intl'),
        ];
        foreach ($doc['cases'] as $case) {
            if (array_key_exists('drift', $case)
                && (!is_string($case['drift']['why'] ?? null) || self::same($case['expected'], $case['drift']['php'] ?? null))) {
                $result['bad_drifts'][] = $case['id']; // a drift says why and differs from expected
            }
        }
        if (!$changeOne) {
            return $result + self::mismatches($file, $doc);
        }
        $index = 0;
        while (self::decide($file, $doc['cases'][$index]['input']) === null) {
            $index++; // a case this run does not compare proves nothing
        }
        $result['changed_id'] = $doc['cases'][$index]['id'];
        $result['changed_runs'] = [];
        foreach ([null, ['changed' => true]] as $replacement) {
            $changed = $doc;
            $changed['cases'][$index]['expected'] = $replacement;
            unset($changed['cases'][$index]['drift']);
            $result['changed_runs'][] = self::mismatches($file, $changed)['mismatches'];
        }
        return $result;
    }

    /**
     * The decision on every case compared with its expected value (a case's `drift.php` when it
     * records a known difference of this implementation): one line per mismatch, and the ids of
     * the cases this run cannot decide. The real run and the proof both go through here.
     *
     * @return array{mismatches: list<string>, not_compared: list<string>}
     */
    private static function mismatches(string $file, array $doc): array
    {
        $found = [];
        $notCompared = [];
        foreach ($doc['cases'] as $case) {
            $actual = self::decide($file, $case['input']);
            if ($actual === null) {
                $notCompared[] = $case['id'];
                continue;
            }
            $expected = array_key_exists('drift', $case) ? $case['drift']['php'] : $case['expected'];
            if (!self::same($expected, $actual)) {
                $flags = JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_INVALID_UTF8_SUBSTITUTE;
                $found[] = sprintf('%s %s: expected %s, got %s', $file, $case['id'], json_encode($expected, $flags), json_encode($actual, $flags));
            }
        }
        return ['mismatches' => $found, 'not_compared' => $notCompared];
    }

    private static function decide(string $file, array $input): ?array
    {
        return self::{self::FAMILIES[$file]}($input);
    }

    /** Strict equality, except that a JSON number is the same whether PHP reads it as int or float. */
    private static function same(mixed $expected, mixed $actual): bool
    {
        if (is_array($expected) && is_array($actual)) {
            ksort($expected);
            ksort($actual);
            if (array_keys($expected) !== array_keys($actual)) {
                return false;
            }
            foreach ($expected as $key => $value) {
                if (!self::same($value, $actual[$key])) {
                    return false;
                }
            }
            return true;
        }
        if ((is_int($expected) || is_float($expected)) && (is_int($actual) || is_float($actual))) {
            return (float) $expected === (float) $actual;
        }
        return $expected === $actual;
    }

    /** DomainName::parse, then refuseApiHost; null for a Unicode name this run cannot convert. */
    private static function domainName(array $input): ?array
    {
        $bytes = isset($input['name_hex']) ? (string) hex2bin($input['name_hex']) : $input['name'];
        try {
            $name = DomainName::parse($bytes);
            if (isset($input['api_url'])) {
                $name = $name->refuseApiHost($input['api_url']);
            }
            return ['name' => $name->name, 'wildcard' => $name->wildcard];
        } catch (InvalidDomainException $e) {
            if (!extension_loaded('intl') && str_contains($e->getMessage(), "PHP's intl extension")) {
                return null; // without intl a Unicode name is refused so (docs/php-implementation.md)
            }
            return ['error' => $e->getMessage()];
        }
    }

    private static function retryAfterSeconds(array $input): array
    {
        $seconds = RetryAfter::parse($input['value'], $input['now']);
        return $seconds !== null && $seconds > self::LARGEST_EXACT_WAIT ? ['beyond' => true] : ['seconds' => $seconds];
    }

    private static function failureFacts(Failure $failure): array
    {
        $retryAfter = $failure->retryAfter;
        return [
            'family' => $failure->family,
            'kind' => $failure->kind,
            'retryable' => ErrorKind::isRetryable($failure->kind),
            'retry_now' => $failure->retryNow(),
            'status' => $failure->status,
            'message' => $failure->message,
            'retry_after' => $retryAfter !== null && $retryAfter > self::LARGEST_EXACT_WAIT ? 'beyond' : $retryAfter,
        ];
    }

    private static function failureClassification(array $input): array
    {
        $retryAfter = $input['retry_after'] === null ? null : RetryAfter::parse($input['retry_after'], $input['now']);
        $result = Answer::decode($input['status'], $input['body'], $retryAfter);
        if ($result instanceof Answer) {
            return $result->success ? ['success' => true] : self::failureFacts($result->rejection());
        }
        return self::failureFacts($result);
    }

    private static function answerDecoding(array $input): array
    {
        $result = Answer::decode($input['status'], $input['body'], null);
        if ($result instanceof Answer) {
            return ['answer' => ['success' => $result->success, 'error' => $result->error, 'body' => $result->body]];
        }
        $facts = self::failureFacts($result);
        return ['failure' => ['family' => $facts['family'], 'kind' => $facts['kind'], 'status' => $facts['status'], 'message' => $facts['message']]];
    }

    private static function listingExtraction(array $input): array
    {
        return ['domains' => Client::extractDomains($input['body'])];
    }

    private static function syncPlan(array $input): array
    {
        $desired = array_map(static fn (string $name) => DomainName::parse($name), $input['desired']);
        $plan = Sync::plan($input['listing'], $desired, [
            'prune' => $input['prune'],
            'protect' => array_fill_keys($input['protect'], true),
            'confirm_remove' => $input['confirmed'] === null ? null : array_fill_keys($input['confirmed'], true),
        ]);
        $strings = static fn (array $list) => array_map('strval', $list);
        return [
            'kept' => array_combine($strings(array_keys($plan['kept'])), array_values($plan['kept'])),
            'skipped' => $strings($plan['skipped']),
            'to_add' => $strings($plan['to_add']),
            'to_remove' => $strings($plan['to_remove']),
            'unchanged' => $strings($plan['unchanged']),
            'unconfirmed' => $strings($plan['unconfirmed']),
        ];
    }

    /** Settings::set, then current(): the value the client then uses, or the exact error. */
    private static function setting(array $input): array
    {
        if (Settings::set($input['setting'], $input['raw']) === false) {
            throw new \LogicException("not a closte setting: {$input['setting']}");
        }
        try {
            $settings = Settings::current();
        } catch (ConfigurationException $e) {
            return ['error' => $e->getMessage()];
        } finally {
            Settings::restore();
        }
        return match ($input['setting']) {
            'closte.api_url' => ['value' => $settings->apiUrl],
            'closte.timeout' => ['value' => $settings->timeout],
            'closte.connect_timeout' => ['value' => $settings->connectTimeout],
            'closte.max_retries' => ['value' => $settings->maxRetries],
            'closte.user_agent' => ['value' => $settings->userAgent],
            'closte.ca_file' => ['value' => $settings->caFile],
            'closte.proxy' => ['value' => $settings->proxy],
            'closte.worker_threads' => ['accepted' => true], // no threads, no value: accepted is the decision
            'closte.drain_timeout' => ['value' => $settings->drainTimeout],
            'closte.concurrency' => ['value' => $settings->concurrency],
            'closte.resolve' => ['value' => $settings->resolve->text],
            'closte.allow_private_targets' => ['value' => $settings->allowPrivateTargets],
            'closte.tls_check_port' => ['value' => $settings->tlsCheckPort],
            'closte.verify_ca_file' => ['value' => $settings->verifyCaFile],
        };
    }

    private static function addressPolicy(array $input): array
    {
        return AddressPolicy::judge($input['address'], $input['allow_private']);
    }

    private static function dnsReadiness(array $input): array
    {
        return DnsReadiness::decide($input['addresses'], $input['expected_addresses']);
    }

    private static function certificateNames(array $input): array
    {
        return ['covers' => CertificateVerdict::covers($input['name'], $input['names'])];
    }

    private static function certificateStatus(array $input): array
    {
        return CertificateVerdict::status($input);
    }

    /** ResolveOverrides::parse, then lookup(): the addresses, system, or the exact error. */
    private static function resolveOverrides(array $input): array
    {
        try {
            $addresses = ResolveOverrides::parse($input['setting'])->lookup($input['name']);
        } catch (ConfigurationException $e) {
            return ['error' => $e->getMessage()];
        }
        return $addresses === null ? ['system' => true] : ['addresses' => $addresses];
    }
}
