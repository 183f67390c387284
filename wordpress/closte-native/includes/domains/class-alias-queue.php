<?php
/**
 * The durable queue of alias changes and the job that drains it through the concurrent path.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Ultimate Multisite fires one Action Scheduler action per domain event (wu_add_domain, ...).
 * Run one by one, each waits for its own round trip to Closte: 1,000 mapped domains took 109 s
 * at 50 ms latency. So an event run by Action Scheduler only appends its change to this queue
 * (a table of ours, one row per change, in arrival order) and makes sure one drain job
 * (DRAIN_HOOK) is pending (inside a queue runner's run, it sends the change itself under the
 * same lock and rules: Alias_Pipeline); the drain sends many changes at once (closte_enqueue +
 * closte_wait, closte.concurrency at a time) and handles each result exactly as a single change
 * is handled (Alias_Changes::run_round). An event fired outside Action Scheduler (a direct do_action, WP-CLI)
 * is appended and drained at once, in the same request, as before.
 *
 * Order: a round holds at most one change per domain, the earliest queued, so an unmap queued
 * after a map of the same name runs in a later round, after the map's result is recorded.
 * Claims: one drain at a time per network, under a database named lock (GET_LOCK, released by
 * the server when the holder's connection ends, even if PHP dies), so two queue runners on two
 * web servers never take the same change; a drain that finds the lock held ends, and the holder
 * checks for changes queued meanwhile after releasing it. A round's rows are deleted once its
 * results are handled: the changes of a drain killed in the middle of a round are sent again by
 * the next drain (an add Closte already had is then answered "already exists" and, as for any
 * alias that was there before, not counted as this integration's: an unmapping leaves it in place
 * rather than risk removing a name someone else added). A drain stops after
 * TIME_BUDGET seconds (Action Scheduler gives a batch 30) and queues the next drain for the rest;
 * WATCHDOG_HOOK, queued while a drain works, starts a new one if a drain died.
 */
final class Alias_Queue {

	/** Action Scheduler hook of the drain job (no args). */
	const DRAIN_HOOK = 'closte_native_alias_queue';

	/** Action Scheduler hook that restarts the drain when one died with changes left (no args). */
	const WATCHDOG_HOOK = 'closte_native_alias_queue_watchdog';

	/** Seconds after a drain started when its watchdog runs. */
	const WATCHDOG_DELAY = 300;

	/** Seconds of work per drain job, below Action Scheduler's 30 s per batch. */
	const TIME_BUDGET = 20.0;

	/** Changes read from the table at a time. */
	const CHUNK = 200;

	/** The table's schema version, in the site option SCHEMA_OPTION (not under Alias_Registry's prefix closte_native_alias_, whose records are counted). */
	const SCHEMA = 1;

	const SCHEMA_OPTION = 'closte_native_queue_schema';

	/** True while this process drains (a www twin added by a result joins the queue then). */
	private static bool $draining = false;

	/** When this process took the drain lock (microtime), or null while it does not hold it. */
	private static ?float $locked_at = null;

	/** Whether the shutdown action that closes a queue runner's sending is added. */
	private static bool $shutdown_registered = false;

	/** Depth of Action Scheduler actions running in this process. */
	private static int $in_action = 0;

	public static function register(): void {

		add_action(self::DRAIN_HOOK, [self::class, 'run_drain'], 10, 0);
		add_action(self::WATCHDOG_HOOK, [self::class, 'run_watchdog'], 10, 0);
		add_action('action_scheduler_before_execute', [self::class, 'action_started'], 10, 0);
		add_action('action_scheduler_after_execute', [self::class, 'action_ended'], 10, 0);
		add_action('action_scheduler_failed_execution', [self::class, 'action_ended'], 10, 0);
		Alias_Pipeline::register();
	}

	public static function action_started(): void {

		++self::$in_action;
	}

	public static function action_ended(): void {

		self::$in_action = max(0, self::$in_action - 1);
	}

	/** The queue table (network-wide). */
	public static function table(): string {

		global $wpdb;

		return $wpdb->base_prefix . 'closte_native_alias_queue';
	}

	/**
	 * An alias change from a domain event: queued, then drained by the drain job when the event
	 * runs in Action Scheduler, or right away otherwise.
	 *
	 * @param string $operation add|remove.
	 */
	public static function submit(string $operation, string $domain, int $site_id, string $source): void {

		// The newest event of a domain owns its intent from now on: a retry of an older change
		// that comes due before this one is drained is dropped as superseded, as it was when
		// each event ran its change at once.
		$intent = Change_Intents::record($operation, $domain);
		$id     = self::append($operation, $domain, $site_id, $source, $intent);
		if (self::$in_action > 0 && ! self::$draining && Alias_Pipeline::send($id, $operation, $domain, $site_id, $source, $intent)) {
			return; // sent at once by this queue runner (or ended by its checks)
		}
		if (self::$in_action > 0 || self::$draining) {
			if (! self::behind_recent_change($id)) {
				self::ensure_drain();
			}
			return;
		}
		self::drain(self::TIME_BUDGET);
	}

	/** True while this process is draining the queue. */
	public static function draining(): bool {

		return self::$draining;
	}

	/**
	 * Appends one change at the end of the queue.
	 *
	 * @param string $intent Its intent token (Change_Intents) when recorded already; '' to record it when drained.
	 * @return int Its row id (0 when the insert failed).
	 */
	public static function append(string $operation, string $domain, int $site_id, string $source, string $intent = ''): int {

		global $wpdb;

		self::install();
		$wpdb->insert(
			self::table(),
			[
				'operation' => 'remove' === $operation ? 'remove' : 'add',
				'domain'    => $domain,
				'site_id'   => $site_id,
				'source'    => $source,
				'intent'    => $intent,
				'queued_at' => time(),
			],
			['%s', '%s', '%d', '%s', '%s', '%d']
		);

		return (int) $wpdb->insert_id;
	}

	/**
	 * True when a change queued before row $id, at most WATCHDOG_DELAY seconds ago, is still in
	 * the queue: a drain is then pending or running and takes row $id too, so the event need not
	 * look for one (that look was a query over Action Scheduler's pending actions per event, 1 ms
	 * and more during a burst of 1,000). Why it holds: every change is appended before its
	 * appender makes sure of a drain, and a drain deletes a round's rows only after handling
	 * them, then reads the queue again (its loop, and after releasing its lock) and queues the
	 * next drain for what is left. So an earlier row seen after row $id was inserted is deleted
	 * later than that insert, by a drain that reads the queue afterwards. An earlier row older
	 * than WATCHDOG_DELAY may be one whose appender died before scheduling a drain: then the
	 * event looks, as it always did.
	 */
	private static function behind_recent_change(int $id): bool {

		global $wpdb;

		if ($id <= 0) {
			return false;
		}
		$queued_at = $wpdb->get_var($wpdb->prepare('SELECT queued_at FROM ' . self::table() . ' WHERE id < %d ORDER BY id LIMIT 1', $id));

		return null !== $queued_at && (int) $queued_at >= time() - self::WATCHDOG_DELAY;
	}

	/** Changes waiting in the queue. */
	public static function size(): int {

		global $wpdb;

		if (! self::installed()) {
			return 0;
		}

		return (int) $wpdb->get_var('SELECT COUNT(*) FROM ' . self::table());
	}

	/** One drain job pending (not a second one: the pending one takes every change queued). */
	public static function ensure_drain(): void {

		if (0 === Background_Jobs::pending(self::DRAIN_HOOK)) {
			Background_Jobs::schedule(self::DRAIN_HOOK, 0, []);
		}
	}

	/** Action Scheduler callback of the drain job. */
	public static function run_drain(): void {

		self::drain(self::TIME_BUDGET);
	}

	/** Action Scheduler callback of the watchdog: a drain for changes a dead drain left. */
	public static function run_watchdog(): void {

		if (self::size() > 0) {
			self::ensure_drain();
		}
	}

	/**
	 * Drains the queue for up to $budget seconds under the network's drain lock. Returns the
	 * changes taken, or null when another drain holds the lock (it takes these changes too).
	 */
	public static function drain(float $budget): ?int {

		global $wpdb;

		if (! self::installed()) {
			return 0;
		}
		if (! self::take_lock()) {
			return null;
		}
		$started = microtime(true);
		$taken   = 0;
		$more    = false;
		self::$draining = true;
		try {
			// Changes this process sent as a queue runner (Alias_Pipeline) come first: their
			// rows are still in the queue until their results are handled.
			Alias_Pipeline::settle();
			do {
				$rows = $wpdb->get_results($wpdb->prepare('SELECT id, operation, domain, site_id, source, intent FROM ' . self::table() . ' ORDER BY id LIMIT %d', self::CHUNK), ARRAY_A);
				while ([] !== $rows) {
					if (microtime(true) - $started >= $budget) {
						$more = true;
						break 2;
					}
					[$round, $rows] = self::next_round($rows);
					Alias_Changes::run_round($round);
					self::delete_rows(array_column($round, 'id'));
					$taken += count($round);
				}
			} while (self::size() > 0);
		} finally {
			self::$draining = false;
			self::release_lock();
			// After the release: a change queued while this drain held the lock, whose own
			// drain job found the lock busy and ended, is seen here.
			if ($more || self::size() > 0) {
				self::ensure_drain();
			}
		}

		return $taken;
	}

	/**
	 * Takes the network's drain lock for this process (non-blocking; true when it holds it,
	 * also when it held it already) and queues the watchdog that restarts draining if this
	 * process dies with changes taken.
	 */
	public static function take_lock(): bool {

		global $wpdb;

		if (null !== self::$locked_at) {
			return true;
		}
		if ('1' !== (string) $wpdb->get_var($wpdb->prepare('SELECT GET_LOCK(%s, 0)', self::lock_name()))) {
			return false;
		}
		self::$locked_at = microtime(true);
		Background_Jobs::unschedule(self::WATCHDOG_HOOK, []);
		Background_Jobs::schedule(self::WATCHDOG_HOOK, self::WATCHDOG_DELAY, []);
		if (! self::$shutdown_registered) {
			self::$shutdown_registered = true;
			// A queue runner's run that never reached its end (an action called exit): the
			// changes in flight are handled and the lock released before the process ends.
			add_action('shutdown', [Alias_Pipeline::class, 'close'], 1, 0);
		}

		return true;
	}

	/** Releases the drain lock this process holds (and its watchdog: nothing is left taken). */
	public static function release_lock(): void {

		global $wpdb;

		if (null === self::$locked_at) {
			return;
		}
		$wpdb->get_var($wpdb->prepare('SELECT RELEASE_LOCK(%s)', self::lock_name()));
		self::$locked_at = null;
		Background_Jobs::unschedule(self::WATCHDOG_HOOK, []);
	}

	/** True while this process holds the drain lock. */
	public static function holds_lock(): bool {

		return null !== self::$locked_at;
	}

	/**
	 * Runs $work as the drain's own result handling runs: a www twin added or removed there
	 * joins the queue (Www_Twin) instead of going out on its own.
	 *
	 * @template T
	 * @param callable(): T $work
	 * @return T
	 */
	public static function while_draining(callable $work) {

		$was            = self::$draining;
		self::$draining = true;
		try {
			return $work();
		} finally {
			self::$draining = $was;
		}
	}

	/**
	 * Deletes queue rows whose changes have been handled.
	 *
	 * @param list<int|string> $ids
	 */
	public static function delete_rows(array $ids): void {

		global $wpdb;

		if ([] !== $ids) {
			$wpdb->query('DELETE FROM ' . self::table() . ' WHERE id IN (' . implode(',', array_map('intval', $ids)) . ')');
		}
	}

	/**
	 * The next round of $rows (in queue order): the earliest change of each domain; the rest, in
	 * order, for later rounds.
	 *
	 * @param list<array<string, mixed>> $rows
	 * @return array{0: list<array<string, mixed>>, 1: list<array<string, mixed>>}
	 */
	public static function next_round(array $rows): array {

		$round = [];
		$later = [];
		$seen  = [];
		foreach ($rows as $row) {
			$key = Network_Domains::normalise((string) $row['domain']);
			if (isset($seen[ $key ])) {
				$later[] = $row;
				continue;
			}
			$seen[ $key ] = true;
			$round[]      = $row;
		}

		return [$round, $later];
	}

	/** Creates or upgrades the table (dbDelta) when its schema version is not the current one. */
	public static function install(): void {

		global $wpdb;

		if (self::installed()) {
			return;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		dbDelta(
			'CREATE TABLE ' . self::table() . " (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  operation varchar(6) NOT NULL,
  domain varchar(255) NOT NULL,
  site_id bigint(20) NOT NULL DEFAULT 0,
  source varchar(255) NOT NULL DEFAULT '',
  intent varchar(36) NOT NULL DEFAULT '',
  queued_at int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY  (id)
) " . $wpdb->get_charset_collate() . ';'
		);
		update_site_option(self::SCHEMA_OPTION, self::SCHEMA);
	}

	private static function installed(): bool {

		return self::SCHEMA === (int) get_site_option(self::SCHEMA_OPTION, 0);
	}

	/** The drain lock's name: one per database and table prefix (GET_LOCK names are server-wide, at most 64 characters). */
	private static function lock_name(): string {

		global $wpdb;

		return 'closte_native_queue_' . md5(DB_NAME . '|' . $wpdb->base_prefix);
	}
}
