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
 * Safety rules (each one tested in the end-to-end suite):
 * - removals are refused when the list of what the network uses is incomplete: Ultimate
 *   Multisite not loaded, a database error on the sites, the domain records or the networks, a
 *   name that cannot be normalised, or an empty list; every preview and report names what is
 *   missing, with or without removals asked for;
 * - in use, and so never removed: every site host and domain record AND its `www.`/bare twin
 *   (Ultimate Multisite serves both), the networks' domains and their twins, the filter
 *   `closte_native_protected_aliases`, wildcard aliases, and site subdomains left to a wildcard
 *   alias (filter `closte_native_sync_subdomains` off);
 * - ownership by default: the preview offers for removal only aliases this plugin added
 *   (Alias_Registry) that nothing uses; the others are listed apart and removed only when the
 *   operator names each one and types their own phrase ("remove N unowned");
 * - a run removes only the confirmed set (its token), and only what a fresh read of the network,
 *   made after the adds and just before the removals, still shows unused; ownership is recorded
 *   and forgotten per result as results arrive;
 * - above a threshold (more than 10 % of Closte's aliases, or more than
 *   `closte_native_prune_confirm_threshold`, default 25) the operator must type "remove N";
 * - one sync at a time: the page's background jobs and `wp closte sync` take the same lock and
 *   state.
 *
 * Plans and reports store reasons as codes (Sync_Messages) and are put into words when shown.
 */
final class Sync_Service {

	/** Network option holding the state of the current or last sync. */
	const STATE = 'closte_native_sync_state';

	/** Action Scheduler hook of a sync job: args (mode, run id). */
	const JOB_HOOK = 'closte_native_sync_job';

	/** A queued or running sync with no sign of life for this long is considered dead. */
	const STALE_AFTER = 3600;

	const BUSY = ['queued', 'previewing', 'applying'];

	public static function register(): void {

		add_action(self::JOB_HOOK, [self::class, 'run_job'], 10, 2);
	}

	/**
	 * @return array<string, mixed> The state: status idle|queued|previewing|planned|applying|done|failed.
	 */
	public static function state(): array {

		$state = get_site_option(self::STATE);

		return is_array($state) && isset($state['status']) ? $state : ['status' => 'idle'];
	}

	public static function is_busy(array $state): bool {

		return in_array($state['status'], self::BUSY, true) && (int) ($state['heartbeat'] ?? 0) > time() - self::STALE_AFTER;
	}

	/**
	 * Queues a preview. Refused while another sync is queued or running (double submits).
	 *
	 * @return true|\WP_Error
	 */
	public static function request_preview(bool $prune) {

		return self::with_lock(
			static function () use ($prune) {
				if (self::is_busy(self::state())) {
					return self::refusal('closte-sync-busy');
				}
				return self::queue(['mode' => 'preview', 'prune' => $prune]);
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

		return self::with_lock(
			static function () use ($plan_id, $token, $typed, $unowned, $unowned_typed) {
				$state = self::state();
				if (self::is_busy($state)) {
					return self::refusal('closte-sync-busy');
				}
				$plan = $state['plan'] ?? null;
				if ('planned' !== $state['status'] || ! is_array($plan) || ($plan['id'] ?? '') !== $plan_id) {
					return self::refusal('closte-sync-stale');
				}
				if (! hash_equals(self::confirmation_token($plan), $token)) {
					return self::refusal('closte-sync-mismatch');
				}
				if ($plan['needs_typed'] && trim(strtolower($typed)) !== $plan['typed_phrase']) {
					return self::refusal('closte-sync-typed', ['phrase' => $plan['typed_phrase']]);
				}
				$unowned = array_values(array_unique(array_map('strval', $unowned)));
				sort($unowned, SORT_NATURAL);
				$unknown = array_diff($unowned, array_keys((array) ($plan['unowned'] ?? [])));
				if ([] !== $unknown || ([] !== $unowned && ! $plan['prune'])) {
					return self::refusal('closte-sync-unowned-unknown', ['names' => $unknown]);
				}
				if ([] !== $unowned && trim(strtolower($unowned_typed)) !== self::unowned_phrase(count($unowned))) {
					return self::refusal('closte-sync-unowned-typed', ['phrase' => self::unowned_phrase(count($unowned))]);
				}
				return self::queue(['mode' => 'apply', 'prune' => (bool) $plan['prune'], 'plan' => $plan, 'unowned' => $unowned]);
			}
		);
	}

	/** The phrase that confirms the removal of $count aliases this plugin did not add. */
	public static function unowned_phrase(int $count): string {

		return sprintf('remove %d unowned', $count);
	}

	/**
	 * Why a sync request was refused, in the words the page and the command show.
	 *
	 * @param string $code    closte-sync-busy|stale|mismatch|typed|unowned-typed|unowned-unknown|not-queued.
	 * @param array  $context phrase: the phrase to type; names: the names not in the plan.
	 */
	public static function refusal(string $code, array $context = []): \WP_Error {

		switch ($code) {
			case 'closte-sync-busy':
				$message = __('A sync is already queued or running; its progress is shown on this page.', 'closte-native');
				break;
			case 'closte-sync-stale':
				$message = __('This preview is no longer current. Make a new preview and confirm that one.', 'closte-native');
				break;
			case 'closte-sync-mismatch':
				$message = __('The confirmed removals differ from the preview. Nothing was changed; make a new preview.', 'closte-native');
				break;
			case 'closte-sync-typed':
				/* translators: %s: the phrase to type, e.g. "remove 37" */
				$message = sprintf(__('This sync removes many aliases. Type "%s" to confirm. Nothing was changed.', 'closte-native'), (string) ($context['phrase'] ?? ''));
				break;
			case 'closte-sync-unowned-typed':
				/* translators: %s: the phrase to type, e.g. "remove 2 unowned" */
				$message = sprintf(__('You ticked aliases this plugin did not add. Type "%s" to confirm their removal. Nothing was changed.', 'closte-native'), (string) ($context['phrase'] ?? ''));
				break;
			case 'closte-sync-unowned-unknown':
				/* translators: %s: alias names */
				$message = sprintf(__('Only aliases the preview lists as not added by this plugin can be ticked for removal (not: %s). Nothing was changed.', 'closte-native'), implode(', ', array_map([Logger::class, 'one_line'], (array) ($context['names'] ?? []))));
				break;
			case 'closte-sync-not-queued':
				$message = __('Only a sync that is still waiting in the queue can be cancelled; this one has started or ended.', 'closte-native');
				break;
			default:
				$message = __('The request was not accepted.', 'closte-native');
		}

		return new \WP_Error($code, $message);
	}

	/** Drops a stored preview (back to idle). */
	public static function discard(): void {

		self::with_lock(
			static function () {
				if ('planned' === self::state()['status']) {
					delete_site_option(self::STATE);
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
				$state = self::state();
				if ('queued' !== $state['status']) {
					return self::refusal('closte-sync-not-queued');
				}
				$args = [(string) ($state['mode'] ?? ''), (string) ($state['run'] ?? '')];
				if (function_exists('as_unschedule_all_actions')) {
					as_unschedule_all_actions(self::JOB_HOOK, $args, Background_Jobs::GROUP);
				}
				wp_clear_scheduled_hook(self::JOB_HOOK, $args);
				if ('apply' === ($state['mode'] ?? '') && is_array($state['plan'] ?? null)) {
					update_site_option(self::STATE, ['status' => 'planned', 'plan' => $state['plan'], 'finished_at' => (int) ($state['plan']['created_at'] ?? time())]);
				} else {
					delete_site_option(self::STATE);
				}
				Logger::log(sprintf('sync %s cancelled while queued', $args[0]));
				return true;
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

		$state = self::state();
		if (($state['run'] ?? '') !== (string) $run || 'queued' !== $state['status']) {
			Logger::log(sprintf('sync job %s dropped: it is not the queued sync any more', Logger::one_line((string) $run)), 'warning');
			return;
		}
		self::save($state, ['status' => 'preview' === $mode ? 'previewing' : 'applying', 'started_at' => time()]);
		self::run_to_end(
			(string) $mode,
			static function () use ($mode, $state) {
				if ('preview' === $mode) {
					return self::preview((bool) $state['prune']);
				}
				return self::apply($state['plan'], self::progress_saver(), (array) ($state['unowned'] ?? []));
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
		$claimed = self::with_lock(
			static function () use ($run, $plan) {
				if (self::is_busy(self::state())) {
					return self::refusal('closte-sync-busy');
				}
				update_site_option(
					self::STATE,
					['status' => 'applying', 'mode' => 'apply', 'run' => $run, 'prune' => (bool) $plan['prune'], 'requested_by' => get_current_user_id(), 'requested_at' => time(), 'started_at' => time(), 'heartbeat' => time(), 'by' => 'cli']
				);
				return true;
			}
		);
		if (is_wp_error($claimed)) {
			return $claimed;
		}
		$saver = self::progress_saver();

		return self::run_to_end(
			'apply',
			static function () use ($plan, $unowned, $progress, $saver) {
				return self::apply(
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
				self::save(self::state(), ['status' => 'planned', 'plan' => $result, 'finished_at' => time()]);
			} else {
				self::save(self::state(), ['status' => 'done', 'report' => $result, 'plan' => null, 'finished_at' => time()]);
			}
			return $result;
		} catch (\Throwable $e) {
			$message = Logger::redact(self::explain_exception($e));
			Logger::log('sync failed: ' . $message, 'error');
			self::save(self::state(), ['status' => 'failed', 'error' => $message, 'finished_at' => time()]);
			return ['error' => $message];
		}
	}

	/** Stores the progress of a running apply, at most about once a second. */
	private static function progress_saver(): callable {

		return static function (int $done, int $total): void {
			self::save(self::state(), ['progress' => ['done' => $done, 'total' => $total]]);
		};
	}

	/**
	 * The names the network wants on Closte (normal form => where it comes from), and the site
	 * subdomains left to a wildcard alias when the filter closte_native_sync_subdomains is off
	 * (never added, never removed).
	 *
	 * @return array{names: array<string, array>, covered: array<string, true>}
	 */
	private static function wanted(array $network): array {

		$names   = [];
		$covered = [];
		$subdomains_too = (bool) apply_filters('closte_native_sync_subdomains', true);
		$networks       = array_keys($network['protected']);
		foreach ($network['domains'] as $name => $source) {
			$name = (string) $name;
			if (isset($network['invalid'][ $name ])) {
				continue;
			}
			if (! $subdomains_too && self::is_subdomain_of_any($name, $networks)) {
				$covered[ $name ] = true;
				continue;
			}
			$names[ $name ] = $source;
		}

		return ['names' => $names, 'covered' => $covered];
	}

	/** True when $name is a subdomain of one of $parents (e.g. shop.network.com of network.com). */
	private static function is_subdomain_of_any(string $name, array $parents): bool {

		foreach ($parents as $parent) {
			$parent = (string) $parent;
			if ('' !== $parent && ! str_starts_with($parent, 'www.') && str_ends_with($name, '.' . $parent)) {
				return true;
			}
		}

		return false;
	}

	/**
	 * The aliases a sync must never remove: protected names and the subdomains left to a
	 * wildcard, in the form the implementation accepts.
	 *
	 * @return string[]
	 */
	private static function protect_list(array $network, array $wanted): array {

		$names = [];
		foreach (array_merge(array_keys($network['protected']), array_keys($wanted['covered'])) as $alias) {
			$normal = Network_Domains::normalise_strictly((string) $alias);
			if (null !== $normal) {
				$names[] = $normal; // a name Closte cannot hold cannot be removed either
			}
		}

		return array_values(array_unique($names));
	}

	/**
	 * The plan: what a run would add and remove, and why; nothing is changed (one /getdomains).
	 *
	 * @return array<string, mixed> See the class comment.
	 */
	public static function preview(bool $prune_asked): array {

		$network  = Network_Domains::collect();
		$wanted   = self::wanted($network);
		$warnings = $network['problems'];
		$prune    = $prune_asked && [] === $warnings && [] !== $wanted['names'];
		$options  = ['dry_run' => true, 'prune' => $prune, 'protect' => self::protect_list($network, $wanted)];
		$result   = closte_sync(array_map('strval', array_keys($wanted['names'])), $options);
		$owned    = Alias_Registry::all();
		$listed   = count($result['listing']['domains'] ?? []);

		$to_remove = [];
		$unowned   = [];
		$kept      = [];
		foreach ($result['to_remove'] as $alias) {
			$uses = Network_Domains::uses($network, $alias);
			if ([] !== $uses) {
				// The implementation's own rules did not keep it (an older extension without
				// the twin rule): the plugin's list of what is used decides.
				$kept[ $alias ] = $uses[0];
			} elseif (Alias_Registry::owns($owned[ $alias ] ?? null)) {
				$to_remove[ $alias ] = Sync_Messages::reason('owned_unused', (int) $owned[ $alias ]['site_id'], gmdate('Y-m-d', (int) $owned[ $alias ]['at']));
			} else {
				$unowned[ $alias ] = Sync_Messages::reason('unowned_unused');
			}
		}
		foreach ($result['kept'] as $alias => $rule) {
			$kept[ $alias ] = self::kept_reason((string) $alias, (string) $rule, $wanted);
		}
		$to_add = [];
		foreach ($result['to_add'] as $name) {
			$to_add[ $name ] = $wanted['names'][ $name ] ?? Sync_Messages::reason('custom', '');
		}
		$skipped = [];
		foreach ($network['invalid'] as $name => $reason) {
			$skipped[ $name ] = $reason;
		}
		foreach ($result['skipped'] as $alias) {
			$skipped[ $alias ] = Sync_Messages::reason('not_host');
		}
		foreach ([&$to_add, &$to_remove, &$unowned, &$kept, &$skipped] as &$list) {
			uksort($list, 'strnatcasecmp');
		}
		unset($list);

		$threshold = max(0, (int) apply_filters('closte_native_prune_confirm_threshold', 25));
		$count     = count($to_remove);
		$plan      = [
			'id'               => wp_generate_uuid4(),
			'created_at'       => time(),
			'prune_asked'      => $prune_asked,
			'prune'            => $prune,
			'listing_ok'       => (bool) $result['listing']['ok'],
			'listing'          => $result['listing']['ok'] ? '' : self::explain_failure($result['listing']),
			'listing_may_pass' => ! empty($result['listing']['retryable']),
			'listed'           => $listed,
			'desired'          => count($wanted['names']),
			'to_add'           => $to_add,
			'to_remove'        => $to_remove,
			'unowned'          => $unowned,
			'kept'             => $kept,
			'unchanged'        => count($result['unchanged']),
			'skipped'          => $skipped,
			'warnings'         => $warnings,
			'threshold'        => $threshold,
			'needs_typed'      => $count > 0 && ($count > $threshold || $count > 0.1 * $listed),
			'typed_phrase'     => sprintf('remove %d', $count),
		];
		$plan['token'] = self::confirmation_token($plan);

		return $plan;
	}

	/** Why closte_sync kept a prune candidate, as a reason. */
	private static function kept_reason(string $alias, string $rule, array $wanted): array {

		if ('wildcard' === $rule) {
			return Sync_Messages::reason('wildcard');
		}
		if ('twin' === $rule) {
			return Sync_Messages::reason('twin', (string) Network_Domains::twin($alias));
		}
		if (isset($wanted['covered'][ $alias ])) {
			return Sync_Messages::reason('subdomain');
		}

		return Sync_Messages::reason('protected');
	}

	/**
	 * Runs a confirmed plan in two steps. First it adds what is missing now (nothing removed).
	 * Then, just before removing, it reads the network again and removes only the confirmed
	 * aliases that Closte still lists, that nothing uses now (neither they nor their twin), and,
	 * for those this plugin added, whose ownership record is still there. Ownership is recorded
	 * and forgotten per result as results arrive, so a run killed half-way leaves true records.
	 *
	 * @param array         $plan     From preview(), as confirmed.
	 * @param callable|null $progress fn (int $done, int $total), called at most about once a second.
	 * @param string[]      $unowned  Aliases the plugin did not add that the operator ticked.
	 * @return array<string, mixed> The report.
	 */
	public static function apply(array $plan, ?callable $progress = null, array $unowned = []): array {

		$started  = microtime(true);
		$network  = Network_Domains::collect();
		$wanted   = self::wanted($network);
		$warnings = $network['problems'];
		$owned    = array_keys((array) $plan['to_remove']);
		$removals = $plan['prune'] ? array_values(array_unique(array_merge($owned, array_intersect($unowned, array_keys((array) ($plan['unowned'] ?? [])))))) : [];
		$total    = count($plan['to_add']) + count($removals);
		$done     = 0;
		$last     = 0.0;
		$site_ids = $network['site_ids'];
		$on_result = static function (array $result) use (&$done, &$last, &$total, $progress, &$site_ids): void {
			// Ownership as each result arrives: an add we made is ours; "already exists" is not
			// (someone else created it); a removal ends ours.
			$domain = (string) ($result['domain'] ?? '');
			if (! empty($result['ok']) && 'added' === ($result['state'] ?? '')) {
				Alias_Registry::record($domain, (int) ($site_ids[ $domain ] ?? 0), 'sync');
			} elseif (! empty($result['ok']) && 'remove_domain' === ($result['operation'] ?? '')) {
				Alias_Registry::forget($domain, 'sync');
			}
			$done++;
			if (null !== $progress && (microtime(true) - $last >= 1.0 || $done >= $total)) {
				$last = microtime(true);
				$progress($done, max($total, $done));
			}
		};
		$options = ['protect' => self::protect_list($network, $wanted), 'progress' => $on_result];
		$concurrency = apply_filters('closte_native_sync_concurrency', null);
		if (is_int($concurrency)) {
			$options['concurrency'] = $concurrency;
		}

		// Step 1: adds only.
		$adds    = closte_sync(array_map('strval', array_keys($wanted['names'])), ['prune' => false] + $options);
		$results = $adds['results'];
		$added   = $adds['added'];
		$removed = [];
		$kept    = [];
		$skipped = [];
		$listing = $adds['listing'];

		// Step 2: removals, each checked again against the network as it is now.
		if ([] !== $removals && [] === $warnings) {
			$now = Network_Domains::collect();
			if (! $now['complete']) {
				$missing = Sync_Messages::join($now['problems']);
				foreach ($removals as $alias) {
					$kept[ $alias ] = Sync_Messages::reason('list_incomplete', $missing);
				}
				$warnings = $now['problems'];
			} else {
				$confirmed = [];
				foreach ($removals as $alias) {
					$uses = Network_Domains::uses($now, $alias);
					if ([] !== $uses) {
						$kept[ $alias ] = Sync_Messages::reason('now_used', Sync_Messages::join($uses));
					} elseif (in_array($alias, $owned, true) && ! Alias_Registry::owns(Alias_Registry::get($alias))) {
						$kept[ $alias ] = Sync_Messages::reason('no_longer_owned');
					} else {
						$confirmed[] = $alias;
					}
				}
				$total -= count($removals) - count($confirmed);
				if ([] !== $confirmed) {
					$wanted_now          = self::wanted($now);
					$site_ids            = $now['site_ids'];
					$options['protect']  = self::protect_list($now, $wanted_now);
					$pruned              = closte_sync(array_map('strval', array_keys($wanted_now['names'])), ['prune' => true, 'confirm_remove' => $confirmed] + $options);
					$results             = array_merge($results, $pruned['results']);
					$added               = array_values(array_unique(array_merge($added, $pruned['added'])));
					$removed             = $pruned['removed'];
					$listing             = $pruned['listing'];
					foreach ($pruned['unconfirmed'] as $alias) {
						$skipped[ $alias ] = Sync_Messages::reason('not_confirmed');
					}
					foreach ($pruned['kept'] as $alias => $rule) {
						if (in_array($alias, $confirmed, true)) {
							$kept[ $alias ] = self::kept_reason((string) $alias, (string) $rule, $wanted_now);
						}
					}
				}
			}
		} elseif ([] !== $removals) {
			foreach ($removals as $alias) {
				$kept[ $alias ] = Sync_Messages::reason('list_incomplete', Sync_Messages::join($warnings));
			}
		}

		$failed   = [];
		$for_good = 0;
		foreach ($results as $domain => $outcome) {
			Logger::log(Logger::describe($outcome, 'sync'), $outcome['ok'] ? 'info' : 'warning');
			if (! $outcome['ok']) {
				$failed[ $domain ] = self::explain_failure($outcome);
				$for_good         += empty($outcome['retryable']) ? 1 : 0;
			}
		}
		foreach ($network['invalid'] as $name => $reason) {
			$skipped[ $name ] = $reason;
		}
		foreach ([&$kept, &$skipped, &$failed] as &$list) {
			uksort($list, 'strnatcasecmp');
		}
		unset($list);
		sort($added, SORT_NATURAL);
		sort($removed, SORT_NATURAL);

		$report = [
			'ok'         => (bool) $listing['ok'] && [] === $failed,
			'prune'      => (bool) $plan['prune'],
			'listing'    => $listing['ok'] ? '' : self::explain_failure($listing),
			'may_pass'   => ($listing['ok'] || ! empty($listing['retryable'])) && 0 === $for_good,
			'added'      => $added,
			'removed'    => $removed,
			'unchanged'  => count($adds['unchanged']),
			'kept'       => $kept,
			'skipped'    => $skipped,
			'failed'     => $failed,
			'warnings'   => $warnings,
			'elapsed_ms' => (microtime(true) - $started) * 1000,
		];
		Logger::log(
			sprintf(
				'sync of %d domains%s: %s, %d added, %d removed, %d unchanged, %d kept, %d skipped, %d failed, %.0f ms',
				count($wanted['names']),
				$plan['prune'] ? ' (prune)' : '',
				$report['ok'] ? 'OK' : 'FAILED',
				count($added),
				count($removed),
				$report['unchanged'],
				count($kept),
				count($skipped),
				count($failed),
				$report['elapsed_ms']
			),
			$report['ok'] ? 'info' : 'error'
		);
		foreach ($kept as $alias => $reason) {
			Logger::log(sprintf('sync: %s kept: %s', $alias, Sync_Messages::text($reason)));
		}
		if ([] !== $warnings) {
			Logger::log('sync: the network\'s list is incomplete, nothing was removed: ' . Sync_Messages::join($warnings), 'warning');
		}
		if ('' !== $report['listing']) {
			Logger::log('sync: Closte\'s alias list could not be read: ' . $report['listing'], 'error');
		}

		return $report;
	}

	/** A plan in one line, as the page and `wp closte sync` show it. */
	public static function plan_summary(array $plan): string {

		return sprintf(
			/* translators: 1: to add, 2: to remove, 3: not added by this plugin, 4: unchanged, 5: aliases on Closte */
			__('%1$d to add, %2$d to remove, %3$d not added by this plugin (left alone), %4$d already on Closte (Closte lists %5$d aliases).', 'closte-native'),
			count($plan['to_add']),
			count($plan['to_remove']),
			count((array) ($plan['unowned'] ?? [])),
			$plan['unchanged'],
			$plan['listed']
		);
	}

	/**
	 * The confirmation code of a plan's removals (for the form and the command line): the
	 * number of removals and a digest of exactly that set, so a code confirms one set and
	 * states its size.
	 */
	public static function confirmation_token(array $plan): string {

		return self::names_token(array_keys((array) $plan['to_remove']));
	}

	/**
	 * The code of exactly these names, e.g. "2-5f0c1d2e9a7b".
	 *
	 * @param string[] $names
	 */
	public static function names_token(array $names): string {

		$names = array_values(array_unique(array_map('strval', $names)));
		sort($names, SORT_STRING);

		return sprintf('%d-%s', count($names), substr(hash('sha256', implode("\n", $names)), 0, 12));
	}

	/** A failed result in words an operator can act on. */
	public static function explain_failure(array $result): string {

		$text = sprintf('%s (%s, HTTP %d)', (string) ($result['error'] ?? ''), (string) ($result['error_kind'] ?? '?'), (int) ($result['status'] ?? 0));
		if ('auth' === ($result['error_kind'] ?? '')) {
			$text .= ' ' . __('Closte refused the API key. The key is the constant CLOSTE_CLIENT_API_KEY in wp-config.php (on Closte it is set from the Closte dashboard); check it there.', 'closte-native');
		} elseif (! empty($result['retryable'])) {
			$text .= ' ' . __('This may pass: try again in a few minutes.', 'closte-native');
		}

		return Logger::redact($text);
	}

	private static function explain_exception(\Throwable $e): string {

		if ($e instanceof \Closte\ConfigurationException) {
			/* translators: %s: the extension's message */
			return sprintf(__('The closte extension is not configured: %s. On Closte the key is the constant CLOSTE_CLIENT_API_KEY in wp-config.php, set from the Closte dashboard.', 'closte-native'), $e->getMessage());
		}

		return get_class($e) . ': ' . $e->getMessage();
	}

	/**
	 * Stores a new state for a queued job and schedules it.
	 *
	 * @return true
	 */
	private static function queue(array $request): bool {

		$run = wp_generate_uuid4();
		update_site_option(
			self::STATE,
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

	private static function save(array $state, array $changes): void {

		update_site_option(self::STATE, array_merge($state, $changes, ['heartbeat' => time()]));
	}

	/**
	 * Runs $critical under a database lock, so two requests (double submits, two admins) cannot
	 * both see "idle" and queue two syncs.
	 *
	 * @return mixed|\WP_Error
	 */
	private static function with_lock(callable $critical) {

		global $wpdb;

		$name = 'closte_native_sync_' . get_current_network_id();
		if ('1' !== (string) $wpdb->get_var($wpdb->prepare('SELECT GET_LOCK(%s, 10)', $name))) {
			return new \WP_Error('closte-sync-busy', __('Another sync request is being handled; try again in a moment.', 'closte-native'));
		}
		try {
			wp_cache_delete(get_current_network_id() . ':' . self::STATE, 'site-options');
			return $critical();
		} finally {
			$wpdb->query($wpdb->prepare('SELECT RELEASE_LOCK(%s)', $name));
		}
	}
}
