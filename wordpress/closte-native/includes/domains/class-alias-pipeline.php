<?php
/**
 * Alias changes sent while the queue runner goes on with its next actions.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A burst of domain events reaches an Action Scheduler queue runner as one action per event,
 * mixed with Ultimate Multisite's own. Queued for the drain job (Alias_Queue), no request left
 * before the runner had worked through every event ahead of that job: 1,000 mapped domains
 * took ~5 s of events, then ~6.5 s of requests at 50 ms latency. Here, inside a queue runner's
 * run (between Action Scheduler's action_scheduler_before_process_queue and
 * action_scheduler_after_process_queue), the event that queued a change also sends it
 * (closte_enqueue: the request goes out while the runner runs its next actions) and handles
 * the results that have come in meanwhile, so the events and the network overlap.
 *
 * The rules are the drain's: the runner holds the queue's drain lock (Alias_Queue::take_lock())
 * while it has changes in flight, so no other drain takes them; a change goes out only when no
 * earlier change of the same domain is still in the queue (an unmap after a map waits for the
 * map's result); its checks, result handling, log lines, ownership, intents and retries are
 * Alias_Changes'; its queue row is deleted after its result is handled, so the changes of a
 * runner that dies are sent again by the next drain (the watchdog queues one). At most WINDOW
 * changes are in flight: the event that would send more waits for the oldest first, which
 * bounds the wait at the end of the run. A change that may not go out yet stays in the queue
 * for the drain, which the end of the run (Alias_Queue::drain()) runs at once.
 */
final class Alias_Pipeline {

	/** Changes in flight at most, in units of closte.concurrency. */
	const WINDOW = 4;

	/** Earlier queue rows, not in flight, read to check a change's domain against (more: it waits for the drain). */
	const ORDER_CHECK_ROWS = 200;

	/** True inside a queue runner's run (its before/after_process_queue actions). */
	private static bool $open = false;

	/**
	 * Changes in flight, by job id, in the order they were sent.
	 *
	 * @var array<int, array{job: int, operation: string, domain: string, site_id: int, intent: string, source: string, row: int, key: string}>
	 */
	private static array $in_flight = [];

	public static function register(): void {

		add_action('action_scheduler_before_process_queue', [self::class, 'open'], 10, 0);
		// Before anything else at the run's end, and at shutdown for a run that never got there.
		add_action('action_scheduler_after_process_queue', [self::class, 'close'], 1, 0);
	}

	/**
	 * Action Scheduler starts a queue runner's run. The filter closte_native_send_in_runner
	 * (default true) set to false leaves every change to the drain job, as before.
	 */
	public static function open(): void {

		self::$open = (bool) apply_filters('closte_native_send_in_runner', true);
	}

	/**
	 * The run ends (or the process does): the changes in flight are waited for and handled,
	 * then whatever the queue holds is drained and the lock released (Alias_Queue::drain()).
	 */
	public static function close(): void {

		self::$open = false;
		if (Alias_Queue::holds_lock()) {
			Alias_Queue::drain(Alias_Queue::TIME_BUDGET);
		}
	}

	/** Changes this process has in flight. */
	public static function in_flight(): int {

		return count(self::$in_flight);
	}

	/**
	 * Sends the change just queued as row $row, when this process is a queue runner in its run
	 * and the change may go out now. True when it is taken care of here (sent, or ended by its
	 * checks: its row is then gone); false when it stays in the queue for the drain.
	 */
	public static function send(int $row, string $operation, string $domain, int $site_id, string $source, string $intent): bool {

		if (! self::$open || $row <= 0) {
			return false;
		}
		// Held until the run ends: Action Scheduler bounds a run (30 s for WP-Cron's, one batch
		// for WP-CLI's); changes other runners queue meanwhile are drained at its end.
		if (! Alias_Queue::take_lock()) {
			return false; // another drain runs: it takes this change
		}
		$key = Network_Domains::normalise($domain);
		if (! self::first_of_domain($row, $key)) {
			return false;
		}
		$started = Alias_Queue::while_draining(static fn (): ?array => Alias_Changes::send_queued(['operation' => $operation, 'domain' => $domain, 'site_id' => $site_id, 'source' => $source, 'intent' => $intent]));
		if (null === $started) {
			Alias_Queue::delete_rows([$row]); // ended by its checks, logged
		} else {
			self::$in_flight[ $started['job'] ] = $started + ['row' => $row, 'key' => $key];
		}
		self::collect(0.0);
		$window = self::WINDOW * Implementation::concurrency();
		if (count(self::$in_flight) >= $window) {
			// Back pressure: the oldest slice first, as the drain waits for its rounds.
			self::collect(Alias_Changes::ROUND_WAIT, array_slice(array_keys(self::$in_flight), 0, Implementation::concurrency()));
		}

		return true;
	}

	/**
	 * Waits for every change in flight (up to Alias_Changes::ROUND_WAIT; what is not in by then
	 * counts as a timeout and is retried as one) and handles the results.
	 */
	public static function settle(): void {

		if ([] !== self::$in_flight) {
			self::collect(Alias_Changes::ROUND_WAIT, array_keys(self::$in_flight), true);
		}
	}

	/**
	 * True when no earlier change of the domain $key is in the queue: none in flight here, and
	 * none among the earlier rows that are not (at most ORDER_CHECK_ROWS of them are read; with
	 * more, the change waits for the drain, which keeps each domain's order).
	 */
	private static function first_of_domain(int $row, string $key): bool {

		global $wpdb;

		$rows = [];
		foreach (self::$in_flight as $started) {
			if ($started['key'] === $key) {
				return false;
			}
			$rows[] = $started['row'];
		}
		$not_in  = [] === $rows ? '' : ' AND id NOT IN (' . implode(',', array_map('intval', $rows)) . ')';
		$earlier = $wpdb->get_col($wpdb->prepare('SELECT domain FROM ' . Alias_Queue::table() . ' WHERE id < %d' . $not_in . ' ORDER BY id LIMIT %d', $row, self::ORDER_CHECK_ROWS + 1));
		if (! is_array($earlier) || count($earlier) > self::ORDER_CHECK_ROWS || '' !== $wpdb->last_error) {
			return false;
		}
		foreach ($earlier as $domain) {
			if (Network_Domains::normalise((string) $domain) === $key) {
				return false;
			}
		}

		return true;
	}

	/**
	 * Collects results: within $timeout seconds for the jobs $ids (all in flight when null),
	 * those finished; with $all, every one of $ids (unfinished ones as timeouts). Each is handled
	 * as the drain handles a result, then the handled rows are deleted.
	 *
	 * @param list<int>|null $ids
	 */
	private static function collect(float $timeout, ?array $ids = null, bool $all = false): void {

		$ids ??= array_keys(self::$in_flight);
		if ([] === $ids) {
			return; // never closte_wait([]): that waits for every job of this process
		}
		$results = closte_wait($ids, $timeout);
		$handled = [];
		Alias_Queue::while_draining(
			static function () use ($results, $all, &$handled): void {
				foreach ($results as $job => $result) {
					$started = self::$in_flight[ $job ] ?? null;
					if (null === $started || (! $all && 'pending' === ($result['state'] ?? ''))) {
						continue;
					}
					unset(self::$in_flight[ $job ]);
					Alias_Changes::finish_sent($started, $result);
					$handled[] = $started['row'];
				}
			}
		);
		Alias_Queue::delete_rows($handled);
	}
}
