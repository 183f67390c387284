<?php
/**
 * Every host name of the network with its state on Closte, for the operator's views (the Closte
 * Domains page, Ultimate Multisite's domain screens, `wp closte domains`, the drift report).
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * One row per site host, Ultimate Multisite domain record and `www.` twin, built in memory from
 * a bounded number of queries whatever the number of domains: Network_Domains::collect() (the
 * sites, the domain records paged 500 at a time, the networks), Alias_Registry::all(),
 * Certificate_Records::all() and one query for our pending background jobs. Closte's own list
 * comes from ONE closte_list_domains() per LISTING_TTL seconds, kept in a site transient, so a
 * page view, an AJAX refresh or a CLI call never sends a request per row; a failed listing is
 * kept as long, so a page view never waits for a failing Closte twice, and every alias is then
 * "unknown" (never "no": nothing is concluded from a list we do not have).
 */
final class Domain_Status {

	/** Site transient holding the last listing. */
	const LISTING_TRANSIENT = 'closte_native_listing';

	/** Seconds a listing (or its failure) is reused. */
	const LISTING_TTL = 60;

	/** Default rows per page. */
	const PER_PAGE = 50;

	/** Sort keys rows() accepts. */
	const ORDERBY = ['name', 'site', 'alias', 'certificate', 'expires', 'next'];

	/** Attention codes, in the order they are listed. */
	const ATTENTION = ['listing_failed', 'no_alias', 'certificate_problem', 'certificate_expiring', 'certificate_held', 'dns_waiting'];

	/**
	 * Closte's aliases: one closte_list_domains() per LISTING_TTL seconds ($fresh: now).
	 *
	 * @return array{ok: bool, domains: string[], error: ?string, fetched_at: int, retryable: bool}
	 */
	public static function listing(bool $fresh = false): array {

		if (! $fresh) {
			$cached = get_site_transient(self::LISTING_TRANSIENT);
			if (is_array($cached) && isset($cached['ok'], $cached['domains'], $cached['fetched_at'])) {
				return $cached;
			}
		}

		if (! function_exists('closte_list_domains')) {
			$listing = ['ok' => false, 'domains' => [], 'error' => __('No closte implementation is loaded (neither the extension nor the plugin\'s PHP implementation).', 'closte-native'), 'fetched_at' => time(), 'retryable' => false];
		} else {
			try {
				$result = closte_list_domains();
			} catch (\Throwable $e) {
				$result = ['ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage(), 'domains' => []];
			}
			$ok      = ! empty($result['ok']) && is_array($result['domains'] ?? null);
			$listing = [
				'ok'         => $ok,
				'domains'    => $ok ? array_values(array_map(static fn ($d) => strtolower(rtrim((string) $d, '.')), $result['domains'])) : [],
				'error'      => $ok ? null : Sync_Messages::explain_failure(is_array($result) ? $result : []),
				'fetched_at' => time(),
				'retryable'  => ! $ok && ! empty($result['retryable']), // the failure may pass (CLI exit code 3)
			];
			if (! $ok) {
				Logger::log(sprintf('domain status: Closte\'s list of aliases could not be read: %s; aliases shown as unknown for %d s', $listing['error'], self::LISTING_TTL), 'warning');
			}
		}
		set_site_transient(self::LISTING_TRANSIENT, $listing, self::LISTING_TTL);

		return $listing;
	}

	/**
	 * The rows, searched, filtered, sorted and paged.
	 *
	 * @param array $args search (substring of the name), status ('' | 'needs_attention'),
	 *                    orderby (self::ORDERBY), order (asc | desc), page (1-based),
	 *                    per_page (default 50; 0 = all).
	 * @return array{rows: array[], total: int, counts: array{all: int, needs_attention: int}, listing: array}
	 *         total: rows matching search and status (for paging); counts: of every row.
	 */
	public static function rows(array $args = []): array {

		$args = array_merge(['search' => '', 'status' => '', 'orderby' => 'name', 'order' => 'asc', 'page' => 1, 'per_page' => self::PER_PAGE], $args);
		$all  = self::build();
		$rows = $all['rows'];

		$counts = ['all' => count($rows), 'needs_attention' => 0];
		foreach ($rows as $row) {
			$counts['needs_attention'] += $row['needs_attention'] ? 1 : 0;
		}

		$search = strtolower(trim((string) $args['search']));
		if ('' !== $search) {
			$ascii = Network_Domains::normalise($search); // an IDN searched in Unicode finds its punycode
			$rows  = array_filter($rows, static fn (array $row) => str_contains($row['name'], $search) || ('' !== $ascii && str_contains($row['name'], $ascii)));
		}
		if (in_array((string) $args['status'], ['needs_attention', 'needs-attention'], true)) {
			$rows = array_filter($rows, static fn (array $row) => $row['needs_attention']);
		}
		$rows = array_values($rows);

		$orderby = in_array((string) $args['orderby'], self::ORDERBY, true) ? (string) $args['orderby'] : 'name';
		$desc    = 'desc' === strtolower((string) $args['order']);
		usort($rows, static fn (array $a, array $b) => self::compare($a, $b, $orderby, $desc));

		$total    = count($rows);
		$per_page = max(0, (int) $args['per_page']);
		if ($per_page > 0) {
			$page = max(1, (int) $args['page']);
			$rows = array_slice($rows, ($page - 1) * $per_page, $per_page);
		}

		return ['rows' => $rows, 'total' => $total, 'counts' => $counts, 'listing' => $all['listing']];
	}

	/** One name's row (normalised first), or null when the network does not serve it. */
	public static function row(string $name): ?array {

		$name = Network_Domains::normalise($name);
		foreach (self::build()['rows'] as $row) {
			if ($row['name'] === $name) {
				return $row;
			}
		}

		return null;
	}

	/** What an attention code means, for the operator. */
	public static function attention_text(string $code): string {

		switch ($code) {
			case 'no_alias':
				return __('Closte has no alias for this name: visitors reach another app or an error page. Add the alias now, or run Closte Sync.', 'closte-native');
			case 'certificate_problem':
				return __('The certificate served for this name is not one visitors accept (expired, for other names, untrusted, not yet valid), or it could not be checked. Check that its DNS points at this network, then request a certificate.', 'closte-native');
			case 'certificate_expiring':
				/* translators: %d: number of days */
				return sprintf(__('The certificate expires within %d days. Closte renews certificates by itself; if it is not renewed within a few days, check the DNS and request a certificate.', 'closte-native'), Certificate_Watch::EXPIRING_DAYS);
			case 'certificate_held':
				return __('Certificate requests are held: 4 requests in 7 days, and Let\'s Encrypt issues at most 5 per name per week. The next request goes out by itself when the oldest leaves the 7-day window.', 'closte-native');
			case 'dns_waiting':
				return __('The name has waited for its DNS for more than a day: its certificate is requested only once it points at this network. The customer must point it here, or the domain be unmapped.', 'closte-native');
			case 'listing_failed':
				return __('Closte\'s list of aliases could not be read, so whether this name has an alias is unknown. See the error, then reload in a minute.', 'closte-native');
			default:
				return $code;
		}
	}

	/**
	 * Every row, by name, and the listing used.
	 *
	 * @return array{rows: array<string, array>, listing: array}
	 */
	private static function build(): array {

		$listing = self::listing();
		$listed  = array_fill_keys($listing['domains'], true);
		$network = Network_Domains::collect();
		$owned   = Alias_Registry::all();
		$certs   = Certificate_Records::all();
		$jobs    = self::pending_jobs();
		$now     = time();

		// The sync's rule: site subdomains left to a wildcard alias need none of their own.
		$subdomains_too = (bool) apply_filters('closte_native_sync_subdomains', true);
		$networks       = array_keys($network['protected']);

		$names = []; // name => [kind, site_id, twin]
		foreach ($network['domains'] as $name => $source) {
			$name = (string) $name;
			if (str_starts_with($name, '*.')) {
				continue; // a wildcard is not a host
			}
			$names[ $name ] = ['kind' => 'site' === ($source['code'] ?? '') ? 'site' : 'domain', 'site_id' => (int) ($network['site_ids'][ $name ] ?? 0), 'twin' => null];
		}
		// The www. twins that should exist (Www_Twin's rule, as Sync_Plan), and those that exist
		// by our records (added while the settings asked for them) of a name still served.
		$twins = [];
		foreach (array_keys($names) as $name) {
			if (isset($network['invalid'][ $name ])) {
				continue;
			}
			$twin = Www_Twin::twin_to_add($name, $network);
			if (null !== $twin && ! isset($names[ $twin ])) {
				$twins[ $twin ] = $name;
			}
		}
		foreach ($owned as $alias => $record) {
			$bare = Www_Twin::bare_of((string) ($record['source'] ?? ''));
			if (null !== $bare && Alias_Registry::owns($record) && isset($names[ $bare ]) && ! isset($names[ (string) $alias ])) {
				$twins[ (string) $alias ] = $bare;
			}
		}
		foreach ($certs as $cert_name => $record) {
			$bare = $record['twin_of'] ?? null;
			if (null !== $bare && isset($names[ $bare ]) && ! isset($names[ (string) $cert_name ])) {
				$twins[ (string) $cert_name ] = (string) $bare;
			}
		}
		foreach ($twins as $twin => $bare) {
			$names[ $bare ]['twin'] = (string) $twin;
			$names[ (string) $twin ] = ['kind' => 'twin', 'site_id' => $names[ $bare ]['site_id'], 'twin' => $bare];
		}

		$rows = [];
		foreach ($names as $name => $where) {
			$name = (string) $name;
			$rows[ $name ] = self::make_row(
				$name,
				$where,
				[
					'listing' => $listing,
					'listed'  => $listed,
					'owned'   => $owned[ $name ] ?? null,
					'record'  => $certs[ $name ] ?? null,
					'job'     => $jobs[ $name ] ?? null,
					'covered' => ! $subdomains_too && self::is_subdomain_of_any($name, $networks),
					'invalid' => isset($network['invalid'][ $name ]),
					// A network's own domain is the app's: its aliases are the operator's to set up.
					'own'     => isset($network['protected'][ $name ]),
				],
				$now
			);
		}

		return ['rows' => $rows, 'listing' => $listing];
	}

	/** One row from what is known of $name. */
	private static function make_row(string $name, array $where, array $known, int $now): array {

		$listing = $known['listing'];
		$record  = $known['record'];
		if (! $listing['ok']) {
			$alias = 'unknown';
		} elseif (isset($known['listed'][ $name ]) || self::wildcard_listed($name, $known['listed'])) {
			$alias = 'yes';
		} else {
			$alias = 'no';
		}
		if (Alias_Registry::owns($known['owned'])) {
			$owner = 'plugin';
		} elseif ('yes' === $alias) {
			$owner = 'before';
		} else {
			$owner = 'none';
		}

		$certificate = is_array($record['certificate'] ?? null) ? $record['certificate'] : null;
		$not_after   = isset($certificate['not_after']) ? (int) $certificate['not_after'] : null;
		$days_left   = null === $not_after ? (isset($certificate['days_left']) ? (int) $certificate['days_left'] : null) : (int) floor(($not_after - $now) / DAY_IN_SECONDS);
		$last_error  = (string) ($record['last_error'] ?? '');

		$attention = [];
		if (! $listing['ok']) {
			$attention[] = 'listing_failed';
		} elseif ('no' === $alias && ! $known['covered'] && ! $known['invalid'] && ! $known['own']) {
			$attention[] = 'no_alias';
		}
		if (null !== $record) {
			$finding = Certificate_Watch::finding($record, $now);
			$code    = [
				'critical'  => 'certificate_problem',
				'unchecked' => 'certificate_problem',
				'expiring'  => 'certificate_expiring',
				'held'      => 'certificate_held',
				'dns'       => 'dns_waiting',
			][ $finding['kind'] ?? '' ] ?? null;
			if (null === $code && 'active' === $record['state'] && null !== $days_left && $days_left <= Certificate_Watch::EXPIRING_DAYS) {
				$code = 'certificate_expiring'; // checked long ago: the days went by since
			}
			if (null !== $code) {
				$attention[] = $code;
			}
		}

		return [
			'name'               => $name,
			'kind'               => $where['kind'],
			'site_id'            => (int) $where['site_id'],
			'alias'              => $alias,
			'owner'              => $owner,
			'twin'               => $where['twin'],
			'dns'                => self::dns_state($record),
			'dns_reason'         => null === $record || '' === (string) $record['dns']['reason'] ? null : (string) $record['dns']['reason'],
			'certificate'        => null === $record ? null : (string) $record['state'],
			'certificate_status' => null === $certificate || ! isset($certificate['status']) ? null : (string) $certificate['status'],
			'issuer'             => null === $certificate ? null : ($certificate['issuer'] ?? $certificate['issuer_organization'] ?? null),
			'expires_at'         => $not_after,
			'days_left'          => $days_left,
			'checked_at'         => null === $certificate || empty($certificate['checked_at']) ? null : (int) $certificate['checked_at'],
			'next_action'        => $known['job'],
			'last_error'         => '' === $last_error ? null : $last_error,
			'attention'          => $attention,
			'needs_attention'    => [] !== $attention,
		];
	}

	/** DNS as the certificate lifecycle last saw it: unknown until it looked. */
	private static function dns_state(?array $record): string {

		if (null === $record) {
			return 'unknown';
		}
		if (! empty($record['dns']['ready']) || ! in_array($record['state'], ['waiting_dns', 'unchecked'], true)) {
			return 'ready'; // a request went out, which only a ready DNS lets through
		}

		return empty($record['dns']['checked_at']) ? 'unknown' : 'not_ready';
	}

	/** True when Closte lists a wildcard alias covering $name (`*.example.com` for `a.example.com`). */
	private static function wildcard_listed(string $name, array $listed): bool {

		$dot = strpos($name, '.');

		return false !== $dot && isset($listed[ '*' . substr($name, $dot) ]);
	}

	/** True when $name is a subdomain of one of $parents (Sync_Plan's rule). */
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
	 * The next pending job of each name (group closte), in one query: Action Scheduler's own
	 * table where it is the database store (its as_get_scheduled_actions() reads each action
	 * with a query of its own), else its public API, else WP-Cron's array (one option).
	 *
	 * @return array<string, array{hook: string, label: string, at: int}> by name
	 */
	private static function pending_jobs(): array {

		$jobs = [];
		foreach (self::pending_job_rows() as [$hook, $args, $at]) {
			$name = self::job_name((string) $hook, is_array($args) ? array_values($args) : []);
			if (null === $name) {
				continue;
			}
			$name = Network_Domains::normalise($name);
			if (! isset($jobs[ $name ]) || $at < $jobs[ $name ]['at']) {
				$jobs[ $name ] = ['hook' => (string) $hook, 'label' => self::job_label((string) $hook), 'at' => (int) $at];
			}
		}

		return $jobs;
	}

	/** @return list<array{0: string, 1: mixed, 2: int}> hook, args, time of every pending job of ours */
	private static function pending_job_rows(): array {

		global $wpdb;

		$rows = [];
		if (class_exists('ActionScheduler') && class_exists('ActionScheduler_DBStore') && \ActionScheduler::store() instanceof \ActionScheduler_DBStore) {
			// Action Scheduler 3.x's tables: args holds the JSON, or its hash when longer than
			// 191 characters, with the JSON in extended_args.
			$found = $wpdb->get_results(
				$wpdb->prepare(
					"SELECT a.hook, COALESCE(a.extended_args, a.args) AS args, a.scheduled_date_gmt AS at FROM {$wpdb->prefix}actionscheduler_actions a JOIN {$wpdb->prefix}actionscheduler_groups g ON g.group_id = a.group_id WHERE a.status = 'pending' AND g.slug = %s",
					Background_Jobs::GROUP
				),
				ARRAY_A
			);
			foreach ((array) $found as $row) {
				$rows[] = [(string) $row['hook'], json_decode((string) $row['args'], true), (int) strtotime($row['at'] . ' UTC')];
			}
			return $rows;
		}
		if (function_exists('as_get_scheduled_actions')) {
			$actions = as_get_scheduled_actions(['group' => Background_Jobs::GROUP, 'status' => 'pending', 'per_page' => -1], ARRAY_A);
			foreach ((array) $actions as $action) {
				if (is_array($action) && isset($action['hook'])) {
					// The shape of a stored row (the test network's stand-in).
					$rows[] = [(string) $action['hook'], $action['args'] ?? [], (int) ($action['scheduled_at'] ?? 0)];
				} elseif (is_object($action) && method_exists($action, 'get_hook')) {
					$date   = method_exists($action, 'get_schedule') && method_exists($action->get_schedule(), 'get_date') ? $action->get_schedule()->get_date() : null;
					$rows[] = [(string) $action->get_hook(), $action->get_args(), $date instanceof \DateTimeInterface ? $date->getTimestamp() : 0];
				}
			}
		}
		// Jobs queued while Action Scheduler was not loaded sit in WP-Cron (Background_Jobs).
		foreach ((array) _get_cron_array() as $at => $events) {
			foreach ((array) $events as $hook => $instances) {
				if (! str_starts_with((string) $hook, 'closte_native_')) {
					continue;
				}
				foreach ((array) $instances as $instance) {
					$rows[] = [(string) $hook, $instance['args'] ?? [], (int) $at];
				}
			}
		}

		return $rows;
	}

	/** The name a job of $hook is about, from its arguments, or null for a job about no name. */
	private static function job_name(string $hook, array $args): ?string {

		if (in_array($hook, Certificate_Lifecycle::HOOKS, true) || Alias_Changes::RENAMED_HOOK === $hook) {
			return isset($args[0]) && is_string($args[0]) ? $args[0] : null;
		}
		if (Alias_Changes::RETRY_HOOK === $hook) {
			return isset($args[1]) && is_string($args[1]) ? $args[1] : null; // [operation, domain, site_id, attempt, intent]
		}

		return null;
	}

	/** What a job does, for the operator. */
	private static function job_label(string $hook): string {

		switch ($hook) {
			case Certificate_Lifecycle::DNS_HOOK:
				return __('DNS check', 'closte-native');
			case Certificate_Lifecycle::REQUEST_HOOK:
				return __('Certificate request', 'closte-native');
			case Certificate_Lifecycle::VERIFY_HOOK:
				return __('Certificate check', 'closte-native');
			case Alias_Changes::RETRY_HOOK:
				return __('Alias change retried', 'closte-native');
			case Alias_Changes::RENAMED_HOOK:
				return __('Old name\'s alias removed', 'closte-native');
			default:
				return $hook;
		}
	}

	/** Row order: by $orderby, then by name; empty values (no date, no job) last either way. */
	private static function compare(array $a, array $b, string $orderby, bool $desc): int {

		$key = static function (array $row) use ($orderby) {
			switch ($orderby) {
				case 'site':
					return $row['site_id'];
				case 'alias':
					return ['no' => 0, 'unknown' => 1, 'yes' => 2][ $row['alias'] ];
				case 'certificate':
					return (string) $row['certificate'];
				case 'expires':
					return $row['expires_at'];
				case 'next':
					return $row['next_action']['at'] ?? null;
				default:
					return null;
			}
		};
		if ('name' !== $orderby) {
			$ka = $key($a);
			$kb = $key($b);
			if (null === $ka xor null === $kb) {
				return null === $ka ? 1 : -1;
			}
			$by = $ka <=> $kb;
			if (0 !== $by) {
				return $desc ? -$by : $by;
			}
		}
		$by = strnatcmp($a['name'], $b['name']);

		return ('name' === $orderby && $desc) ? -$by : $by;
	}
}
