<?php
/**
 * The state of Closte Sync: the current or last sync in one network option, whether it is busy
 * or stale, the lock that orders requests, and the moves between states that need no plan.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * One sync at a time: the page's background jobs and `wp closte sync` take the same lock
 * (a database lock per network) and read and write the same option.
 */
final class Sync_State {

	/** Network option holding the state of the current or last sync. */
	const OPTION = 'closte_native_sync_state';

	/** Action Scheduler hook of a sync job: args (mode, run id). */
	const JOB_HOOK = 'closte_native_sync_job';

	/**
	 * Small network option written by the running job: its run id, when it last gave a sign of
	 * life, its progress. Apart from the state, which can hold a plan of megabytes, so that a
	 * heartbeat every second costs a few bytes.
	 */
	const BEAT_OPTION = 'closte_native_sync_beat';

	/** Where a job's shutdown function records the fatal error that ended it (run id, message). */
	const DEATH_OPTION = 'closte_native_sync_death';

	/** A queued sync (or a run waiting for its next batch) with no sign of life for this long is considered dead. */
	const STALE_AFTER = 3600;

	/**
	 * A running job beats at least every few seconds (each step, each result); with no beat for
	 * this long its process is gone (killed, out of time, or a fatal error the shutdown function
	 * could not record).
	 */
	const RUNNING_STALE_AFTER = 60;

	const BUSY = ['queued', 'previewing', 'applying'];

	/**
	 * The state as it is now: a running job that died is shown as failed, with why and what to do.
	 *
	 * @return array<string, mixed> The state: status idle|queued|previewing|planned|applying|done|failed.
	 */
	public static function get(): array {

		$state = self::stored();
		if (! in_array($state['status'], self::BUSY, true)) {
			return $state;
		}
		$death = get_site_option(self::DEATH_OPTION);
		if (is_array($death) && ($death['run'] ?? null) === ($state['run'] ?? '')) {
			return array_merge($state, ['status' => 'failed', 'dead' => true, 'failed_mode' => $state['mode'] ?? '', 'error' => Sync_Messages::died((string) ($state['mode'] ?? ''), (string) $death['error']), 'finished_at' => (int) $death['at']]);
		}
		$running = 'queued' !== $state['status'] && empty($state['waiting']);
		if ($running && self::heartbeat($state) < time() - self::RUNNING_STALE_AFTER) {
			return array_merge($state, ['status' => 'failed', 'dead' => true, 'failed_mode' => $state['mode'] ?? '', 'error' => Sync_Messages::died((string) ($state['mode'] ?? ''), ''), 'finished_at' => self::heartbeat($state)]);
		}

		return $state;
	}

	/**
	 * The stored state, with the running job's last beat and progress merged in.
	 *
	 * @return array<string, mixed>
	 */
	public static function stored(): array {

		$state = get_site_option(self::OPTION);
		if (! is_array($state) || ! isset($state['status'])) {
			return ['status' => 'idle'];
		}
		$beat = get_site_option(self::BEAT_OPTION);
		if (is_array($beat) && ($beat['run'] ?? null) === ($state['run'] ?? '') && (int) ($beat['at'] ?? 0) > (int) ($state['heartbeat'] ?? 0)) {
			$state['heartbeat'] = (int) $beat['at'];
			if (is_array($beat['progress'] ?? null)) {
				$state['progress'] = $beat['progress'];
			}
		}

		return $state;
	}

	private static function heartbeat(array $state): int {

		return (int) ($state['heartbeat'] ?? 0);
	}

	public static function is_busy(array $state): bool {

		return in_array($state['status'], self::BUSY, true) && self::heartbeat($state) > time() - self::STALE_AFTER;
	}

	/**
	 * A sign of life of the running job $run, with its progress when it has one.
	 *
	 * @param array{done: int, total: int}|null $progress
	 */
	public static function beat(string $run, ?array $progress = null): void {

		$beat = ['run' => $run, 'at' => time()];
		if (null === $progress) {
			$old = get_site_option(self::BEAT_OPTION);
			if (is_array($old) && ($old['run'] ?? null) === $run && isset($old['progress'])) {
				$beat['progress'] = $old['progress'];
			}
		} else {
			$beat['progress'] = $progress;
		}
		update_site_option(self::BEAT_OPTION, $beat);
	}

	/** The run whose job this process is running (alive() beats for it), and when it last beat. */
	private static ?string $running = null;

	private static int $beat_at = 0;

	/** This process now runs the job of $run (null: no longer). */
	public static function running(?string $run): void {

		self::$running = $run;
		self::$beat_at = time();
	}

	/**
	 * A sign of life from inside long work (each page of the network read, each stage of a
	 * preview): a beat when the last was 5 s ago or more, so a job that works for minutes is
	 * never taken for dead (RUNNING_STALE_AFTER) and one that stops is seen within a minute.
	 */
	public static function alive(): void {

		if (null !== self::$running && time() - self::$beat_at >= 5) {
			self::$beat_at = time();
			self::beat(self::$running);
		}
	}

	/**
	 * Records the fatal error that ended the job of $run (from its shutdown function: a few
	 * bytes written, nothing of the state read, as memory may have run out).
	 */
	public static function record_death(string $run, string $error): void {

		update_site_option(self::DEATH_OPTION, ['run' => $run, 'error' => $error, 'at' => time()]);
	}

	/** Drops a stored preview (back to idle). */
	public static function discard(): void {

		self::with_lock(
			static function () {
				if ('planned' === self::get()['status']) {
					delete_site_option(self::OPTION);
				}
				return true;
			}
		);
	}

	/** True when $state is a sync waiting in the queue, or a run waiting for its next batch. */
	public static function cancellable(array $state): bool {

		return 'queued' === $state['status'] || ('applying' === $state['status'] && ! empty($state['waiting']) && is_array($state['cursor'] ?? null));
	}

	/**
	 * Cancels a sync that waits in the queue: its job is dropped; a cancelled run goes back to
	 * its confirmed preview, a cancelled preview to idle. A run between two batches stops there:
	 * its next batch is dropped and its report says what the batches before did (removals
	 * come last, so a run cancelled before them removed nothing).
	 *
	 * @return true|\WP_Error
	 */
	public static function cancel() {

		return self::with_lock(
			static function () {
				$state = self::get();
				if (! self::cancellable($state)) {
					return Sync_Messages::refusal('closte-sync-not-queued');
				}
				$args = [(string) ($state['mode'] ?? ''), (string) ($state['run'] ?? '')];
				Background_Jobs::unschedule(self::JOB_HOOK, $args);
				if ('queued' !== $state['status']) {
					$report = Sync_Plan::cancelled_report((array) $state['plan'], $state['cursor']);
					update_site_option(self::OPTION, ['status' => 'done', 'mode' => 'apply', 'run' => $args[1], 'report' => $report, 'finished_at' => time()]);
					Logger::log(sprintf('sync run %s cancelled after batch %d, %d of %d done', Logger::one_line($args[1]), (int) ($state['cursor']['batches'] ?? 0), (int) $state['cursor']['done'], (int) $state['cursor']['total']));
					return true;
				}
				if ('apply' === ($state['mode'] ?? '') && is_array($state['plan'] ?? null)) {
					update_site_option(self::OPTION, ['status' => 'planned', 'plan' => $state['plan'], 'finished_at' => (int) ($state['plan']['created_at'] ?? time())]);
				} else {
					delete_site_option(self::OPTION);
				}
				Logger::log(sprintf('sync %s cancelled while queued', $args[0]));
				return true;
			}
		);
	}

	/**
	 * Marks a sync run by this process (`wp closte sync`) as applying, unless another one is
	 * queued or running, so that the page shows it and refuses a second one meanwhile.
	 *
	 * @return true|\WP_Error
	 */
	public static function start_here(string $run, bool $prune) {

		return self::with_lock(
			static function () use ($run, $prune) {
				if (self::is_busy(self::get())) {
					return Sync_Messages::refusal('closte-sync-busy');
				}
				delete_site_option(self::DEATH_OPTION);
				update_site_option(
					self::OPTION,
					['status' => 'applying', 'mode' => 'apply', 'run' => $run, 'prune' => $prune, 'requested_by' => get_current_user_id(), 'requested_at' => time(), 'started_at' => time(), 'heartbeat' => time(), 'by' => 'cli']
				);
				return true;
			}
		);
	}

	/**
	 * Stores a new state for a queued job and schedules it.
	 *
	 * @return true
	 */
	public static function queue(array $request): bool {

		$run = wp_generate_uuid4();
		delete_site_option(self::DEATH_OPTION);
		update_site_option(
			self::OPTION,
			$request + [
				'status'       => 'queued',
				'run'          => $run,
				'requested_by' => get_current_user_id(),
				'requested_at' => time(),
				'heartbeat'    => time(),
			]
		);
		Background_Jobs::schedule(self::JOB_HOOK, 0, [$request['mode'], $run], Background_Jobs::PRIORITY_SYNC);

		return true;
	}

	/**
	 * Entries of each list (to add, to remove, unowned, kept, skipped) that a stored plan keeps
	 * for the page: at 100,000 names a whole plan is megabytes, and writing it through wpdb
	 * (serialized, escaped, the query) took several copies of it past a 64 MB limit.
	 */
	const SHOWN = 1000;

	/** Network options that hold a stored plan's complete removal set, CHUNK names each: prefix + 0, 1, ... */
	const REMOVALS_OPTION = 'closte_native_sync_removals_';

	const CHUNK = 2000;

	/**
	 * A plan as stored: each list cut to its first SHOWN entries (in the plan's order), 'counts'
	 * giving every list's full size and 'cut' naming the lists cut; a removal set longer than
	 * SHOWN is written whole apart (read back by removals()), since a run removes exactly it.
	 *
	 * @param array $plan From Sync_Plan::preview().
	 * @return array<string, mixed>
	 */
	public static function store_plan(array $plan): array {

		$plan['counts'] = [];
		$plan['cut']    = [];
		foreach (['to_add', 'to_remove', 'unowned', 'kept', 'skipped'] as $list) {
			$plan[ $list ]           = (array) ($plan[ $list ] ?? []);
			$plan['counts'][ $list ] = count($plan[ $list ]);
			if ($plan['counts'][ $list ] > self::SHOWN) {
				if ('to_remove' === $list) {
					self::write_removals((string) $plan['id'], array_map('strval', array_keys($plan[ $list ])));
				}
				$plan[ $list ]         = array_slice($plan[ $list ], 0, self::SHOWN, true);
				$plan['cut'][ $list ] = true;
			}
		}

		return $plan;
	}

	/**
	 * The complete removal set of a plan, stored (store_plan()) or not.
	 *
	 * @return string[]
	 * @throws Sync_Stopped When a cut plan's set is no longer stored (a later preview replaced it).
	 */
	public static function removals(array $plan): array {

		if (empty($plan['cut']['to_remove'])) {
			return array_map('strval', array_keys((array) ($plan['to_remove'] ?? [])));
		}
		$names = [];
		for ($i = 0; $i * self::CHUNK < (int) $plan['counts']['to_remove']; $i++) {
			$chunk = get_site_option(self::REMOVALS_OPTION . $i);
			if (! is_array($chunk) || ($chunk['plan'] ?? '') !== $plan['id']) {
				throw new Sync_Stopped(__('The removal list of this preview is no longer stored (a later preview replaced it, or it was deleted). Nothing was removed; make a new preview.', 'closte-native'));
			}
			array_push($names, ...$chunk['names']);
		}

		return $names;
	}

	/** How many entries a plan's $list has in all (a stored plan's lists may be cut). */
	public static function count_of(array $plan, string $list): int {

		return (int) ($plan['counts'][ $list ] ?? count((array) ($plan[ $list ] ?? [])));
	}

	/**
	 * Writes a removal set in chunks (each a small row, so no query holds megabytes) and drops
	 * the chunks of an earlier, longer set.
	 *
	 * @param string[] $names
	 */
	private static function write_removals(string $plan_id, array $names): void {

		$i = 0;
		foreach (array_chunk($names, self::CHUNK) as $i => $chunk) {
			update_site_option(self::REMOVALS_OPTION . $i, ['plan' => $plan_id, 'names' => $chunk]);
		}
		for ($i++; delete_site_option(self::REMOVALS_OPTION . $i); $i++) {
			// An earlier set's chunks beyond this one's.
		}
	}

	public static function save(array $state, array $changes): void {

		update_site_option(self::OPTION, array_merge($state, $changes, ['heartbeat' => time()]));
	}

	/**
	 * Runs $critical under a database lock, so two requests (double submits, two admins) cannot
	 * both see "idle" and queue two syncs.
	 *
	 * @return mixed|\WP_Error
	 */
	public static function with_lock(callable $critical) {

		global $wpdb;

		$name = 'closte_native_sync_' . get_current_network_id();
		if ('1' !== (string) $wpdb->get_var($wpdb->prepare('SELECT GET_LOCK(%s, 10)', $name))) {
			return new \WP_Error('closte-sync-busy', __('Another sync request is being handled; try again in a moment.', 'closte-native'));
		}
		try {
			wp_cache_delete(get_current_network_id() . ':' . self::OPTION, 'site-options');
			return $critical();
		} finally {
			$wpdb->query($wpdb->prepare('SELECT RELEASE_LOCK(%s)', $name));
		}
	}
}
