<?php
/**
 * closte_sync() of the PHP implementation: one /getdomains, a plan (the same pure rules as
 * the extension's), then the adds and removes `concurrency` at a time over the shared
 * keep-alive connections (curl_multi).
 *
 * Safety rules of pruning: nothing is pruned without a successful listing; a wildcard alias is
 * never pruned; an alias in `protect` is never pruned; an alias whose twin (`www.X` for `X`,
 * `X` for `www.X`) is desired or protected is never pruned, since Ultimate Multisite serves both
 * forms of every mapped domain; with `confirm_remove` only that set is removed (a newer
 * candidate is reported as unconfirmed).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\Exception as ClosteException;
use Closte\InvalidDomainException;

final class Sync
{
    public static function run(array $domains, ?array $options): array
    {
        $settings = Settings::current();
        $parsed = self::parseOptions($options ?? [], $settings);
        // Normal forms only: at 100,000 names a DomainName per name held 10 MiB more and
        // pushed a WordPress preview past a 64 MB memory_limit.
        $desired = self::parseNames($domains, 'domains', $settings->apiUrl);
        if ($parsed['prune'] && $desired === [] && !$parsed['allow_empty']) {
            throw new ClosteException(
                "refusing to prune against an empty domain list: it would remove every alias on Closte; pass 'allow_empty' => true if that is really meant",
                4
            );
        }
        $client = Api::client($settings);
        $started = microtime(true);
        $scheduler = Scheduler::get();
        $listing = $scheduler->run($client->listDomains());
        $plan = self::plan($listing->ok() ? ($listing->domains() ?? []) : null, $desired, $parsed);
        $results = [];
        if (!$parsed['dry_run']) {
            $queue = [];
            foreach ($plan['to_add'] as $name) {
                $queue[] = ['add', $name];
            }
            foreach ($plan['to_remove'] as $name) {
                $queue[] = ['remove', $name];
            }
            $failure = null;
            $worker = static function () use (&$queue, &$results, &$failure, $client, $parsed): \Generator {
                while ($failure === null && ($job = array_shift($queue)) !== null) {
                    [$kind, $name] = $job;
                    $name = DomainName::parse($name); // a normal form: parses to itself
                    $outcome = $kind === 'add' ? yield from $client->addDomain($name, $parsed['request_ssl']) : yield from $client->removeDomain($name);
                    $results[] = $outcome;
                    if ($parsed['progress'] !== null) {
                        try {
                            ($parsed['progress'])($outcome->toArray(), count($results));
                        } catch (\Throwable $error) {
                            $failure = $error; // stops every worker; thrown below
                        }
                    }
                }
            };
            $tasks = [];
            for ($i = 0; $i < min($parsed['concurrency'], max(1, count($queue))); $i++) {
                $tasks[] = $scheduler->spawn($worker());
            }
            $scheduler->pump(INF, static function () use ($scheduler, $tasks, &$failure): bool {
                if ($failure !== null) {
                    return true;
                }
                foreach ($tasks as $task) {
                    if (!$scheduler->isDone($task)) {
                        return false;
                    }
                }
                return true;
            });
            foreach ($tasks as $task) {
                $scheduler->isDone($task) ? $scheduler->take($task) : $scheduler->cancel($task);
            }
            if ($failure !== null) {
                throw new ClosteException('progress callback failed', 4, $failure);
            }
        }
        return self::report($listing, $plan, $parsed, $results, (microtime(true) - $started) * 1000);
    }

    /**
     * What a sync does (or, on a dry run, would do). $listing: Closte's aliases, null when
     * they could not be read.
     *
     * to_add and to_remove hold normal forms (strings), like every other list of the plan.
     *
     * @param list<string>|null $listing
     * @param list<DomainName|string> $desired Normal forms (a string is taken as one).
     */
    public static function plan(?array $listing, array $desired, array $options): array
    {
        $plan = ['to_add' => [], 'to_remove' => [], 'unchanged' => [], 'unchanged_count' => 0, 'kept' => [], 'unconfirmed' => [], 'skipped' => []];
        if ($listing === null) {
            if (!$options['prune']) {
                // An existing alias is a success: adding blind is safe.
                $plan['to_add'] = array_map(static fn (DomainName|string $n): string => $n instanceof DomainName ? $n->name : $n, $desired);
            }
            return $plan; // removing blind could remove the wrong aliases
        }
        // One map of the listing, its value false for a name also desired (unchanged), and one
        // of the adds whose twin is listed: the pruning below asks about an alias's twin only,
        // so the adds no alias is the twin of need no entry (at 100,000 names the map of every
        // add held megabytes that a 64 MB limit has not got).
        $current = array_fill_keys($listing, true);
        $adding = [];
        foreach ($desired as $name) {
            $name = $name instanceof DomainName ? $name->name : $name;
            if (isset($current[$name])) {
                $current[$name] = false;
                $plan['unchanged_count']++;
                if (!($options['summary'] ?? false)) {
                    $plan['unchanged'][] = $name; // with summary only counted: 100,000 names are 1.6 MiB
                }
            } else {
                $plan['to_add'][] = $name;
                if (self::isTwinOfListed($name, $current)) {
                    $adding[$name] = true;
                }
            }
        }
        if (!$options['prune']) {
            return $plan;
        }
        ksort($current, SORT_STRING); // in place: a sorted copy of 100,000 names is megabytes more
        foreach ($current as $alias => $listedOnly) {
            $alias = (string) $alias;
            if ($listedOnly === false) {
                continue; // desired
            }
            $twin = self::twin($alias);
            $name = DomainName::tryParse($alias);
            if ($name === null || $name->name !== $alias) {
                $plan['skipped'][] = $alias;
            } elseif ($name->wildcard) {
                $plan['kept'][$alias] = 'wildcard';
            } elseif (isset($options['protect'][$alias])) {
                $plan['kept'][$alias] = 'protected';
            } elseif (isset($adding[$twin]) || (isset($current[$twin]) && $current[$twin] === false) || isset($options['protect'][$twin])) {
                $plan['kept'][$alias] = 'twin';
            } elseif ($options['confirm_remove'] !== null && !isset($options['confirm_remove'][$alias])) {
                $plan['unconfirmed'][] = $alias;
            } else {
                $plan['to_remove'][] = $alias;
            }
        }
        return $plan;
    }

    /**
     * True when a listed alias has $name as its twin: `www.$name`, or, for `www.X` where X does
     * not start with `www.` itself, X (twin() strips one `www.` and adds one to anything else).
     *
     * @param array<string, bool> $current
     */
    private static function isTwinOfListed(string $name, array $current): bool
    {
        if (isset($current['www.' . $name])) {
            return true;
        }
        if (!str_starts_with($name, 'www.')) {
            return false;
        }
        $bare = substr($name, 4);
        return !str_starts_with($bare, 'www.') && isset($current[$bare]);
    }

    /**
     * The other form of a name that Ultimate Multisite serves along with it: `www.X` for `X`,
     * and `X` for `www.X` (only a whole `www.` label counts: `wwwx.com`'s twin is `www.wwwx.com`).
     */
    private static function twin(string $name): string
    {
        return str_starts_with($name, 'www.') ? substr($name, 4) : 'www.' . $name;
    }

    private static function parseOptions(array $options, Settings $settings): array
    {
        $parsed = [
            'prune' => false, 'dry_run' => false, 'allow_empty' => false, 'concurrency' => $settings->concurrency,
            'protect' => [], 'confirm_remove' => null, 'progress' => null, 'request_ssl' => true, 'summary' => false,
        ];
        foreach ($options as $key => $value) {
            switch ((string) $key) {
                case 'prune':
                case 'dry_run':
                case 'allow_empty':
                    $parsed[$key] = (bool) $value;
                    break;
                case 'concurrency':
                    if (!is_int($value) || $value < 1 || $value > Settings::MAX_CONCURRENCY) {
                        throw new ClosteException(sprintf('option "concurrency" must be an int from 1 to %d', Settings::MAX_CONCURRENCY), 4);
                    }
                    $parsed['concurrency'] = $value;
                    break;
                case 'protect':
                case 'confirm_remove':
                    if (!is_array($value)) {
                        throw new ClosteException("option \"$key\" must be an array of domains", 4);
                    }
                    $set = [];
                    foreach (self::parseList($value, (string) $key) as $name) {
                        $set[$name->name] = true;
                    }
                    $parsed[$key] = $set;
                    break;
                case 'request_ssl':
                case 'summary':
                    if (!is_bool($value)) {
                        throw new ClosteException("option \"$key\" must be a bool", 4);
                    }
                    $parsed[$key] = $value;
                    break;
                case 'progress':
                    if (!is_callable($value)) {
                        throw new ClosteException('option "progress" must be callable', 4);
                    }
                    $parsed['progress'] = $value;
                    break;
                default:
                    throw new ClosteException(sprintf(
                        'unknown option "%s": expected prune, dry_run, concurrency, protect, confirm_remove, allow_empty, progress, request_ssl or summary',
                        Escape::debug((string) $key)
                    ), 4);
            }
        }
        return $parsed;
    }

    /**
     * parseList()'s checks, order and messages, keeping only the normal forms.
     *
     * @return list<string>
     */
    private static function parseNames(array $list, string $what, ?string $apiUrl = null): array
    {
        $names = [];
        $index = 0;
        $same = array_is_list($list);
        foreach ($list as $key => $value) {
            $name = self::parseOne($key, $value, $index++, $what, $apiUrl)->name;
            $same = $same && $name === $value && !isset($names[$name]);
            $names[$name] = true;
        }
        if ($same) {
            // A list of distinct normal forms (what the plugin sends): the caller's own array,
            // shared rather than copied (100,000 names: 1.6 MiB less while the plan is made).
            return $list;
        }
        return array_map('strval', array_keys($names)); // a name like "1" is an int key
    }

    /**
     * Every name is checked before anything is sent; duplicates count once. With $apiUrl, the
     * API's own host is refused too (the desired list; `protect` may name anything).
     *
     * @return list<DomainName>
     */
    private static function parseList(array $list, string $what, ?string $apiUrl = null): array
    {
        $names = [];
        $index = 0;
        foreach ($list as $key => $value) {
            $name = self::parseOne($key, $value, $index++, $what, $apiUrl);
            $names[$name->name] ??= $name;
        }
        return array_values($names);
    }

    /** One entry of a list of names, checked; $index is its position, for the message. */
    private static function parseOne(int|string $key, mixed $value, int $index, string $what, ?string $apiUrl): DomainName
    {
        $label = sprintf('%s[%s]', $what, is_string($key) && $key !== '' ? $key : (is_int($key) ? (string) $key : (string) $index));
        if (!is_string($value)) {
            throw new ClosteException("$label is not a string", 4);
        }
        try {
            $name = DomainName::parse($value);
            if ($apiUrl !== null) {
                $name = $name->refuseApiHost($apiUrl);
            }
        } catch (InvalidDomainException $e) {
            throw new InvalidDomainException("$label: " . $e->getMessage(), 1);
        }
        return $name;
    }

    private static function report(Outcome $listing, array $plan, array $options, array $results, float $elapsedMs): array
    {
        $added = $removed = $failed = [];
        $perDomain = [];
        foreach ($results as $outcome) {
            $name = (string) $outcome->domain;
            if (!$outcome->ok()) {
                $failed[] = $name;
            } elseif ($outcome->operation === Operation::AddDomain) {
                $added[] = $name;
            } else {
                $removed[] = $name;
            }
            $perDomain[$name] = $outcome->toArray();
        }
        $kept = $plan['kept'];
        ksort($kept, SORT_STRING);
        $listed = $listing->domains();
        $listingArray = $listing->toArray();
        if ($options['summary']) {
            unset($listingArray['domains']); // counted in listed_count
        }
        $report = [
            'ok' => $failed === [] && ($listing->ok() || $results !== []),
            'prune' => $options['prune'],
            'dry_run' => $options['dry_run'],
            'concurrency' => $options['concurrency'],
            'to_add' => $plan['to_add'],
            'to_remove' => $plan['to_remove'],
            'added' => $added,
            'removed' => $removed,
            'unchanged' => $plan['unchanged'],
            'unchanged_count' => $plan['unchanged_count'],
            'failed' => $failed,
            'skipped' => $plan['skipped'],
            'kept' => $kept,
            'unconfirmed' => $plan['unconfirmed'],
            'listing' => $listingArray,
            'listed_count' => $listed === null ? null : count($listed),
            'results' => $perDomain,
            'elapsed_ms' => $elapsedMs,
        ];
        if ($options['summary']) {
            unset($report['unchanged']);
        }
        return $report;
    }
}
