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
 * - prune is refused when the list of what the network uses is incomplete (Ultimate Multisite
 *   not loaded, a database error) or empty;
 * - the network's domains, their `www.` form, wildcard aliases and the filter
 *   `closte_native_protected_aliases` are never removed;
 * - a run removes only the aliases the operator confirmed from the preview, re-checked against
 *   a fresh listing and a fresh list of the network's domains;
 * - above a threshold (more than 10 % of Closte's aliases, or more than
 *   `closte_native_prune_confirm_threshold`, default 25) the operator must type the phrase
 *   "remove N" as well.
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
	 * Queues the run of the stored plan, after checking that $confirmed is exactly its removal
	 * set and, above the threshold, that $typed is its phrase.
	 *
	 * @param string   $plan_id   The plan the operator saw.
	 * @param string[] $confirmed The removals the operator confirmed.
	 * @param string   $typed     The typed confirmation ("remove N"), when the plan needs one.
	 * @return true|\WP_Error
	 */
	public static function request_apply(string $plan_id, array $confirmed, string $typed = '') {

		return self::with_lock(
			static function () use ($plan_id, $confirmed, $typed) {
				$state = self::state();
				if (self::is_busy($state)) {
					return self::refusal('closte-sync-busy');
				}
				$plan = $state['plan'] ?? null;
				if ('planned' !== $state['status'] || ! is_array($plan) || ($plan['id'] ?? '') !== $plan_id) {
					return self::refusal('closte-sync-stale');
				}
				$expected = array_keys($plan['to_remove']);
				$given    = array_values(array_unique(array_map('strval', $confirmed)));
				sort($expected);
				sort($given);
				if ($expected !== $given) {
					return self::refusal('closte-sync-mismatch');
				}
				if ($plan['needs_typed'] && trim(strtolower($typed)) !== $plan['typed_phrase']) {
					return self::refusal('closte-sync-typed', $plan['typed_phrase']);
				}
				return self::queue(['mode' => 'apply', 'prune' => (bool) $plan['prune'], 'plan' => $plan]);
			}
		);
	}

	/**
	 * Why a sync request was refused, in the words the page shows too (it gets only the code
	 * back through its redirect and asks here again).
	 *
	 * @param string $code   closte-sync-busy|stale|mismatch|typed.
	 * @param string $phrase The phrase to type, for closte-sync-typed.
	 */
	public static function refusal(string $code, string $phrase = ''): \WP_Error {

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
				$message = sprintf(__('This sync removes many aliases. Type "%s" to confirm. Nothing was changed.', 'closte-native'), $phrase);
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
		try {
			if ('preview' === $mode) {
				$plan = self::preview((bool) $state['prune']);
				self::save(self::state(), ['status' => 'planned', 'plan' => $plan, 'finished_at' => time()]);
			} else {
				$report = self::apply(
					$state['plan'],
					static function (int $done, int $total) {
						self::save(self::state(), ['progress' => ['done' => $done, 'total' => $total]]);
					}
				);
				self::save(self::state(), ['status' => 'done', 'report' => $report, 'plan' => null, 'finished_at' => time()]);
			}
		} catch (\Throwable $e) {
			$message = self::explain_exception($e);
			Logger::log('sync failed: ' . $message, 'error');
			self::save(self::state(), ['status' => 'failed', 'error' => Logger::redact($message), 'finished_at' => time()]);
		}
	}

	/**
	 * The plan: what a run would add and remove, and why; nothing is changed (one /getdomains).
	 *
	 * @return array<string, mixed>
	 */
	public static function preview(bool $prune): array {

		$sources  = Network_Domains::collect();
		$desired  = self::valid_names($sources);
		$refused  = $prune ? self::prune_refusals($sources, $desired['names']) : [];
		$prune    = $prune && [] === $refused;
		$options  = ['dry_run' => true, 'prune' => $prune, 'protect' => self::protected_names()];
		$result   = closte_sync(array_keys($desired['names']), $options);
		$owned    = Alias_Registry::all();
		$listed   = count($result['listing']['domains'] ?? []);

		$to_remove = [];
		foreach ($result['to_remove'] as $alias) {
			$owner               = $owned[ $alias ] ?? null;
			$to_remove[ $alias ] = Alias_Registry::owns($owner)
				/* translators: 1: site id, 2: date */
				? sprintf(__('no site, domain record or protected name uses it; added by this integration for site %1$d on %2$s', 'closte-native'), $owner['site_id'], gmdate('Y-m-d', (int) $owner['at']))
				: __('no site, domain record or protected name uses it; not added by this integration (it was there before, or added by hand)', 'closte-native');
		}
		$kept = [];
		foreach ($result['kept'] as $alias => $rule) {
			$kept[ $alias ] = 'wildcard' === $rule
				? __('wildcard alias: never removed by a sync', 'closte-native')
				: __('the network\'s own domain, its www. form, or protected by the filter closte_native_protected_aliases', 'closte-native');
		}
		$to_add = [];
		foreach ($result['to_add'] as $name) {
			$to_add[ $name ] = $desired['names'][ $name ] ?? '';
		}
		$threshold = max(0, (int) apply_filters('closte_native_prune_confirm_threshold', 25));
		$count     = count($to_remove);

		return [
			'id'           => wp_generate_uuid4(),
			'created_at'   => time(),
			'prune'        => $prune,
			'listing_ok'   => (bool) $result['listing']['ok'],
			'listing'      => $result['listing']['ok'] ? '' : self::explain_failure($result['listing']),
			'listing_may_pass' => ! empty($result['listing']['retryable']),
			'listed'       => $listed,
			'desired'      => count($desired['names']),
			'to_add'       => $to_add,
			'to_remove'    => $to_remove,
			'kept'         => $kept,
			'unchanged'    => count($result['unchanged']),
			'invalid'      => $desired['invalid'],
			'not_hosts'    => $result['skipped'],
			'refused'      => $refused,
			'needs_typed'  => $count > 0 && ($count > $threshold || $count > 0.1 * $listed),
			'typed_phrase' => sprintf('remove %d', $count),
		];
	}

	/**
	 * Runs a confirmed plan: adds what is missing now, removes only the plan's confirmed
	 * aliases that a fresh listing still shows and that nothing uses now.
	 *
	 * @param array         $plan     From preview(), as confirmed.
	 * @param callable|null $progress fn (int $done, int $total), called at most about once a second.
	 * @return array<string, mixed> The report.
	 */
	public static function apply(array $plan, ?callable $progress = null): array {

		$started = microtime(true);
		$sources = Network_Domains::collect();
		$desired = self::valid_names($sources);
		$refused = $plan['prune'] ? self::prune_refusals($sources, $desired['names']) : [];
		$prune   = $plan['prune'] && [] === $refused && [] !== $plan['to_remove'];
		$total   = count($plan['to_add']) + ($prune ? count($plan['to_remove']) : 0);
		$options = ['prune' => $prune, 'protect' => self::protected_names()];
		if ($prune) {
			$options['confirm_remove'] = array_keys($plan['to_remove']);
		}
		$concurrency = apply_filters('closte_native_sync_concurrency', null);
		if (is_int($concurrency)) {
			$options['concurrency'] = $concurrency;
		}
		$last = 0.0;
		if (null !== $progress) {
			$options['progress'] = static function (array $result, int $done) use ($progress, $total, &$last): void {
				if (microtime(true) - $last >= 1.0 || $done >= $total) {
					$last = microtime(true);
					$progress($done, max($total, $done));
				}
			};
		}

		$result = closte_sync(array_keys($desired['names']), $options);

		$failed   = [];
		$for_good = 0;
		foreach ($result['results'] as $domain => $outcome) {
			Logger::log(Logger::describe($outcome, 'sync'), $outcome['ok'] ? 'info' : 'warning');
			if (! $outcome['ok']) {
				$failed[ $domain ] = self::explain_failure($outcome);
				$for_good         += empty($outcome['retryable']) ? 1 : 0;
			} elseif ('added' === $outcome['state']) {
				Alias_Registry::record($domain, (int) ($sources['site_ids'][ $domain ] ?? 0), 'sync');
			} elseif ('remove_domain' === $outcome['operation']) {
				Alias_Registry::forget($domain, 'sync');
			}
		}
		$skipped = [];
		foreach ($desired['invalid'] as $name => $reason) {
			$skipped[ $name ] = $reason;
		}
		foreach ($result['unconfirmed'] as $alias) {
			$skipped[ $alias ] = __('not removed: it was not in the confirmed preview', 'closte-native');
		}
		foreach ($result['kept'] as $alias => $rule) {
			$skipped[ $alias ] = 'wildcard' === $rule ? __('kept: wildcard alias', 'closte-native') : __('kept: protected', 'closte-native');
		}
		if ([] !== $refused) {
			/* translators: %s: why */
			$skipped[ __('(prune)', 'closte-native') ] = sprintf(__('nothing removed: %s', 'closte-native'), implode('; ', $refused));
		}

		sort($result['added']);
		sort($result['removed']);
		ksort($failed);
		$report = [
			'ok'         => (bool) $result['ok'] && [] === $failed,
			'prune'      => $prune,
			'listing'    => $result['listing']['ok'] ? '' : self::explain_failure($result['listing']),
			'may_pass'   => ($result['listing']['ok'] || ! empty($result['listing']['retryable'])) && 0 === $for_good,
			'added'      => $result['added'],
			'removed'    => $result['removed'],
			'unchanged'  => count($result['unchanged']),
			'skipped'    => $skipped,
			'failed'     => $failed,
			'elapsed_ms' => (microtime(true) - $started) * 1000,
		];
		Logger::log(
			sprintf(
				'sync of %d domains%s: %s, %d added, %d removed, %d unchanged, %d skipped, %d failed, %.0f ms',
				count($desired['names']),
				$prune ? ' (prune)' : '',
				$report['ok'] ? 'OK' : 'FAILED',
				count($report['added']),
				count($report['removed']),
				$report['unchanged'],
				count($skipped),
				count($failed),
				$report['elapsed_ms']
			),
			$report['ok'] ? 'info' : 'error'
		);
		if ('' !== $report['listing']) {
			Logger::log('sync: Closte\'s alias list could not be read: ' . $report['listing'], 'error');
		}

		return $report;
	}

	/**
	 * The network's names the extension accepts; the others are reported, not fatal to the run
	 * (WordPress allows ports, underscores and single-label hosts that Closte cannot serve).
	 *
	 * @return array{names: array<string, string>, invalid: array<string, string>}
	 */
	private static function valid_names(array $sources): array {

		$names   = [];
		$invalid = [];
		foreach ($sources['domains'] as $name => $source) {
			try {
				$names[ closte_normalize_domain((string) $name) ] = $source;
			} catch (\Closte\InvalidDomainException $e) {
				/* translators: 1: where the name comes from, 2: why it is invalid */
				$invalid[ (string) $name ] = sprintf(__('skipped (%1$s): %2$s', 'closte-native'), $source, $e->getMessage());
			}
		}

		return ['names' => $names, 'invalid' => $invalid];
	}

	/**
	 * Why pruning must not run against this list, if it must not.
	 *
	 * @return string[]
	 */
	private static function prune_refusals(array $sources, array $names): array {

		$refusals = $sources['problems'];
		if ([] === $names && [] === $refusals) {
			$refusals[] = __('the list of the network\'s domains is empty', 'closte-native');
		}

		return $refusals;
	}

	/** The protected aliases the extension accepts as names. */
	private static function protected_names(): array {

		$names = [];
		foreach (Network_Domains::protected_aliases() as $alias) {
			try {
				$names[] = closte_normalize_domain($alias);
			} catch (\Closte\InvalidDomainException $e) {
				continue; // Closte cannot hold it, so it cannot be removed either.
			}
		}

		return $names;
	}

	/** A plan in one line, as the page and `wp closte sync` show it. */
	public static function plan_summary(array $plan): string {

		return sprintf(
			/* translators: 1: to add, 2: to remove, 3: unchanged, 4: aliases on Closte */
			__('%1$d to add, %2$d to remove, %3$d already on Closte (Closte lists %4$d aliases).', 'closte-native'),
			count($plan['to_add']),
			count($plan['to_remove']),
			$plan['unchanged'],
			$plan['listed']
		);
	}

	/**
	 * The confirmation code of a plan's removals, for the command line: the number of removals
	 * and a digest of exactly that set, so a code confirms one set and states its size.
	 */
	public static function confirmation_token(array $plan): string {

		$aliases = array_map('strval', array_keys($plan['to_remove']));
		sort($aliases);

		return sprintf('%d-%s', count($aliases), substr(hash('sha256', implode("\n", $aliases)), 0, 12));
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
		Jobs::schedule(self::JOB_HOOK, 0, [$request['mode'], $run]);

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
