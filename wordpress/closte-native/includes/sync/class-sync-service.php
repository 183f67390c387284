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
				if (! hash_equals(Sync_Plan::confirmation_token($plan), $token)) {
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
	 * Action Scheduler callback.
	 *
	 * @param string $mode preview|apply.
	 * @param string $run  The run id the job belongs to.
	 */
	public static function run_job($mode, $run): void {

		// Check and claim under the sync lock: two queue runners (web nodes) handed the same job
		// (a claim reset after a runner died) must not both move it from queued to running.
		$state = Sync_State::with_lock(
			static function () use ($mode, $run) {
				$state = Sync_State::get();
				if (($state['run'] ?? '') !== (string) $run || 'queued' !== $state['status']) {
					return null;
				}
				Sync_State::save($state, ['status' => 'preview' === $mode ? 'previewing' : 'applying', 'started_at' => time()]);
				return $state;
			}
		);
		if (is_wp_error($state)) {
			// The lock stayed busy for 10 s (another request is starting or cancelling a sync):
			// the job comes back in a minute rather than being lost; the state still says queued.
			Logger::log(sprintf('sync job %s: the sync lock is busy; tried again in 60 s', Logger::one_line((string) $run)), 'warning');
			Background_Jobs::schedule(Sync_State::JOB_HOOK, 60, [(string) $mode, (string) $run]);
			return;
		}
		if (null === $state) {
			Logger::log(sprintf('sync job %s dropped: it is not the queued sync any more', Logger::one_line((string) $run)), 'warning');
			return;
		}
		self::run_to_end(
			(string) $mode,
			static function () use ($mode, $state) {
				if ('preview' === $mode) {
					return Sync_Plan::preview((bool) $state['prune']);
				}
				return Sync_Plan::apply($state['plan'], self::progress_saver(), (array) ($state['unowned'] ?? []));
			}
		);
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
		$saver = self::progress_saver();

		return self::run_to_end(
			'apply',
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
	 * Runs a preview or an apply and stores how it ended (planned, done or failed).
	 *
	 * @return array The plan or report; rethrows nothing (a failure is stored and logged).
	 */
	private static function run_to_end(string $mode, callable $work): array {

		try {
			$result = $work();
			if ('preview' === $mode) {
				Sync_State::save(Sync_State::get(), ['status' => 'planned', 'plan' => $result, 'finished_at' => time()]);
			} else {
				Sync_State::save(Sync_State::get(), ['status' => 'done', 'report' => $result, 'plan' => null, 'finished_at' => time()]);
			}
			return $result;
		} catch (\Throwable $e) {
			$message = Logger::redact(Sync_Messages::explain_exception($e));
			Logger::log('sync failed: ' . $message, 'error');
			Sync_State::save(Sync_State::get(), ['status' => 'failed', 'error' => $message, 'finished_at' => time()]);
			return ['error' => $message];
		}
	}

	/** Stores the progress of a running apply, at most about once a second. */
	private static function progress_saver(): callable {

		return static function (int $done, int $total): void {
			Sync_State::save(Sync_State::get(), ['progress' => ['done' => $done, 'total' => $total]]);
		};
	}
}
