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

	/**
	 * Cancels a sync that waits in the queue: its job is dropped; a cancelled run goes back to
	 * its confirmed preview, a cancelled preview to idle.
	 *
	 * @return true|\WP_Error
	 */
	public static function cancel() {

		return self::with_lock(
			static function () {
				$state = self::get();
				if ('queued' !== $state['status']) {
					return Sync_Messages::refusal('closte-sync-not-queued');
				}
				$args = [(string) ($state['mode'] ?? ''), (string) ($state['run'] ?? '')];
				Background_Jobs::unschedule(self::JOB_HOOK, $args);
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
		Background_Jobs::schedule(self::JOB_HOOK, 0, [$request['mode'], $run]);

		return true;
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
