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
 *   made after the adds and again at the start of each batch of removals, still shows unused;
 *   ownership is recorded and forgotten per result as results arrive;
 * - above a threshold (more than 10 % of Closte's aliases, or more than
 *   `closte_native_prune_confirm_threshold`, default 25) the operator must type "remove N";
 * - one sync at a time: the page's background jobs and `wp closte sync` take the same lock and
 *   state.
 *
 * Plans and reports store reasons as codes (Sync_Messages) and are put into words when shown.
 */
final class Sync_Plan {

	/** The lists of a run's report: names (added, removed), or name => reason. */
	const REPORT_LISTS = ['added', 'removed', 'kept', 'skipped', 'failed'];

	/**
	 * The names the network wants on Closte (normal form => where it comes from, compact as in
	 * Sync_Network), and the site subdomains left to a wildcard alias when the filter
	 * closte_native_sync_subdomains is off (never added, never removed).
	 *
	 * @param array $network A Sync_Network::collect() result.
	 * @return array{names: array<string, int|string>, covered: array<string, true>, twins: array<string, string>} twins: www. twin => its bare name
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
				$names[ $twin ] = Sync_Messages::pack(Sync_Messages::reason('www_twin', (string) $name));
				$twins[ $twin ] = (string) $name;
			}
		}

		return ['names' => $names, 'covered' => $covered, 'twins' => $twins];
	}

	/**
	 * The names of $wanted as the list closte_sync() takes, and $wanted['names'] dropped: the
	 * network's list holds the same sources (the twins are in $wanted['twins']), and at 100,000
	 * names a second map of them is megabytes the implementation's call needs under 64 MB.
	 *
	 * @return string[]
	 */
	private static function names_to_send(array &$wanted): array {

		$names = [];
		foreach ($wanted['names'] as $name => $source) {
			$names[] = (string) $name;
		}
		$wanted['names'] = null;

		return $names;
	}

	/** Where a wanted name comes from, packed for a stored plan (after names_to_send()). */
	private static function packed_source_of(string $name, array $network, array $wanted): string {

		if (isset($wanted['twins'][ $name ])) {
			return Sync_Messages::pack(Sync_Messages::reason('www_twin', $wanted['twins'][ $name ]));
		}
		if (isset($network['domains'][ $name ])) {
			return self::packed_source($network['domains'][ $name ]);
		}

		return Sync_Messages::pack(Sync_Messages::reason('custom', ''));
	}

	/** A wanted name's source, packed for a stored plan. */
	private static function packed_source($source): string {

		return is_string($source) ? $source : Sync_Messages::pack(Sync_Network::source_of($source));
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

		$network  = Sync_Network::collect();
		$wanted   = self::wanted($network);
		$warnings = $network['problems'];
		Sync_State::alive();
		$prune    = $prune_asked && [] === $warnings && [] !== $wanted['names'];
		// 'summary': Closte's listing and the unchanged names come back as counts, all the
		// preview keeps of them (at 100,000 names the lists were 13 MiB of the job's 64 MB).
		$options  = ['dry_run' => true, 'prune' => $prune, 'protect' => self::protect_list($network, $wanted), 'summary' => true];
		$names    = self::names_to_send($wanted);
		$desired  = count($names);
		$result   = closte_sync($names, $options);
		unset($names);
		Sync_State::alive();
		$listed    = (int) $result['listed_count'];
		$unchanged = (int) $result['unchanged_count'];
		$listing   = self::listing_summary($result['listing']);
		unset($result['listing'], $result['results']);

		$to_remove  = [];
		$unowned    = [];
		$kept       = [];
		$candidates = [];
		foreach ($result['to_remove'] as $alias) {
			$uses = Sync_Network::uses($network, $alias);
			if ([] !== $uses) {
				// The implementation's own rules did not keep it (an older extension without
				// the twin rule): the plugin's list of what is used decides.
				$kept[ $alias ] = Sync_Messages::pack($uses[0]);
			} else {
				$candidates[] = $alias;
			}
		}
		$owned = Sync_Network::owned($candidates);
		Sync_State::alive();
		foreach ($candidates as $alias) {
			if (isset($owned[ $alias ])) {
				$to_remove[ $alias ] = Sync_Messages::pack(Sync_Messages::reason('owned_unused', (int) $owned[ $alias ]['site_id'], gmdate('Y-m-d', (int) $owned[ $alias ]['at'])));
			} else {
				$unowned[ $alias ] = Sync_Messages::pack(Sync_Messages::reason('unowned_unused'));
			}
		}
		unset($owned, $candidates);
		foreach ($result['kept'] as $alias => $rule) {
			$kept[ $alias ] = Sync_Messages::pack(self::kept_reason((string) $alias, (string) $rule, $wanted));
		}
		$to_add = [];
		foreach ($result['to_add'] as $name) {
			$to_add[ $name ] = self::packed_source_of((string) $name, $network, $wanted);
		}
		$skipped = [];
		foreach ($network['invalid'] as $name => $reason) {
			$skipped[ $name ] = $reason;
		}
		foreach ($result['skipped'] as $alias) {
			$skipped[ $alias ] = Sync_Messages::pack(Sync_Messages::reason('not_host'));
		}
		unset($result, $wanted, $network);
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
			'listing_ok'       => (bool) $listing['ok'],
			'listing'          => $listing['ok'] ? '' : Sync_Messages::explain_failure($listing),
			'listing_may_pass' => ! empty($listing['retryable']),
			'listed'           => $listed,
			'desired'          => $desired,
			'to_add'           => $to_add,
			'to_remove'        => $to_remove,
			'unowned'          => $unowned,
			'kept'             => $kept,
			'unchanged'        => $unchanged,
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
	 * The cursor as it is stored between two batches: its queue deflated and base64-encoded
	 * (the option is text). Every job of a run reads the sync state and writes it back twice,
	 * and each copy held the whole queue: 4.0 MiB of lines at the start of a first sync of
	 * 100,000 names, several times over in one job (the option's row, its unserialized value,
	 * the serialized and escaped copies of each write), and on every poll of the Sync page.
	 * Without zlib the queue is stored as it is.
	 *
	 * @param array<string, mixed> $cursor From apply_step().
	 * @return array<string, mixed>
	 */
	public static function pack_cursor(array $cursor): array {

		$queue = (string) ($cursor['queue'] ?? '');
		if ('' === $queue || ! function_exists('gzdeflate')) {
			return $cursor;
		}
		$deflated = gzdeflate($queue, 6);
		if (false === $deflated) {
			return $cursor;
		}
		$cursor['queue']          = '';
		$cursor['queue_deflated'] = base64_encode($deflated);

		return $cursor;
	}

	/**
	 * The cursor pack_cursor() stored, for apply_step(); a cursor stored unpacked (no zlib, or
	 * an earlier version of the plugin in the middle of a run) is returned as it is.
	 *
	 * @param array<string, mixed> $cursor As stored.
	 * @return array<string, mixed>
	 * @throws Sync_Stopped When the stored queue cannot be read: the run must not go on as if
	 *                      nothing were left to add.
	 */
	public static function unpack_cursor(array $cursor): array {

		if (! isset($cursor['queue_deflated'])) {
			return $cursor;
		}
		$deflated = base64_decode((string) $cursor['queue_deflated'], true);
		$queue    = false !== $deflated && function_exists('gzinflate') ? @gzinflate($deflated) : false;
		if (false === $queue) {
			throw new Sync_Stopped(__('The names this sync run had left to add could not be read back from where the last batch stored them (is PHP\'s zlib missing now?). Nothing more was added: start the sync again; its preview shows what is still missing.', 'closte-native'));
		}
		unset($cursor['queue_deflated']);
		$cursor['queue'] = $queue;

		return $cursor;
	}

	/**
	 * Runs a confirmed plan in this process to the end (`wp closte sync`): apply_step() until
	 * it returns the report.
	 *
	 * @param array         $plan     From preview(), as confirmed.
	 * @param callable|null $progress fn (int $done, int $total), called at most about once a second.
	 * @param string[]      $unowned  Aliases the plugin did not add that the operator ticked.
	 * @return array<string, mixed> The report.
	 */
	public static function apply(array $plan, ?callable $progress = null, array $unowned = []): array {

		$cursor = null;
		do {
			$step   = self::apply_step($plan, $unowned, $cursor, $progress, INF);
			$cursor = $step['cursor'];
		} while (null === $step['report']);

		return $step['report'];
	}

	/**
	 * One batch of the run of a confirmed plan, in two steps. First it adds what is missing now
	 * (nothing removed), a slice at a time until $deadline. Then, just before removing, it reads
	 * the network again and removes only the confirmed aliases that Closte still lists, that
	 * nothing uses now (neither they nor their twin), and, for those this plugin added, whose
	 * ownership record is still there. Ownership is recorded and forgotten per result as
	 * results arrive, so a run killed half-way leaves true records.
	 *
	 * The first batch lists Closte once (a dry run of the adds) and keeps what is missing in the
	 * cursor, one line per name; the next batches add from there without listing again.
	 *
	 * @param array         $plan     From preview(), as confirmed.
	 * @param string[]      $unowned  Aliases the plugin did not add that the operator ticked.
	 * @param array|null    $cursor   Where the last batch stopped; null for the first batch.
	 * @param callable|null $progress fn (int $done, int $total), called at most about once a second.
	 * @param float         $deadline microtime(true) after which no further slice is started.
	 * @return array{cursor: array|null, report: array|null} The cursor to resume from, or the report when the run has ended.
	 */
	public static function apply_step(array $plan, array $unowned, ?array $cursor, ?callable $progress, float $deadline): array {

		$cursor ??= self::start_apply($plan, $unowned);
		$cursor['batches'] = (int) ($cursor['batches'] ?? 0) + 1;
		$last              = 0.0;
		$slices_here       = 0; // every batch sends at least one slice, so a run always moves on
		$on_result = static function (array $result, string $bare = '', int $site_id = 0) use (&$cursor, &$last, $progress): void {
			// Ownership as each result arrives: an add we made is ours; "already exists" is not
			// (someone else created it); a removal ends ours. A www. twin is recorded as the
			// twin of its bare name, for that name's site.
			$domain = (string) ($result['domain'] ?? '');
			$ok     = ! empty($result['ok']);
			if ($ok && 'added' === ($result['state'] ?? '')) {
				Alias_Registry::record($domain, $site_id, '' !== $bare ? Www_Twin::source($bare) : 'sync');
				Certificate_Lifecycle::alias_added($domain, $site_id, 'sync', '' !== $bare ? $bare : null);
			} elseif ($ok && 'remove_domain' === ($result['operation'] ?? '')) {
				Alias_Registry::forget($domain, 'sync');
				Certificate_Lifecycle::alias_removed($domain);
			}
			Logger::log(Logger::describe($result, 'sync'), $ok ? 'info' : 'warning');
			if ($ok) {
				self::note($cursor, 'remove_domain' === ($result['operation'] ?? '') ? 'removed' : 'added', $domain);
			} else {
				self::note($cursor, 'failed', $domain, Sync_Messages::explain_failure($result));
				$cursor['for_good'] += empty($result['retryable']) ? 1 : 0;
			}
			$cursor['done']++;
			if (null !== $progress && (microtime(true) - $last >= 1.0 || $cursor['done'] >= $cursor['total'])) {
				$last = microtime(true);
				$progress($cursor['done'], max($cursor['total'], $cursor['done']));
			}
		};

		// Step 1: adds only, a slice at a time.
		$slice = self::slice_size();
		while ('' !== $cursor['queue']) {
			if ($slices_here > 0 && microtime(true) >= $deadline) {
				return ['cursor' => $cursor, 'report' => null];
			}
			$lines           = explode("\n", $cursor['queue'], $slice + 1);
			$cursor['queue'] = count($lines) > $slice ? (string) array_pop($lines) : '';
			self::add_slice($lines, $on_result);
			unset($lines);
			// Each result wrote its records, each cached by WordPress for the rest of the process.
			Background_Jobs::release_process_memory();
			$slices_here++;
		}
		if ([] !== $cursor['removals'] && $slices_here > 0 && microtime(true) >= $deadline) {
			return ['cursor' => $cursor, 'report' => null]; // the removals read the network afresh: in the next batch
		}

		// Step 2: removals. Each batch reads the network again and checks the removals left
		// against it; a list that was incomplete at the start, or is now, keeps every one. The
		// confirmed ones go out a slice at a time (closte_sync with prune and confirm_remove set
		// to the slice: Closte listed again, its safety rules applied again) until the deadline;
		// the rest wait in the cursor for the next batch, which checks them again.
		$warnings = $cursor['warnings'];
		if ([] !== $cursor['removals']) {
			$now = null;
			if ([] === $warnings) {
				$now      = Sync_Network::collect();
				$warnings = $now['problems'];
			}
			if ([] !== $warnings) {
				$missing = Sync_Messages::join($warnings);
				foreach ($cursor['removals'] as $alias) {
					self::note($cursor, 'kept', $alias, Sync_Messages::reason('list_incomplete', $missing));
				}
				$cursor['removals'] = [];
			} else {
				$ours      = array_flip($cursor['owned_removals']);
				$owned     = Sync_Network::owned(array_values(array_filter($cursor['removals'], static fn ($alias): bool => isset($ours[ $alias ]))));
				$confirmed = [];
				foreach ($cursor['removals'] as $alias) {
					$uses = Sync_Network::uses($now, $alias);
					if ([] !== $uses) {
						self::note($cursor, 'kept', $alias, Sync_Messages::reason('now_used', Sync_Messages::join($uses)));
					} elseif (isset($ours[ $alias ]) && ! isset($owned[ $alias ])) {
						self::note($cursor, 'kept', $alias, Sync_Messages::reason('no_longer_owned'));
					} else {
						$confirmed[] = $alias;
					}
				}
				unset($owned, $ours);
				$cursor['total']   -= count($cursor['removals']) - count($confirmed);
				$cursor['removals'] = $confirmed;
				$waiting            = array_flip($confirmed); // this batch's, for the unconfirmed report
				unset($confirmed);
				if ([] !== $cursor['removals']) {
					$wanted_now = self::wanted($now);
					$twins      = $wanted_now['twins'];
					$options    = ['prune' => true, 'protect' => self::protect_list($now, $wanted_now), 'request_ssl' => false, 'summary' => true];
					$options['progress'] = static function (array $result) use ($on_result, $twins, $now): void {
						$domain = (string) ($result['domain'] ?? '');
						$bare   = $twins[ $domain ] ?? '';
						$on_result($result, $bare, Sync_Network::site_id($now, '' !== $bare ? $bare : $domain));
					};
					$concurrency = apply_filters('closte_native_sync_concurrency', null);
					if (is_int($concurrency)) {
						$options['concurrency'] = $concurrency;
					}
					$names = self::names_to_send($wanted_now);
					while ([] !== $cursor['removals']) {
						if ($slices_here > 0 && microtime(true) >= $deadline) {
							return ['cursor' => $cursor, 'report' => null];
						}
						$slice                     = array_splice($cursor['removals'], 0, self::removal_slice_size());
						$options['confirm_remove'] = $slice;
						$pruned                    = closte_sync($names, $options);
						$cursor['listing']         = self::listing_summary($pruned['listing']);
						foreach ($pruned['unconfirmed'] as $alias) {
							// Not this slice's: one the plan did not confirm (a later slice's wait).
							if (! isset($waiting[ $alias ])) {
								self::note($cursor, 'skipped', (string) $alias, Sync_Messages::reason('not_confirmed'));
							}
						}
						$in_slice = array_flip($slice);
						foreach ($pruned['kept'] as $alias => $rule) {
							if (isset($in_slice[ $alias ])) {
								self::note($cursor, 'kept', (string) $alias, self::kept_reason((string) $alias, (string) $rule, $wanted_now));
							}
						}
						unset($pruned);
						Background_Jobs::release_process_memory();
						$slices_here++;
					}
				}
			}
		}

		return ['cursor' => null, 'report' => self::report($plan, $cursor, $warnings)];
	}

	/**
	 * The first batch of a run: the network read once, Closte listed once (a dry run of the adds
	 * of every name the network wants now), and what is missing queued in the cursor as
	 * "name<TAB>site id<TAB>bare name of a www twin" lines.
	 *
	 * @return array<string, mixed> The cursor.
	 */
	private static function start_apply(array $plan, array $unowned): array {

		$network        = Sync_Network::collect();
		$wanted         = self::wanted($network);
		$owned_removals = Sync_State::removals($plan);
		$removals       = $plan['prune'] ? array_values(array_unique(array_merge($owned_removals, array_intersect($unowned, array_map('strval', array_keys((array) ($plan['unowned'] ?? []))))))) : [];
		$names          = self::names_to_send($wanted);
		$desired        = count($names);
		$dry            = closte_sync($names, ['dry_run' => true, 'prune' => false, 'summary' => true]);
		unset($names);
		// The queue is built as the one string the cursor stores: an array of its lines beside
		// the string imploded from it held both in a first sync's first batch (99,999 lines:
		// 15.2 MiB at once, against 4.0 MiB for the string alone, of the 64 MB a job gets).
		$queue  = '';
		$queued = 0;
		foreach ($dry['to_add'] as $name) {
			$bare   = $wanted['twins'][ $name ] ?? '';
			$queue .= ( 0 === $queued++ ? '' : "\n" ) . $name . "\t" . Sync_Network::site_id($network, '' !== $bare ? $bare : $name) . "\t" . $bare;
		}
		$cursor = [
			'started'         => microtime(true),
			'desired'         => $desired,
			'queue'           => $queue,
			'total'           => $queued + count($removals),
			'done'            => 0,
			'removals'        => $removals,
			'owned_removals'  => $owned_removals,
			'warnings'        => $network['problems'],
			'unchanged'       => (int) $dry['unchanged_count'],
			'listing'         => self::listing_summary($dry['listing']),
			'added'           => [],
			'removed'         => [],
			'kept'            => [],
			'skipped'         => [],
			'failed'          => [],
			'counts'          => array_fill_keys(self::REPORT_LISTS, 0),
			'for_good'        => 0,
		];
		foreach ($network['invalid'] as $name => $reason) {
			self::note($cursor, 'skipped', (string) $name, $reason);
		}

		return $cursor;
	}

	/**
	 * Counts $name in the run's list $list and keeps it there while the list holds fewer than
	 * Sync_State::SHOWN names: a run of 100,000 adds kept every name in its cursor, which each
	 * batch read, grew and wrote back (about 8 MB of PHP arrays at 100,000, over 64 MB with
	 * the rest of the batch), and its report listed them all on the Sync page. Every result is
	 * in the log (one line each, as it arrives); a kept alias's reason is logged here.
	 *
	 * @param array<string, mixed> $cursor The run's cursor.
	 * @param string               $list   One of REPORT_LISTS.
	 * @param string               $name   The alias.
	 * @param array|string|null    $reason A reason (Sync_Messages) for the maps; null for added and removed.
	 */
	private static function note(array &$cursor, string $list, string $name, $reason = null): void {

		$named = in_array($list, ['added', 'removed'], true);
		if (! $named && isset($cursor[ $list ][ $name ])) {
			$cursor[ $list ][ $name ] = $reason; // the same name again: its latest reason, counted once
			return;
		}
		$cursor['counts'][ $list ] = self::report_count($cursor, $list) + 1; // also a cursor stored before the counts
		if (count($cursor[ $list ]) < Sync_State::SHOWN) {
			if ($named) {
				$cursor[ $list ][] = $name;
			} else {
				$cursor[ $list ][ $name ] = $reason;
			}
		}
		if ('kept' === $list) {
			Logger::log(sprintf('sync: %s kept: %s', $name, Sync_Messages::text($reason)));
		}
	}

	/** How many adds are sent at once: the filter closte_native_sync_concurrency when set. */
	private static function slice_size(): int {

		$concurrency = apply_filters('closte_native_sync_concurrency', null);

		/**
		 * Filters how many adds a sync run sends before it checks its time budget: the batches
		 * of a run end on a slice's boundary.
		 *
		 * @param int $size Default 50, or the sync concurrency when that filter is set.
		 */
		return max(1, (int) apply_filters('closte_native_sync_slice', is_int($concurrency) ? $concurrency : 50));
	}

	/**
	 * How many confirmed removals one closte_sync call of a run sends: ten add slices, since
	 * each call lists Closte again first (closte_native_sync_slice scales it).
	 */
	private static function removal_slice_size(): int {

		return 10 * self::slice_size();
	}

	/**
	 * Adds the names of $lines concurrently (closte_enqueue + closte_wait: no listing), without
	 * certificate requests (Certificate_Lifecycle requests them once DNS is ready), and hands
	 * each result to $on_result; a result still pending after the wait counts as a failure that
	 * may pass.
	 *
	 * @param string[] $lines From the cursor's queue.
	 */
	private static function add_slice(array $lines, callable $on_result): void {

		$jobs = [];
		foreach ($lines as $line) {
			[$name, $site_id, $bare] = array_pad(explode("\t", $line), 3, '');
			$jobs[ closte_enqueue('add_domain', $name, (int) $site_id, ['request_ssl' => false]) ] = [$name, (int) $site_id, $bare];
		}
		$timeout = max(30.0, (float) ini_get('closte.timeout') * 3);
		foreach (closte_wait(array_keys($jobs), $timeout) as $id => $result) {
			if (! isset($jobs[ $id ])) {
				continue;
			}
			[$name, $site_id, $bare] = $jobs[ $id ];
			unset($jobs[ $id ]);
			if (in_array($result['state'] ?? '', ['pending', 'unknown'], true)) {
				$result = ['ok' => false, 'operation' => 'add_domain', 'domain' => $name, 'state' => 'failed', 'status' => 0, 'error' => 'no answer in time', 'error_kind' => 'timeout', 'retryable' => true] + $result;
			}
			$on_result(['domain' => $name] + $result, $bare, $site_id);
		}
	}

	/**
	 * A listing result without its long lists, for a plan, a cursor and a report (the callers
	 * ask closte_sync for a summary, so `domains` is not there to begin with; dropping it here
	 * keeps a stored listing small whatever a caller asked for).
	 */
	private static function listing_summary(array $listing): array {

		unset($listing['domains'], $listing['response']);

		return $listing;
	}

	/**
	 * The report of a run cancelled between two batches, from its cursor: what the batches
	 * before did (adds, and the removal slices already sent; the removals left are not made).
	 */
	public static function cancelled_report(array $plan, array $cursor): array {

		return self::report($plan, $cursor, (array) $cursor['warnings'], true);
	}

	/**
	 * How many names a run's report (or cursor) has in $list: its count, or for a report stored
	 * before the counts, the length of the list, which then held them all.
	 */
	public static function report_count(array $report, string $list): int {

		return (int) ($report['counts'][ $list ] ?? count((array) ($report[ $list ] ?? [])));
	}

	/** The report of a run, from its final cursor. */
	private static function report(array $plan, array $cursor, array $warnings, bool $cancelled = false): array {

		$added   = array_values(array_unique($cursor['added']));
		$removed = $cursor['removed'];
		$counts  = [];
		foreach (self::REPORT_LISTS as $list) {
			$counts[ $list ] = self::report_count($cursor, $list);
		}
		$kept    = $cursor['kept'];
		$skipped = $cursor['skipped'];
		$failed  = $cursor['failed'];
		$listing = $cursor['listing'];
		foreach ([&$kept, &$skipped, &$failed] as &$list) {
			uksort($list, 'strnatcasecmp');
		}
		unset($list);
		sort($added, SORT_NATURAL);
		sort($removed, SORT_NATURAL);

		$report = [
			'ok'         => ! $cancelled && (bool) $listing['ok'] && 0 === $counts['failed'],
			'prune'      => (bool) $plan['prune'],
			'listing'    => $listing['ok'] ? '' : Sync_Messages::explain_failure($listing),
			'may_pass'   => ($listing['ok'] || ! empty($listing['retryable'])) && 0 === $cursor['for_good'],
			'added'      => $added,
			'removed'    => $removed,
			'unchanged'  => $cursor['unchanged'],
			'kept'       => $kept,
			'skipped'    => $skipped,
			'failed'     => $failed,
			'counts'     => $counts, // each list above holds its first Sync_State::SHOWN names
			'warnings'   => $warnings,
			'elapsed_ms' => (microtime(true) - $cursor['started']) * 1000,
			'batches'    => (int) ($cursor['batches'] ?? 1),
			'cancelled'  => $cancelled ? ['done' => (int) $cursor['done'], 'total' => (int) $cursor['total']] : null,
		];
		Logger::log(
			sprintf(
				'sync of %d domains%s: %s%s, %d added, %d removed, %d unchanged, %d kept, %d skipped, %d failed, %.0f ms',
				$cursor['desired'],
				$plan['prune'] ? ' (prune)' : '',
				$report['ok'] ? 'OK' : 'FAILED',
				$cancelled ? ' (cancelled between batches)' : '',
				$counts['added'],
				$counts['removed'],
				$report['unchanged'],
				$counts['kept'],
				$counts['skipped'],
				$counts['failed'],
				$report['elapsed_ms']
			),
			$report['ok'] ? 'info' : 'error'
		);
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

		return self::names_token(Sync_State::removals($plan));
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
