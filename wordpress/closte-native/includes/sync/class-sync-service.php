<?php
/**
 * Closte Sync as a service: a preview (dry run) of exactly what would change, then the run of
 * that confirmed plan, both as background jobs under one lock. The admin page and PHP CLI
 * scripts use it; nothing here prints.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The requests (preview, apply) checked against the stored state and plan, the background job
 * that runs them, and the run of a confirmed plan in this process (apply_now). The plan itself
 * is Sync_Plan's, the state Sync_State's, the words Sync_Messages'.
 */
final class Sync_Service {

	public static function register(): void {

		add_action(Sync_State::JOB_HOOK, [self::class, 'run_job'], 10, 2);
	}

	/**
	 * Queues a preview. Refused while another sync is queued or running (double submits).
	 *
	 * @return true|\WP_Error
	 */
	public static function request_preview(bool $prune) {

		return Sync_State::with_lock(
			static function () use ($prune) {
				if (Sync_State::is_busy(Sync_State::get())) {
					return Sync_Messages::refusal('closte-sync-busy');
				}
				return Sync_State::queue(['mode' => 'preview', 'prune' => $prune]);
			}
		);
	}

	/**
	 * Queues the run of the stored plan, after checking that the operator confirmed exactly its
	 * removal set ($token), typed its phrase when it needs one, and, for aliases this plugin did
	 * not add, ticked each one ($unowned) and typed their own phrase.
	 *
	 * @param string   $plan_id       The plan the operator saw.
	 * @param string   $token         Its confirmation token (confirmation_token()).
	 * @param string   $typed         The typed confirmation ("remove N"), when the plan needs one.
	 * @param string[] $unowned       Aliases not added by this plugin, ticked one by one.
	 * @param string   $unowned_typed unowned_phrase() of their number, when any is ticked.
	 * @return true|\WP_Error
	 */
	public static function request_apply(string $plan_id, string $token, string $typed = '', array $unowned = [], string $unowned_typed = '') {

		return Sync_State::with_lock(
			static function () use ($plan_id, $token, $typed, $unowned, $unowned_typed) {
				$state = Sync_State::get();
				if (Sync_State::is_busy($state)) {
					return Sync_Messages::refusal('closte-sync-busy');
				}
				$plan = $state['plan'] ?? null;
				if ('planned' !== $state['status'] || ! is_array($plan) || ($plan['id'] ?? '') !== $plan_id) {
					return Sync_Messages::refusal('closte-sync-stale');
				}
				try {
					$expected = Sync_Plan::confirmation_token($plan);
				} catch (\RuntimeException $e) {
					return Sync_Messages::refusal('closte-sync-stale');
				}
				if (! hash_equals($expected, $token)) {
					return Sync_Messages::refusal('closte-sync-mismatch');
				}
				if ($plan['needs_typed'] && trim(strtolower($typed)) !== $plan['typed_phrase']) {
					return Sync_Messages::refusal('closte-sync-typed', ['phrase' => $plan['typed_phrase']]);
				}
				$unowned = array_values(array_unique(array_map('strval', $unowned)));
				sort($unowned, SORT_NATURAL);
				$unknown = array_diff($unowned, array_keys((array) ($plan['unowned'] ?? [])));
				if ([] !== $unknown || ([] !== $unowned && ! $plan['prune'])) {
					return Sync_Messages::refusal('closte-sync-unowned-unknown', ['names' => $unknown]);
				}
				if ([] !== $unowned && trim(strtolower($unowned_typed)) !== Sync_Plan::unowned_phrase(count($unowned))) {
					return Sync_Messages::refusal('closte-sync-unowned-typed', ['phrase' => Sync_Plan::unowned_phrase(count($unowned))]);
				}
				return Sync_State::queue(['mode' => 'apply', 'prune' => (bool) $plan['prune'], 'plan' => $plan, 'unowned' => $unowned]);
			}
		);
	}

	/**
	 * Action Scheduler callback: a preview, or one batch of a run. A run that has more to do
	 * than fits in one batch (the filter closte_native_sync_batch_seconds, default 20 s, under
	 * Action Scheduler's 30 s) stores where it stopped and queues its next batch.
	 *
	 * @param string $mode preview|apply.
	 * @param string $run  The run id the job belongs to.
	 */
	public static function run_job($mode, $run): void {

		$mode = (string) $mode;
		$run  = (string) $run;
		// Check and claim under the sync lock: two queue runners (web nodes) handed the same job
		// (a claim reset after a runner died) must not both move it from queued to running.
		$state = Sync_State::with_lock(
			static function () use ($mode, $run) {
				$state = Sync_State::get();
				$next  = 'apply' === $mode && 'applying' === $state['status'] && ! empty($state['waiting']);
				if (($state['run'] ?? '') !== $run || ('queued' !== $state['status'] && ! $next)) {
					return null;
				}
				Sync_State::save($state, ['status' => 'preview' === $mode ? 'previewing' : 'applying', 'waiting' => false, 'started_at' => $state['started_at'] ?? time()]);
				Sync_State::beat($run);
				return $state;
			}
		);
		if (is_wp_error($state)) {
			// The lock stayed busy for 10 s (another request is starting or cancelling a sync):
			// the job comes back in a minute rather than being lost; the state still says queued.
			Logger::log(sprintf('sync job %s: the sync lock is busy; tried again in 60 s', Logger::one_line($run)), 'warning');
			Background_Jobs::schedule(Sync_State::JOB_HOOK, 60, [$mode, $run], Background_Jobs::PRIORITY_SYNC);
			return;
		}
		if (null === $state) {
			Logger::log(sprintf('sync job %s dropped: it is not the queued sync any more', Logger::one_line($run)), 'warning');
			return;
		}

		$ended = self::watch_for_death($mode, $run);
		Sync_State::running($run);
		if ('preview' === $mode) {
			self::run_to_end($mode, $run, static fn () => Sync_Plan::preview((bool) $state['prune']));
			$ended();
			return;
		}
		$seconds  = (float) apply_filters('closte_native_sync_batch_seconds', 20.0);
		$deadline = microtime(true) + max(0.0, $seconds);
		$cursor   = is_array($state['cursor'] ?? null) ? $state['cursor'] : null;
		$step     = null;
		self::run_to_end(
			$mode,
			$run,
			static function () use ($state, $cursor, $deadline, $run, &$step) {
				$cursor = null !== $cursor ? Sync_Plan::unpack_cursor($cursor) : null;
				$step   = Sync_Plan::apply_step($state['plan'], (array) ($state['unowned'] ?? []), $cursor, self::progress_saver($run), $deadline);
				return $step['report'];
			}
		);
		if (null !== $step && null === $step['report']) {
			$saved = Sync_State::with_lock(
				static function () use ($run, $step) {
					$now = Sync_State::stored();
					if (($now['run'] ?? '') !== $run) {
						return false; // a new sync was started meanwhile (this one was shown as dead)
					}
					Sync_State::save(
						$now,
						[
							'status'   => 'applying',
							'waiting'  => true,
							'cursor'   => Sync_Plan::pack_cursor($step['cursor']),
							'progress' => ['done' => $step['cursor']['done'], 'total' => $step['cursor']['total']],
							'batches'  => $step['cursor']['batches'],
						]
					);
					return true;
				}
			);
			if (true === $saved) {
				Background_Jobs::schedule(Sync_State::JOB_HOOK, 0, [$mode, $run], Background_Jobs::PRIORITY_SYNC);
				Logger::log(sprintf('sync run %s: batch %d ended at %d of %d; the next batch is queued', Logger::one_line($run), $step['cursor']['batches'], $step['cursor']['done'], $step['cursor']['total']));
			}
		}
		$ended();
	}

	/**
	 * Records a fatal error that ends this job (memory exhausted, time limit) as the sync's
	 * failure, so the page says what happened instead of waiting. A little memory is set aside
	 * for that, since an exhausted limit leaves none.
	 *
	 * @return callable Call it when the job ended normally.
	 */
	private static function watch_for_death(string $mode, string $run): callable {

		$watch = (object) ['on' => true, 'reserve' => str_repeat(' ', 256 * 1024)];
		register_shutdown_function(
			static function () use ($watch, $mode, $run): void {
				if (! $watch->on) {
					return;
				}
				$watch->reserve = null;
				$error = error_get_last();
				if (null === $error || ! in_array($error['type'], [E_ERROR, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR, E_RECOVERABLE_ERROR, E_PARSE], true)) {
					return; // the worker was stopped otherwise: the missing heartbeat tells
				}
				$message = sprintf('%s in %s:%d', $error['message'], basename((string) $error['file']), (int) $error['line']);
				Sync_State::record_death($run, $message);
				Logger::log(sprintf('sync %s %s died: %s', $mode, Logger::one_line($run), $message), 'error');
			}
		);

		return static function () use ($watch): void {
			Sync_State::running(null);
			$watch->on      = false;
			$watch->reserve = null;
		};
	}
	/**
	 * Runs a confirmed plan in this process (`wp closte sync`), under the same lock and state as
	 * the page: refused while a sync is queued or running, and shown as running on the page
	 * meanwhile; its report is stored like a background run's.
	 *
	 * @param array         $plan     From preview().
	 * @param string[]      $unowned  Aliases not added by this plugin, named one by one.
	 * @param callable|null $progress fn (int $done, int $total).
	 * @return array|\WP_Error The report.
	 */
	public static function apply_now(array $plan, array $unowned = [], ?callable $progress = null) {

		$run     = wp_generate_uuid4();
		$claimed = Sync_State::start_here($run, (bool) $plan['prune']);
		if (is_wp_error($claimed)) {
			return $claimed;
		}
		$saver = self::progress_saver($run);

		return self::run_to_end(
			'apply',
			$run,
			static function () use ($plan, $unowned, $progress, $saver) {
				return Sync_Plan::apply(
					$plan,
					static function (int $done, int $total) use ($progress, $saver): void {
						$saver($done, $total);
						if (null !== $progress) {
							$progress($done, $total);
						}
					},
					$unowned
				);
			}
		);
	}

	/**
	 * Runs a preview or an apply (or a batch of it) and stores how it ended (planned, done or
	 * failed); $work returning null means the run goes on in another batch. Nothing is stored
	 * when the state has passed to another sync meanwhile.
	 *
	 * @return array|null The plan or report; rethrows nothing (a failure is stored and logged).
	 */
	private static function run_to_end(string $mode, string $run, callable $work): ?array {

		$store = static function (array $changes) use ($run): void {
			Sync_State::with_lock(
				static function () use ($run, $changes) {
					$state = Sync_State::stored();
					if (($state['run'] ?? '') === $run) {
						Sync_State::save($state, $changes + ['waiting' => false, 'cursor' => null]);
					}
					return true;
				}
			);
		};
		try {
			$result = $work();
			if (null === $result) {
				return null;
			}
			if ('preview' === $mode) {
				$store(['status' => 'planned', 'plan' => Sync_State::store_plan($result), 'finished_at' => time()]);
			} else {
				$store(['status' => 'done', 'report' => $result, 'plan' => null, 'finished_at' => time()]);
			}
			return $result;
		} catch (\Throwable $e) {
			$message = Logger::redact(Sync_Messages::explain_exception($e));
			Logger::log('sync failed: ' . $message, 'error');
			$store(['status' => 'failed', 'error' => $message, 'finished_at' => time()]);
			return ['error' => $message];
		}
	}

	/** Stores the progress of a running apply (a heartbeat), at most about once a second. */
	private static function progress_saver(string $run): callable {

		return static function (int $done, int $total) use ($run): void {
			Sync_State::beat($run, ['done' => $done, 'total' => $total]);
		};
	}
}
