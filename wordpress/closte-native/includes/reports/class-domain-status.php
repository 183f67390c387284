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
 * One row per site host, Ultimate Multisite domain record and `www.` twin, from a number of
 * queries that grows with the network only by its pages, in memory bounded by a few hundred
 * bytes a name (index()): the sites and the domain records paged 2,000 at a time
 * (Sync_Network::collect()) and the networks; the ownership records of `www.` twins and the
 * certificate records paged 1,000 at a time along the primary key; one query for our pending
 * background jobs. Then only the rows asked for are built, with their own records: for a page
 * of 50 rows one query for their ownership records and one per certificate record (one in all
 * on WordPress 6.6+). At 100,000 names the whole build held every record and row at once and
 * died on the admin's 256 MB; the index holds about 35 MB (a page of the Closte Domains page
 * peaks at 75 MB), and most of its 8 s is reading the domain records (Sync_Network) and asking
 * for each name whether its `www.` twin is wanted (Www_Twin). Closte's own list
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
	 * The rows, searched, filtered, sorted and paged. Only the rows returned are built: the
	 * search, the filter, the counts and the order come from index(), one small value per name.
	 *
	 * @param array      $args  search (substring of the name), status ('' | 'needs_attention'),
	 *                          orderby (self::ORDERBY), order (asc | desc), page (1-based),
	 *                          per_page (default 50; 0 = all), names (null = every name; a list
	 *                          of host names = only their rows, for a caller that needs the rows
	 *                          of a few names, such as those an action was run on).
	 * @param array|null $index An index() of this request to reuse (a screen that asks for its
	 *                          rows one name at a time); null = read now.
	 * @return array{rows: array[], total: int, counts: array{all: int, needs_attention: int}, listing: array}
	 *         total: rows matching search, status and names (for paging); counts: of every row.
	 */
	public static function rows(array $args = [], ?array $index = null): array {

		$args     = array_merge(['search' => '', 'status' => '', 'orderby' => 'name', 'order' => 'asc', 'page' => 1, 'per_page' => self::PER_PAGE, 'names' => null], $args);
		$per_page = max(0, (int) $args['per_page']);
		$only     = null;
		if (null !== $args['names']) {
			$only = [];
			foreach ((array) $args['names'] as $name) {
				$only[ Network_Domains::normalise((string) $name) ] = true;
			}
		}
		// Every row wanted (the CLI): the records are kept as they are read, not read twice.
		$index ??= self::index(0 === $per_page && null === $only);

		$search = strtolower(trim((string) $args['search']));
		$ascii  = '' === $search ? '' : Network_Domains::normalise($search); // an IDN searched in Unicode finds its punycode
		$status = in_array((string) $args['status'], ['needs_attention', 'needs-attention'], true);

		$selected = [];
		foreach (self::names($index, $only) as $name) {
			if ('' !== $search && ! str_contains($name, $search) && ('' === $ascii || ! str_contains($name, $ascii))) {
				continue;
			}
			if ($status && [] === self::attention($index, $name)) {
				continue;
			}
			$selected[] = $name;
		}

		$orderby = in_array((string) $args['orderby'], self::ORDERBY, true) ? (string) $args['orderby'] : 'name';
		$desc    = 'desc' === strtolower((string) $args['order']);
		$selected = self::sorted($index, $selected, $orderby, $desc);

		$total = count($selected);
		if ($per_page > 0) {
			$page     = max(1, (int) $args['page']);
			$selected = array_slice($selected, ($page - 1) * $per_page, $per_page);
		}

		return ['rows' => self::make_rows($index, $selected), 'total' => $total, 'counts' => $index['counts'], 'listing' => $index['listing']];
	}

	/**
	 * What rows() searches, filters, counts and sorts on, for every name of the network, in
	 * bounded memory: the network read compactly (Sync_Network::collect(), one int per name), the
	 * ownership records of `www.` twins only, the certificate records a page at a time
	 * (Certificate_Records::each()) with one int kept per name (its attention code, state and
	 * expiry), and our pending jobs. About 350 bytes a name: a page of the Closte Domains page
	 * at 100,000 names holds the index, not 100,000 rows and every record at once (over 400 MB).
	 *
	 * The array is opaque: pass it back to rows() to build more rows in the same request.
	 *
	 * @param bool $keep_records Keep every name's records as they are read (a caller that builds
	 *                           every row: the CLI, which has no memory limit).
	 */
	public static function index(bool $keep_records = false): array {

		$listing = self::listing();
		$network = Sync_Network::collect();
		$now     = time();

		$index = [
			'listing'        => $listing,
			'listed'         => array_fill_keys($listing['domains'], true),
			'domains'        => $network['domains'], // name => compact source (Sync_Network)
			'protected'      => $network['protected'],
			'invalid'        => $network['invalid'],
			'site_ids'       => self::filtered_site_ids($network['domains']),
			// The sync's rule: site subdomains left to a wildcard alias need none of their own.
			'subdomains_too' => (bool) apply_filters('closte_native_sync_subdomains', true),
			'networks'       => array_keys($network['protected']),
			'twins'          => [], // twin => bare, in the order the twin rows follow the others
			'twin_of'        => [], // bare => twin
			'certificates'   => [], // name => packed attention code, state and expiry (pack())
			'states'         => [], // the certificate states met, for pack()
			'jobs'           => [],
			'now'            => $now,
			'counts'         => ['all' => 0, 'needs_attention' => 0],
		];
		unset($network);

		// The www. twins that should exist (Www_Twin's rule, as Sync_Plan), and those that exist
		// by our records (added while the settings asked for them) of a name still served.
		$twins = [];
		foreach ($index['domains'] as $name => $source) {
			$name = (string) $name;
			if (str_starts_with($name, '*.') || isset($index['invalid'][ $name ])) {
				continue; // a wildcard is not a host
			}
			$twin = Www_Twin::twin_to_add($name, $index);
			if (null !== $twin && ! isset($index['domains'][ $twin ])) {
				$twins[ $twin ] = $name;
			}
		}
		$owned = [];
		foreach (self::alias_records(! $keep_records) as $alias => $record) {
			if (! Alias_Registry::owns($record)) {
				continue;
			}
			if ($keep_records) {
				$owned[ $alias ] = $record;
			}
			$bare = Www_Twin::bare_of((string) ($record['source'] ?? ''));
			if (null !== $bare && self::is_base($index, $bare) && ! self::is_base($index, $alias)) {
				$twins[ $alias ] = $bare;
			}
		}
		$records = [];
		foreach (Certificate_Records::each() as $cert_name => $record) {
			$cert_name = (string) $cert_name;
			$bare      = $record['twin_of'] ?? null;
			if (null !== $bare && self::is_base($index, (string) $bare) && ! self::is_base($index, $cert_name)) {
				$twins[ $cert_name ] = (string) $bare;
			}
			if (self::is_base($index, $cert_name) || isset($twins[ $cert_name ])) {
				$index['certificates'][ $cert_name ] = self::pack($index, $record);
				if ($keep_records) {
					$records[ $cert_name ] = $record;
				}
			}
		}
		$index['twins'] = $twins;
		unset($twins);
		foreach ($index['twins'] as $twin => $bare) {
			$index['twin_of'][ $bare ] = (string) $twin;
		}
		if ($keep_records) {
			$index['records'] = $records;
			$index['owned']   = $owned;
		}
		unset($records, $owned);
		$index['jobs'] = self::pending_jobs();

		foreach (self::names($index, null) as $name) {
			++$index['counts']['all'];
			$index['counts']['needs_attention'] += [] === self::attention($index, $name) ? 0 : 1;
		}

		return $index;
	}

	/**
	 * The names of the rows, in the order they were found: site hosts, domain records, the
	 * filter's names, then the `www.` twins.
	 *
	 * @param array<string, true>|null $only These names only.
	 * @return \Generator<int, string>
	 */
	private static function names(array $index, ?array $only): \Generator {

		if (null !== $only && 1 === count($only)) {
			$name = (string) array_key_first($only); // one name (a row of UM's list): no order to keep
			if (self::is_base($index, $name) || isset($index['twins'][ $name ])) {
				yield $name;
			}
			return;
		}
		foreach ($index['domains'] as $name => $source) {
			$name = (string) $name;
			if ((null === $only || isset($only[ $name ])) && ! str_starts_with($name, '*.')) {
				yield $name;
			}
		}
		foreach ($index['twins'] as $name => $bare) {
			$name = (string) $name;
			if (null === $only || isset($only[ $name ])) {
				yield $name;
			}
		}
	}

	/** True when $name is a row of its own (a site host, a domain record, a name of the filter). */
	private static function is_base(array $index, string $name): bool {

		return isset($index['domains'][ $name ]) && ! str_starts_with($name, '*.');
	}

	/**
	 * The site of each name the filter closte_native_sync_domains gave another source, as
	 * Network_Domains::collect() has it (the first site host or domain record of that name):
	 * Sync_Network keeps the site only in the sources it did not change.
	 *
	 * @param array<string, int|string> $domains Sync_Network::collect()'s domains.
	 * @return array<string, int>
	 */
	private static function filtered_site_ids(array $domains): array {

		$wanted = [];
		foreach ($domains as $name => $source) {
			if (! is_int($source)) {
				$wanted[ (string) $name ] = true;
			}
		}
		if ([] === $wanted) {
			return [];
		}
		$site_ids = [];
		$note     = static function (int $site_id, string $host) use ($wanted, &$site_ids): void {
			$name = Network_Domains::normalise($host);
			if (isset($wanted[ $name ])) {
				$site_ids[ $name ] ??= $site_id;
			}
		};
		Sync_Network::each_site($note);
		Sync_Network::each_record($note);

		return $site_ids;
	}

	/**
	 * Where a row's name comes from.
	 *
	 * @return array{kind: string, site_id: int, twin: ?string}
	 */
	private static function where(array $index, string $name): array {

		if (isset($index['twins'][ $name ])) {
			$bare = (string) $index['twins'][ $name ];

			return ['kind' => 'twin', 'site_id' => self::site_id($index, $bare), 'twin' => $bare];
		}
		$source = $index['domains'][ $name ] ?? null;
		$code   = is_int($source) ? (1 === $source % 2 ? 'record' : 'site') : (string) (Sync_Network::source_of((string) $source)['code'] ?? '');

		return ['kind' => 'site' === $code ? 'site' : 'domain', 'site_id' => self::site_id($index, $name), 'twin' => $index['twin_of'][ $name ] ?? null];
	}

	/** The site of a name of the network (0 for a name of the filter's own). */
	private static function site_id(array $index, string $name): int {

		$source = $index['domains'][ $name ] ?? null;

		return is_int($source) ? intdiv($source, 2) : (int) ($index['site_ids'][ $name ] ?? 0);
	}

	/** The alias column: unknown (no listing), yes (Closte lists it or a wildcard covering it), no. */
	private static function alias(array $index, string $name): string {

		if (! $index['listing']['ok']) {
			return 'unknown';
		}

		return isset($index['listed'][ $name ]) || self::wildcard_listed($name, $index['listed']) ? 'yes' : 'no';
	}

	/**
	 * A row's attention codes: its alias's, then its certificate's.
	 *
	 * @param array|null $record      The name's certificate record (null: none), read with
	 *                                $with_record.
	 * @param bool       $with_record From $record (a row being built); else from the code the
	 *                                index kept of the same record (searching, counting).
	 * @return string[]
	 */
	private static function attention(array $index, string $name, ?array $record = null, bool $with_record = false): array {

		$attention = [];
		if (! $index['listing']['ok']) {
			$attention[] = 'listing_failed';
		} elseif ('no' === self::alias($index, $name)
			&& ($index['subdomains_too'] || ! self::is_subdomain_of_any($name, $index['networks']))
			&& ! isset($index['invalid'][ $name ])
			// A network's own domain is the app's: its aliases are the operator's to set up.
			&& ! isset($index['protected'][ $name ])) {
			$attention[] = 'no_alias';
		}
		if ($with_record) {
			$code = null === $record ? null : self::certificate_code($record, $index['now']);
		} else {
			$code = isset($index['certificates'][ $name ]) ? self::unpack($index, $index['certificates'][ $name ])['code'] : null;
		}
		if (null !== $code) {
			$attention[] = $code;
		}

		return $attention;
	}

	/** The attention code of a certificate record, or null when it needs none. */
	private static function certificate_code(array $record, int $now): ?string {

		$finding = Certificate_Watch::finding($record, $now);
		$code    = [
			'critical'  => 'certificate_problem',
			'unchecked' => 'certificate_problem',
			'expiring'  => 'certificate_expiring',
			'held'      => 'certificate_held',
			'dns'       => 'dns_waiting',
		][ $finding['kind'] ?? '' ] ?? null;
		if (null === $code && 'active' === $record['state']) {
			$days_left = self::days_left($record, $now);
			if (null !== $days_left && $days_left <= Certificate_Watch::EXPIRING_DAYS) {
				$code = 'certificate_expiring'; // checked long ago: the days went by since
			}
		}

		return $code;
	}

	/** Days until the certificate expires: from its end date when known, else as last checked. */
	private static function days_left(array $record, int $now): ?int {

		$certificate = is_array($record['certificate'] ?? null) ? $record['certificate'] : null;
		$not_after   = self::not_after($record);
		if (null !== $not_after) {
			return (int) floor(($not_after - $now) / DAY_IN_SECONDS);
		}

		return isset($certificate['days_left']) ? (int) $certificate['days_left'] : null;
	}

	/** The certificate's end date (Unix time), or null. */
	private static function not_after(array $record): ?int {

		$certificate = is_array($record['certificate'] ?? null) ? $record['certificate'] : null;

		return isset($certificate['not_after']) ? (int) $certificate['not_after'] : null;
	}

	/**
	 * What the index keeps of a certificate record: its attention code, state and end date in
	 * one int (3 bits of code, 8 of state, then the end date + 1, 0 for none); an array in the
	 * rare case that does not fit (a 256th state, an end date before 1970).
	 *
	 * @return int|array{code: ?string, state: string, not_after: ?int}
	 */
	private static function pack(array &$index, array $record) {

		$code      = self::certificate_code($record, $index['now']);
		$state     = (string) $record['state'];
		$not_after = self::not_after($record);
		$state_id  = $index['states'][ $state ] ??= count($index['states']);
		if ($state_id > 255 || (null !== $not_after && ($not_after < 0 || $not_after >= (1 << 51)))) {
			return ['code' => $code, 'state' => $state, 'not_after' => $not_after];
		}
		$code_id = null === $code ? 0 : 1 + (int) array_search($code, self::ATTENTION, true);

		return ((null === $not_after ? 0 : $not_after + 1) << 11) | ($state_id << 3) | $code_id;
	}

	/**
	 * A packed certificate (pack()) as its parts.
	 *
	 * @param int|array $packed
	 * @return array{code: ?string, state: string, not_after: ?int}
	 */
	private static function unpack(array $index, $packed): array {

		if (is_array($packed)) {
			return $packed;
		}
		$code_id   = $packed & 7;
		$not_after = $packed >> 11;

		return [
			'code'      => 0 === $code_id ? null : self::ATTENTION[ $code_id - 1 ],
			'state'     => (string) array_search(($packed >> 3) & 255, $index['states'], true),
			'not_after' => 0 === $not_after ? null : $not_after - 1,
		];
	}

	/**
	 * $names in row order: by $orderby, then by name; empty values (no date, no job) last
	 * either way.
	 *
	 * @param string[] $names
	 * @return string[]
	 */
	private static function sorted(array $index, array $names, string $orderby, bool $desc): array {

		if ('name' === $orderby) {
			// strnatcmp's order, stable as usort() is.
			$desc ? rsort($names, SORT_NATURAL) : sort($names, SORT_NATURAL);
			return $names;
		}
		$keys = [];
		foreach ($names as $name) {
			$keys[ $name ] = self::sort_key($index, $name, $orderby);
		}
		usort(
			$names,
			static function (string $a, string $b) use ($keys, $desc): int {
				$ka = $keys[ $a ];
				$kb = $keys[ $b ];
				if (null === $ka xor null === $kb) {
					return null === $ka ? 1 : -1;
				}
				$by = $ka <=> $kb;
				if (0 !== $by) {
					return $desc ? -$by : $by;
				}
				return strnatcmp($a, $b);
			}
		);

		return $names;
	}

	/** What a row is sorted by, for $orderby other than the name; null = no value (sorted last). */
	private static function sort_key(array $index, string $name, string $orderby) {

		switch ($orderby) {
			case 'site':
				return self::where($index, $name)['site_id'];
			case 'alias':
				return ['no' => 0, 'unknown' => 1, 'yes' => 2][ self::alias($index, $name) ];
			case 'certificate':
				return isset($index['certificates'][ $name ]) ? self::unpack($index, $index['certificates'][ $name ])['state'] : '';
			case 'expires':
				return isset($index['certificates'][ $name ]) ? self::unpack($index, $index['certificates'][ $name ])['not_after'] : null;
			case 'next':
				return $index['jobs'][ $name ]['at'] ?? null;
			default:
				return null;
		}
	}

	/**
	 * The full rows of $names, in that order, with their records: kept in the index, or read
	 * now for these names only.
	 *
	 * @param string[] $names Names of rows.
	 * @return array[]
	 */
	private static function make_rows(array $index, array $names): array {

		if ([] === $names) {
			return [];
		}
		if (isset($index['records'], $index['owned'])) {
			$records = $index['records'];
			$owned   = $index['owned'];
		} else {
			$records = [];
			$wanted  = array_values(array_filter($names, static fn ($name) => isset($index['certificates'][ $name ])));
			if ([] !== $wanted && function_exists('wp_prime_network_option_caches')) {
				wp_prime_network_option_caches(get_current_network_id(), array_map([Certificate_Records::class, 'key'], $wanted)); // WordPress 6.6+: one query
			}
			foreach ($wanted as $name) {
				$records[ $name ] = Certificate_Records::get($name);
			}
			$owned = Sync_Network::owned($names);
		}

		$rows = [];
		foreach ($names as $name) {
			$rows[] = self::make_row($index, $name, $owned[ $name ] ?? null, $records[ $name ] ?? null);
		}

		return $rows;
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
	 * One row from what is known of $name.
	 *
	 * @param array|null $owned  Its ownership record (Alias_Registry).
	 * @param array|null $record Its certificate record (Certificate_Records).
	 */
	private static function make_row(array $index, string $name, ?array $owned, ?array $record): array {

		$now   = $index['now'];
		$where = self::where($index, $name);
		$alias = self::alias($index, $name);
		if (Alias_Registry::owns($owned)) {
			$owner = 'plugin';
		} elseif ('yes' === $alias) {
			$owner = 'before';
		} else {
			$owner = 'none';
		}

		$certificate = is_array($record['certificate'] ?? null) ? $record['certificate'] : null;
		$days_left   = null === $record ? null : self::days_left($record, $now);
		$last_error  = (string) ($record['last_error'] ?? '');
		$attention   = self::attention($index, $name, $record, true);

		return [
			'name'               => $name,
			'kind'               => $where['kind'],
			'site_id'            => $where['site_id'],
			'alias'              => $alias,
			'owner'              => $owner,
			'twin'               => $where['twin'],
			'dns'                => self::dns_state($record),
			'dns_reason'         => null === $record || '' === (string) $record['dns']['reason'] ? null : (string) $record['dns']['reason'],
			'certificate'        => null === $record ? null : (string) $record['state'],
			'certificate_status' => null === $certificate || ! isset($certificate['status']) ? null : (string) $certificate['status'],
			'issuer'             => null === $certificate ? null : ($certificate['issuer'] ?? $certificate['issuer_organization'] ?? null),
			'expires_at'         => null === $record ? null : self::not_after($record),
			'days_left'          => $days_left,
			'checked_at'         => null === $certificate || empty($certificate['checked_at']) ? null : (int) $certificate['checked_at'],
			'next_action'        => $index['jobs'][ $name ] ?? null,
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
	 * Our ownership records (Alias_Registry's form), a page of rows at a time along the primary
	 * key, as Certificate_Records::each() reads its records: Alias_Registry::all() of 100,000
	 * records needs over 100 MB. Tombstones are given too (Alias_Registry::owns() tells them).
	 *
	 * @param bool $twins_only Only the records of `www.` twins (source "www twin of N"): the
	 *                         database leaves the others out.
	 * @return \Generator<string, array> domain => record
	 */
	private static function alias_records(bool $twins_only): \Generator {

		global $wpdb;

		$after   = 0;
		$page    = 1000;
		$network = get_current_network_id();
		$like    = $wpdb->esc_like(Alias_Registry::PREFIX) . '%';
		$source  = '%' . $wpdb->esc_like(Www_Twin::SOURCE_PREFIX) . '%';
		do {
			$sql = $twins_only
				? $wpdb->prepare("SELECT meta_id, meta_value FROM {$wpdb->sitemeta} FORCE INDEX (PRIMARY) WHERE meta_id > %d AND meta_key LIKE %s AND site_id = %d AND meta_value LIKE %s ORDER BY meta_id LIMIT %d", $after, $like, $network, $source, $page)
				: $wpdb->prepare("SELECT meta_id, meta_value FROM {$wpdb->sitemeta} FORCE INDEX (PRIMARY) WHERE meta_id > %d AND meta_key LIKE %s AND site_id = %d ORDER BY meta_id LIMIT %d", $after, $like, $network, $page);
			$rows = (array) $wpdb->get_results($sql, ARRAY_N); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared above
			foreach ($rows as $row) {
				$after  = (int) $row[0];
				$record = maybe_unserialize($row[1]);
				if (is_array($record) && isset($record['domain'])) {
					yield (string) $record['domain'] => $record;
				}
			}
		} while (count($rows) === $page);
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
			// Objects (ActionScheduler_Action): its ARRAY_A format is get_object_vars() of each
			// from outside the class, which holds none of its protected fields.
			$actions = as_get_scheduled_actions(['group' => Background_Jobs::GROUP, 'status' => 'pending', 'per_page' => -1], OBJECT);
			foreach ((array) $actions as $action) {
				if (is_object($action) && method_exists($action, 'get_hook')) {
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
}
