<?php
/**
 * The event loop of the PHP implementation: runs client coroutines (generators) over one
 * curl_multi handle per process, so that blocking calls, closte_sync's concurrency and
 * closte_enqueue's jobs share one keep-alive connection cache.
 *
 * A coroutine yields an HttpRequest (and receives its HttpResponse) or a Sleep; its return
 * value is its result. Nothing runs in the background: coroutines advance only while a
 * closte_* function pumps the loop (a blocking call runs it until its own coroutine is done,
 * advancing every other one meanwhile; closte_enqueue and closte_pending pump without waiting;
 * closte_wait and the end of the request pump until their deadline).
 *
 * Fork: a child process (pcntl_fork) starts with an empty loop and a new multi handle; the
 * parent's handle is kept, never closed, in the child, so that no shared connection is shut.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Scheduler
{
    /** Largest body read from Closte (the extension's cap). */
    public const MAX_BODY_BYTES = 4 * 1024 * 1024;
    /** An attempt is cut this long after curl's own timeout should have ended it. */
    private const FENCE_SECS = 0.25;

    private static ?self $instance = null;

    private int $pid;
    private \CurlMultiHandle $multi;
    private int $nextTask = 1;
    /** @var array<int, \Generator> */
    private array $coroutines = [];
    /** @var array<int, array{0: bool, 1: mixed}> task id => [resume now?, value to send] */
    private array $ready = [];
    /** @var array<int, float> task id => wake-up time */
    private array $sleeping = [];
    /** @var array<int, array{handle: \CurlHandle, task: int, response: HttpResponse, deadline: float, https: bool}> keyed by handle id */
    private array $transfers = [];
    /** @var array<int, mixed> finished task id => return value */
    private array $results = [];
    /** @var array<int, \Throwable> failed task id => what it threw */
    private array $errors = [];
    /** @var list<\CurlMultiHandle> handles inherited through fork, kept open on purpose */
    private static array $inherited = [];

    private function __construct()
    {
        $this->pid = getmypid();
        $this->multi = curl_multi_init();
        curl_multi_setopt($this->multi, CURLMOPT_MAXCONNECTS, 64);
    }

    public static function get(): self
    {
        if (self::$instance !== null && self::$instance->pid !== getmypid()) {
            self::$inherited[] = self::$instance->multi;
            self::$instance = null;
        }
        return self::$instance ??= new self();
    }

    /** Starts a coroutine (it first runs at the next pump) and returns its task id. */
    public function spawn(\Generator $coroutine): int
    {
        $id = $this->nextTask++;
        $this->coroutines[$id] = $coroutine;
        $this->ready[$id] = [true, null];
        return $id;
    }

    public function isDone(int $task): bool
    {
        return array_key_exists($task, $this->results) || isset($this->errors[$task]);
    }

    /** The return value of a finished task (forgotten afterwards); rethrows what it threw. */
    public function take(int $task): mixed
    {
        if (isset($this->errors[$task])) {
            $error = $this->errors[$task];
            unset($this->errors[$task]);
            throw $error;
        }
        $result = $this->results[$task] ?? null;
        unset($this->results[$task]);
        return $result;
    }

    /** Stops a task: its transfer is dropped, its coroutine destroyed (its finally blocks run). */
    public function cancel(int $task): void
    {
        foreach ($this->transfers as $key => $transfer) {
            if ($transfer['task'] === $task) {
                curl_multi_remove_handle($this->multi, $transfer['handle']);
                unset($this->transfers[$key]);
            }
        }
        unset($this->coroutines[$task], $this->ready[$task], $this->sleeping[$task], $this->results[$task], $this->errors[$task]);
    }

    /** Runs a coroutine to its end and returns its result (other tasks advance meanwhile). */
    public function run(\Generator $coroutine): mixed
    {
        $task = $this->spawn($coroutine);
        $this->pump(INF, fn (): bool => $this->isDone($task));
        return $this->take($task);
    }

    /**
     * Advances every task until $stop() says so or $until (microtime) passes. With $until now,
     * one non-blocking round.
     */
    public function pump(float $until, ?callable $stop = null): void
    {
        while (true) {
            $this->resumeReady();
            $this->driveTransfers();
            if (($stop !== null && $stop()) || microtime(true) >= $until) {
                // Before handing back: the tasks the last results woke (a job waiting for a free
                // concurrency slot) start their requests, without waiting, so they are in flight
                // while the caller works on the results (as the extension's runtime goes on in the
                // background); else nothing is sent until the next closte_* call.
                for ($pass = 0; $pass < 3 && $this->ready !== []; $pass++) {
                    $this->resumeReady();
                    $this->driveTransfers();
                }
                return;
            }
            if ($this->ready === [] && $this->transfers === [] && $this->sleeping === []) {
                return; // nothing can change any more
            }
            if ($this->ready === []) {
                $this->waitForActivity($until);
            }
        }
    }

    private function resumeReady(): void
    {
        $now = microtime(true);
        foreach ($this->sleeping as $task => $wakeAt) {
            if ($wakeAt <= $now) {
                unset($this->sleeping[$task]);
                $this->ready[$task] = [false, null];
            }
        }
        $ready = $this->ready;
        $this->ready = [];
        foreach ($ready as $task => [$first, $value]) {
            if (!isset($this->coroutines[$task])) {
                continue;
            }
            $coroutine = $this->coroutines[$task];
            try {
                $yielded = $first ? $coroutine->current() : $coroutine->send($value);
                if (!$coroutine->valid()) {
                    $this->results[$task] = $coroutine->getReturn();
                    unset($this->coroutines[$task]);
                    continue;
                }
                $this->suspend($task, $yielded);
            } catch (\Throwable $error) {
                $this->errors[$task] = $error;
                unset($this->coroutines[$task]);
            }
        }
    }

    private function suspend(int $task, mixed $yielded): void
    {
        if ($yielded instanceof HttpRequest) {
            $this->startTransfer($task, $yielded);
        } elseif ($yielded instanceof Sleep) {
            $this->sleeping[$task] = microtime(true) + max(0.0, $yielded->seconds);
        } else {
            throw new \LogicException('a closte coroutine yielded ' . get_debug_type($yielded));
        }
    }

    private function startTransfer(int $task, HttpRequest $request): void
    {
        $settings = $request->settings;
        $response = new HttpResponse();
        $handle = curl_init();
        $query = http_build_query($request->fields, '', '&', PHP_QUERY_RFC1738);
        $options = [
            CURLOPT_URL => $request->method === 'GET' ? $request->url . '?' . $query : $request->url,
            CURLOPT_RETURNTRANSFER => false,
            CURLOPT_FOLLOWLOCATION => false, // the key must not travel to another address
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_TIMEOUT_MS => (int) ceil($settings->timeout * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => (int) ceil($settings->connectTimeout * 1000),
            CURLOPT_NOSIGNAL => true,
            CURLOPT_USERAGENT => $settings->userAgent,
            // An empty proxy disables HTTP_PROXY and the like: only closte.proxy is used.
            CURLOPT_PROXY => $settings->proxy ?? '',
            CURLOPT_HTTPHEADER => ['Expect:', 'Accept: application/json'],
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_HEADERFUNCTION => static function ($handle, string $line) use ($response): int {
                if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $m) === 1) {
                    $response->retryAfter = null; // a new response (after a 100 Continue)
                } elseif (stripos($line, 'retry-after:') === 0) {
                    $response->retryAfter = trim(substr($line, 12));
                } elseif (stripos($line, 'content-length:') === 0 && (int) trim(substr($line, 15)) > self::MAX_BODY_BYTES) {
                    $response->oversized = true;
                    return 0; // aborts the transfer before the body
                }
                return strlen($line);
            },
            CURLOPT_WRITEFUNCTION => static function ($handle, string $chunk) use ($response): int {
                if (strlen($response->body) + strlen($chunk) > self::MAX_BODY_BYTES) {
                    $response->oversized = true;
                    return 0; // the streaming check: chunked answers have no Content-Length
                }
                $response->body .= $chunk;
                return strlen($chunk);
            },
        ];
        if ($request->method === 'POST') {
            $options[CURLOPT_POST] = true;
            $options[CURLOPT_POSTFIELDS] = $query;
        }
        curl_setopt_array($handle, $options);
        if ($settings->caFile !== null) {
            CaBundle::apply($handle, $settings->caFile);
        }
        curl_multi_add_handle($this->multi, $handle);
        $this->transfers[spl_object_id($handle)] = [
            'handle' => $handle,
            'task' => $task,
            'response' => $response,
            'deadline' => microtime(true) + $settings->timeout + self::FENCE_SECS,
            'https' => str_starts_with(strtolower($request->url), 'https:'),
        ];
    }

    private function driveTransfers(): void
    {
        if ($this->transfers === []) {
            return;
        }
        do {
            $status = curl_multi_exec($this->multi, $running);
        } while ($status === CURLM_CALL_MULTI_PERFORM);
        while (($info = curl_multi_info_read($this->multi)) !== false) {
            $key = spl_object_id($info['handle']);
            if (!isset($this->transfers[$key])) {
                continue;
            }
            $transfer = $this->transfers[$key];
            $response = $transfer['response'];
            $response->status = (int) curl_getinfo($info['handle'], CURLINFO_RESPONSE_CODE);
            if ($info['result'] !== CURLE_OK) {
                $response->errno = $info['result'];
                $response->error = curl_error($info['handle']) ?: curl_strerror($info['result']);
            }
            $this->finishTransfer($key, $transfer);
        }
        $now = microtime(true);
        foreach ($this->transfers as $key => $transfer) {
            if ($now > $transfer['deadline']) {
                $transfer['response']->errno = -1;
                $transfer['response']->error = 'no complete answer in time';
                $this->finishTransfer($key, $transfer);
            }
        }
    }

    private function finishTransfer(int $key, array $transfer): void
    {
        $connects = (int) curl_getinfo($transfer['handle'], CURLINFO_NUM_CONNECTS);
        Stats::connected($connects, $transfer['https']);
        curl_multi_remove_handle($this->multi, $transfer['handle']);
        unset($this->transfers[$key]);
        $this->ready[$transfer['task']] = [false, $transfer['response']];
    }

    private function waitForActivity(float $until): void
    {
        $next = $until;
        foreach ($this->sleeping as $wakeAt) {
            $next = min($next, $wakeAt);
        }
        foreach ($this->transfers as $transfer) {
            $next = min($next, $transfer['deadline']);
        }
        $wait = max(0.0, min($next - microtime(true), 1.0));
        if ($this->transfers === []) {
            usleep((int) ($wait * 1e6));
            return;
        }
        $started = microtime(true);
        $events = curl_multi_select($this->multi, $wait);
        // curl_multi_select returns at once when curl has no socket to offer (while resolving).
        if ($events <= 0 && microtime(true) - $started < 0.0005) {
            usleep((int) min($wait * 1e6, 1000));
        }
    }
}
