<?php
/**
 * The per-process job table of the PHP implementation (jobs.rs in the extension):
 * closte_enqueue / closte_wait / closte_pending, and the drain at the end of the request.
 *
 * The difference from the extension: PHP has no thread to run a job while the script goes on.
 * A job starts its first request at once (closte_enqueue pumps the loop without waiting) and
 * advances whenever a closte_* function runs; closte_wait() runs it to its end, and so does
 * the end of the request, for closte.drain_timeout seconds. What is not finished then is
 * aborted and, with any failure nobody collected, written to PHP's error log with operation
 * and domain, exactly like the extension does, so it can be re-queued.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class JobTable
{
    /** @var array<int, array{operation: Operation, domain: string, site_id: ?int, started: float, task: ?int, outcome: ?Outcome}> */
    private static array $entries = [];
    /**
     * Jobs waiting for one of the closte.concurrency slots, in submission order (ids
     * $nextToStart to $nextId - 1): started when a running job ends, never polled, so that
     * 10,000 waiting jobs cost nothing per loop round.
     *
     * @var array<int, array{0: \Closure(): \Generator, 1: int}> job id => [its coroutine, not
     *      started yet; its concurrency limit (the settings it was submitted with)]
     */
    private static array $queue = [];
    private static int $nextId = 1;
    private static int $nextToStart = 1;
    private static int $running = 0;
    /** Jobs without an outcome yet: counted, not scanned, for closte_pending and the drain. */
    private static int $unfinished = 0;
    private static ?int $pid = null;
    private static bool $drainRegistered = false;

    /** $requestSsl: false adds the alias without its certificate request (add_domain only). */
    public static function submit(Client $client, Operation $operation, DomainName $domain, ?int $siteId, bool $requestSsl = true): int
    {
        return self::submitWork(
            $operation,
            $domain->name,
            $siteId,
            $client->settings->concurrency,
            static fn (): \Generator => $operation === Operation::AddDomain
                ? $client->addDomain($domain, $requestSsl)
                : $client->run($operation, $domain)
        );
    }

    /**
     * A job of $operation on $domain: $work() makes its coroutine (returning the Outcome), run
     * when one of $concurrency slots is free.
     *
     * @param \Closure(): \Generator $work
     */
    public static function submitWork(Operation $operation, string $domain, ?int $siteId, int $concurrency, \Closure $work): int
    {
        self::forgetInheritedJobs();
        $id = self::$nextId++;
        self::$entries[$id] = [
            'operation' => $operation,
            'domain' => $domain,
            'site_id' => $siteId,
            'started' => microtime(true),
            'task' => null,
            'outcome' => null,
        ];
        self::$unfinished++;
        $start = static function () use ($operation, $domain, $id, $work): \Generator {
            $owner = getmypid();
            try {
                $outcome = yield from $work();
            } catch (\Throwable $error) {
                $outcome = new Outcome($operation, $domain);
                $outcome->failWith(State::Failed, ErrorKind::INTERNAL, 'internal error in the closte PHP implementation: ' . $error->getMessage());
            } finally {
                // A forked child drops the parent's loop, and with it this coroutine: its finally
                // runs there, but the slot it held is the parent's, not one of the child's.
                if (getmypid() === $owner) {
                    self::$running--;
                }
            }
            if (isset(self::$entries[$id])) {
                self::$entries[$id]['outcome'] = $outcome;
                self::$unfinished--;
            }
            self::startQueued();
        };
        self::$queue[$id] = [$start, max(1, $concurrency)];
        if (!self::$drainRegistered) {
            self::$drainRegistered = true;
            register_shutdown_function([self::class, 'drainAtShutdown']);
        }
        self::startQueued();
        Scheduler::get()->pump(0.0); // sends the first request without waiting for it
        return $id;
    }

    /** At most closte.concurrency jobs of this process talk to Closte at once; the rest wait in line. */
    private static function startQueued(): void
    {
        while (self::$nextToStart < self::$nextId) {
            $id = self::$nextToStart;
            [$start, $limit] = self::$queue[$id];
            if (self::$running >= $limit) {
                return;
            }
            unset(self::$queue[$id]);
            self::$nextToStart++;
            self::$running++;
            self::$entries[$id]['task'] = Scheduler::get()->spawn($start());
        }
    }

    public static function pending(): int
    {
        self::forgetInheritedJobs();
        if (self::$entries !== []) {
            Scheduler::get()->pump(0.0);
        }
        return self::$unfinished;
    }

    /**
     * @param list<int>|null $ids null: every job of this process
     * @return array<int, array<string, mixed>> results keyed by job id
     */
    public static function wait(?array $ids, float $timeout): array
    {
        self::forgetInheritedJobs();
        $all = $ids === null;
        $ids ??= array_keys(self::$entries);
        $done = static function () use ($ids, $all): bool {
            if ($all) {
                return self::$unfinished === 0;
            }
            foreach ($ids as $id) {
                if (isset(self::$entries[$id]) && self::$entries[$id]['outcome'] === null) {
                    return false;
                }
            }
            return true;
        };
        if (self::$entries !== []) {
            Scheduler::get()->pump(microtime(true) + $timeout, $done);
        }
        $results = [];
        foreach ($ids as $id) {
            $entry = self::$entries[$id] ?? null;
            if ($entry === null) {
                $array = Outcome::placeholder(null, null, null, null);
            } elseif ($entry['outcome'] !== null) {
                unset(self::$entries[$id]);
                $array = $entry['outcome']->toArray($entry['site_id']);
            } else {
                $array = Outcome::placeholder($entry['operation'], $entry['domain'], $entry['site_id'], (microtime(true) - $entry['started']) * 1000);
            }
            $array['job_id'] = $id;
            $results[$id] = $array;
        }
        return $results;
    }

    /** Request end: unfinished jobs get closte.drain_timeout; what is left is logged. */
    public static function drainAtShutdown(): void
    {
        try {
            try {
                $timeout = Settings::current()->drainTimeout;
            } catch (\Closte\ConfigurationException) {
                $timeout = (float) Settings::DEFAULTS['closte.drain_timeout'];
            }
            foreach (self::drain($timeout) as $line) {
                error_log($line);
            }
        } catch (\Throwable) {
            // Request end has no caller to tell; nothing may break the script's shutdown.
        }
    }

    /** @return list<string> the log lines for what was not finished or not collected */
    public static function drain(float $timeout): array
    {
        self::forgetInheritedJobs();
        if (self::$entries === []) {
            return [];
        }
        $scheduler = Scheduler::get();
        $scheduler->pump(microtime(true) + $timeout, static fn (): bool => self::$unfinished === 0);
        // Nothing waiting in line may start while the running jobs are cancelled below.
        self::$queue = [];
        self::$nextToStart = self::$nextId;
        $lines = [];
        foreach (self::$entries as $id => $entry) {
            $site = $entry['site_id'] !== null ? " (site {$entry['site_id']})" : '';
            if ($entry['outcome'] === null) {
                if ($entry['task'] !== null) {
                    $scheduler->cancel($entry['task']);
                }
                $lines[] = sprintf(
                    'closte: %s %s%s (job %d) was not finished when the request ended (%.1f s drain): aborted, re-queue it',
                    $entry['operation']->value,
                    $entry['domain'],
                    $site,
                    $id,
                    $timeout
                );
            } elseif (!$entry['outcome']->ok()) {
                $lines[] = sprintf(
                    'closte: %s %s%s (job %d) failed and its result was never collected: %s %s',
                    $entry['operation']->value,
                    $entry['domain'],
                    $site,
                    $id,
                    $entry['outcome']->errorKind() ?? 'unknown',
                    $entry['outcome']->error() ?? ''
                );
            }
        }
        self::$entries = [];
        self::$running = 0;
        self::$unfinished = 0;
        return $lines;
    }

    /** A forked child starts with an empty job table: the parent's jobs are the parent's. */
    private static function forgetInheritedJobs(): void
    {
        $pid = getmypid();
        if (self::$pid !== $pid) {
            if (self::$pid !== null) {
                self::$entries = [];
                self::$queue = [];
                self::$nextToStart = self::$nextId;
                self::$running = 0;
                self::$unfinished = 0;
            }
            self::$pid = $pid;
        }
    }
}
