<?php
/**
 * The plan of a Closte Sync and its run: what would be added and removed and why (preview), and
 * the run of a confirmed plan (apply), against the network's list and Closte's.
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
final class Sync_Plan {

	/**
	 * The names the network wants on Closte (normal form => where it comes from), and the site
	 * subdomains left to a wildcard alias when the filter closte_native_sync_subdomains is off
	 * (never added, never removed).
	 *
	 * @return array{names: array<string, array>, covered: array<string, true>, twins: array<string, string>} twins: www. twin => its bare name
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
		// The www. twins that should exist (Www_Twin's rule, as after an add): a sync adds a
		// missing one; a twin is in use while its bare name is, so it is never offered for removal.
		$twins = [];
		foreach (array_keys($names) as $name) {
			$twin = Www_Twin::twin_to_add((string) $name, $network);
			if (null !== $twin && ! isset($names[ $twin ]) && ! isset($network['invalid'][ $twin ])) {
				$names[ $twin ] = Sync_Messages::reason('www_twin', (string) $name);
				$twins[ $twin ] = (string) $name;
			}
		}

		return ['names' => $names, 'covered' => $covered, 'twins' => $twins];
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
			'listing'          => $result['listing']['ok'] ? '' : Sync_Messages::explain_failure($result['listing']),
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
		$owned_removals = array_keys((array) $plan['to_remove']);
		$removals       = $plan['prune'] ? array_values(array_unique(array_merge($owned_removals, array_intersect($unowned, array_keys((array) ($plan['unowned'] ?? [])))))) : [];
		$total    = count($plan['to_add']) + count($removals);
		$done     = 0;
		$last     = 0.0;
		$site_ids = $network['site_ids'];
		$twins    = $wanted['twins'];
		$on_result = static function (array $result) use (&$done, &$last, &$total, $progress, &$site_ids, $twins): void {
			// Ownership as each result arrives: an add we made is ours; "already exists" is not
			// (someone else created it); a removal ends ours. A www. twin is recorded as the
			// twin of its bare name, for that name's site.
			$domain = (string) ($result['domain'] ?? '');
			if (! empty($result['ok']) && 'added' === ($result['state'] ?? '')) {
				$bare = $twins[ $domain ] ?? null;
				Alias_Registry::record($domain, (int) ($site_ids[ $bare ?? $domain ] ?? 0), null !== $bare ? Www_Twin::source($bare) : 'sync');
				Certificate_Lifecycle::alias_added($domain, (int) ($site_ids[ $bare ?? $domain ] ?? 0), 'sync', $bare);
			} elseif (! empty($result['ok']) && 'remove_domain' === ($result['operation'] ?? '')) {
				Alias_Registry::forget($domain, 'sync');
				Certificate_Lifecycle::alias_removed($domain);
			}
			$done++;
			if (null !== $progress && (microtime(true) - $last >= 1.0 || $done >= $total)) {
				$last = microtime(true);
				$progress($done, max($total, $done));
			}
		};
		// Adds request no certificate: Certificate_Lifecycle requests it once DNS is ready.
		$options = ['protect' => self::protect_list($network, $wanted), 'progress' => $on_result, 'request_ssl' => false];
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

		// Step 2: removals, each checked again against the network as it is now. A list that was
		// incomplete at the start, or is now, keeps every confirmed alias.
		if ([] !== $removals && [] === $warnings) {
			$now      = Network_Domains::collect();
			$warnings = $now['problems'];
		}
		if ([] !== $removals && [] !== $warnings) {
			$missing = Sync_Messages::join($warnings);
			foreach ($removals as $alias) {
				$kept[ $alias ] = Sync_Messages::reason('list_incomplete', $missing);
			}
		} elseif ([] !== $removals) {
			$confirmed = [];
			foreach ($removals as $alias) {
				$uses = Network_Domains::uses($now, $alias);
				if ([] !== $uses) {
					$kept[ $alias ] = Sync_Messages::reason('now_used', Sync_Messages::join($uses));
				} elseif (in_array($alias, $owned_removals, true) && ! Alias_Registry::owns(Alias_Registry::get($alias))) {
					$kept[ $alias ] = Sync_Messages::reason('no_longer_owned');
				} else {
					$confirmed[] = $alias;
				}
			}
			$total -= count($removals) - count($confirmed);
			if ([] !== $confirmed) {
				$wanted_now         = self::wanted($now);
				$site_ids           = $now['site_ids'];
				$options['protect'] = self::protect_list($now, $wanted_now);
				$pruned             = closte_sync(array_map('strval', array_keys($wanted_now['names'])), ['prune' => true, 'confirm_remove' => $confirmed] + $options);
				$results            = array_merge($results, $pruned['results']);
				$added              = array_values(array_unique(array_merge($added, $pruned['added'])));
				$removed            = $pruned['removed'];
				$listing            = $pruned['listing'];
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

		$failed   = [];
		$for_good = 0;
		foreach ($results as $domain => $outcome) {
			Logger::log(Logger::describe($outcome, 'sync'), $outcome['ok'] ? 'info' : 'warning');
			if (! $outcome['ok']) {
				$failed[ $domain ] = Sync_Messages::explain_failure($outcome);
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
			'listing'    => $listing['ok'] ? '' : Sync_Messages::explain_failure($listing),
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

	/** The phrase that confirms the removal of $count aliases this plugin did not add. */
	public static function unowned_phrase(int $count): string {

		return sprintf('remove %d unowned', $count);
	}
}
