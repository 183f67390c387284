<?php
/**
 * What the network uses: the host names of its sites, Ultimate Multisite's domain records, their
 * `www.`/bare twins, and the aliases that must never be removed. Every list says whether it is
 * complete.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Read-only queries. Three rules make a list trustworthy enough to remove aliases by:
 * - every query pages through ALL rows. Ultimate Multisite's query layer (BerlinDB) passes
 *   `number` through absint(), so `-1` means LIMIT 1, and its default is 100; we page with an
 *   explicit `number` and `offset` until a short page;
 * - a list whose source is missing (Ultimate Multisite not loaded) or failed (a database error
 *   on the sites, the domain records or the networks) is marked incomplete, and so is a list
 *   holding a name that cannot be normalised (it cannot be compared with Closte's aliases);
 *   an incomplete list is never used to remove anything;
 * - names are compared in their normal form, in PHP, never through the database's collation
 *   (which ignores case, trailing spaces and accents, and knows nothing of punycode).
 *
 * Ultimate Multisite serves both the bare and the `www.` form of every mapped domain, so the
 * twin of every name in use is in use too.
 */
final class Network_Domains {

	/** Rows per page of Ultimate Multisite's domain query. */
	const PAGE = 500;

	/**
	 * The normalised form used for comparisons: lower case, no trailing dot, IDN as punycode
	 * (the form Closte lists and the extension sends). A name the implementation refuses is
	 * compared in its plain lower-case form; is_valid() tells which.
	 */
	public static function normalise(string $domain): string {

		$valid = self::normalise_strictly($domain);
		if (null !== $valid) {
			return $valid;
		}
		$domain = strtolower(rtrim(trim($domain), '.'));
		if (preg_match('/[^\x00-\x7F]/', $domain) && function_exists('idn_to_ascii')) {
			$ascii = idn_to_ascii($domain, IDNA_NONTRANSITIONAL_TO_ASCII, INTL_IDNA_VARIANT_UTS46);
			if (is_string($ascii) && '' !== $ascii) {
				return strtolower($ascii);
			}
		}
		return $domain;
	}

	/**
	 * The implementation's normal form, or null when it refuses the name (the reason is in
	 * $why).
	 */
	public static function normalise_strictly(string $domain, ?string &$why = null): ?string {

		$why = null;
		if (! function_exists('closte_normalize_domain')) {
			$why = 'no closte implementation is loaded';
			return null;
		}
		try {
			return closte_normalize_domain($domain);
		} catch (\Throwable $e) {
			$why = $e->getMessage();
			return null;
		}
	}

	/**
	 * The other form Ultimate Multisite serves a host under: `www.example.com` for
	 * `example.com` and the reverse; null for a wildcard, or a name with nothing after `www.`.
	 */
	public static function twin(string $name): ?string {

		if (str_starts_with($name, '*.')) {
			return null;
		}
		if (str_starts_with($name, 'www.')) {
			$bare = substr($name, 4);
			return '' === $bare ? null : $bare;
		}

		return '' === $name ? null : 'www.' . $name;
	}

	/**
	 * Every host the network serves, with where it comes from.
	 *
	 * @return array{domains: array<string, array{code: string, args: array}>, site_ids: array<string, int>, protected: array<string, true>, invalid: array<string, array{code: string, args: array}>, complete: bool, problems: list<array{code: string, args: array}>}
	 *         domains: normalised name => where it comes from (a reason, see Sync_Messages);
	 *         site_ids: normalised name => the site it belongs to;
	 *         protected: names never removed (the networks' domains and their twins, the filter);
	 *         invalid: names the implementation refuses => why (also a problem);
	 *         complete: every source was read; problems: what is missing, as reasons.
	 */
	public static function collect(): array {

		$domains  = [];
		$site_ids = [];
		$problems = [];

		$sites = self::site_hosts();
		if (null === $sites['rows']) {
			$problems[] = Sync_Messages::reason('sites_unreadable', $sites['error']);
		} else {
			foreach ($sites['rows'] as $row) {
				$name               = self::normalise($row['domain']);
				$domains[ $name ] ??= Sync_Messages::reason('site', $row['blog_id']);
				$site_ids[ $name ] ??= $row['blog_id'];
			}
		}

		$records = self::domain_records();
		if (null === $records['rows']) {
			$problems[] = $records['problem'];
		} else {
			foreach ($records['rows'] as $row) {
				$name               = self::normalise($row['domain']);
				$domains[ $name ] ??= Sync_Messages::reason('record', $row['site_id']);
				$site_ids[ $name ] ??= $row['site_id'];
			}
		}

		/**
		 * Filters the host names Closte should serve (normalised name => where it comes from,
		 * a text or a reason array).
		 *
		 * @param array<string, mixed> $domains
		 */
		$filtered = (array) apply_filters('closte_native_sync_domains', $domains);
		$domains  = [];
		$invalid  = [];
		foreach ($filtered as $key => $value) {
			// A plain list of names is accepted too (the filter's form before 0.2).
			[$name, $source] = is_int($key) ? [$value, Sync_Messages::reason('filter')] : [$key, $value];
			if (! is_string($name) || '' === trim($name)) {
				continue;
			}
			$source = is_array($source) && isset($source['code']) ? $source : Sync_Messages::reason('custom', (string) $source);
			$why    = null;
			$normal = self::normalise_strictly($name, $why);
			if (null === $normal) {
				$invalid[ self::normalise($name) ] = Sync_Messages::reason('invalid_name', $source, (string) $why);
				$domains[ self::normalise($name) ]   = $source; // still in use: compared in its plain form
				continue;
			}
			$domains[ $normal ] = $source;
		}

		$end = self::read_end($problems, $invalid, [] === $domains);

		return [
			'domains'   => $domains,
			'site_ids'  => $site_ids,
			'protected' => $end['protected'],
			'invalid'   => $invalid,
			'complete'  => $end['complete'],
			'problems'  => $end['problems'],
		];
	}

	/**
	 * The end of a read of the network's names, shared by collect() and Sync_Network::collect():
	 * the protected aliases, and the problems that make the read incomplete (the networks could
	 * not be read, a name Closte cannot hold, no name at all).
	 *
	 * @param array $problems The read's problems so far.
	 * @param array $invalid  Names Closte cannot hold => reason.
	 * @param bool  $empty    True when the read found no name.
	 * @return array{protected: array<string, true>, complete: bool, problems: array}
	 */
	public static function read_end(array $problems, array $invalid, bool $empty): array {

		$protected = self::protected_aliases();
		if (null === $protected['names']) {
			$problems[] = Sync_Messages::reason('networks_unreadable', $protected['error']);
		}
		if ([] !== $invalid) {
			$problems[] = Sync_Messages::reason('invalid_names', count($invalid), array_slice(array_map('strval', array_keys($invalid)), 0, 5));
		}
		if ($empty && [] === $problems) {
			$problems[] = Sync_Messages::reason('empty');
		}

		return [
			'protected' => array_fill_keys($protected['names'] ?? [], true),
			'complete'  => [] === $problems,
			'problems'  => $problems,
		];
	}

	/**
	 * Every site's host name, in one query (never one per site).
	 *
	 * @return array{rows: list<array{blog_id: int, domain: string}>|null, error: string} rows null on a database error
	 */
	public static function site_hosts(): array {

		global $wpdb;

		$wpdb->last_error = '';
		$rows             = $wpdb->get_results("SELECT blog_id, domain FROM {$wpdb->blogs} ORDER BY blog_id", ARRAY_A);
		if ('' !== $wpdb->last_error || ! is_array($rows)) {
			return ['rows' => null, 'error' => '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned'];
		}

		return ['rows' => array_map(static fn ($r) => ['blog_id' => (int) $r['blog_id'], 'domain' => (string) $r['domain']], $rows), 'error' => ''];
	}

	/**
	 * Ultimate Multisite's domain records, paged through completely.
	 *
	 * @return array{rows: list<array{domain: string, site_id: int}>|null, problem: array{code: string, args: array}|null}
	 */
	public static function domain_records(): array {

		global $wpdb;

		if (! function_exists('wu_get_domains')) {
			return ['rows' => null, 'problem' => Sync_Messages::reason('um_missing')];
		}

		$rows   = [];
		$offset = 0;
		do {
			$wpdb->last_error = '';
			try {
				$page = wu_get_domains(['number' => self::PAGE, 'offset' => $offset, 'orderby' => 'id', 'order' => 'ASC']);
			} catch (\Throwable $e) {
				return ['rows' => null, 'problem' => Sync_Messages::reason('records_failed', $e->getMessage())];
			}
			if ('' !== $wpdb->last_error || ! is_array($page)) {
				return ['rows' => null, 'problem' => Sync_Messages::reason('records_failed', '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned')];
			}
			foreach ($page as $record) {
				if (is_object($record) && method_exists($record, 'get_domain')) {
					$rows[] = [
						'domain'  => (string) $record->get_domain(),
						'site_id' => method_exists($record, 'get_site_id') ? (int) $record->get_site_id() : 0,
					];
				}
			}
			$offset += self::PAGE;
		} while (count($page) === self::PAGE);

		return ['rows' => $rows, 'problem' => null];
	}

	/**
	 * Host names that must never be removed from Closte: every network's own domain and its
	 * twin, plus the filter `closte_native_protected_aliases`. Wildcard aliases are protected by
	 * the implementation itself.
	 *
	 * @return array{names: string[]|null, error: string} names null when the networks table could not be read
	 */
	public static function protected_aliases(): array {

		global $wpdb;

		$wpdb->last_error = '';
		$networks         = $wpdb->get_col("SELECT domain FROM {$wpdb->site}");
		if ('' !== $wpdb->last_error || ! is_array($networks)) {
			return ['names' => null, 'error' => '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned'];
		}
		$protected = [];
		foreach ($networks as $network) {
			$network     = self::normalise((string) $network);
			$protected[] = $network;
			$twin        = self::twin($network);
			if (null !== $twin) {
				$protected[] = $twin;
			}
		}

		/**
		 * Filters the aliases the plugin never removes from Closte (sync and unmapping alike).
		 *
		 * @param string[] $protected Host names.
		 */
		$protected = (array) apply_filters('closte_native_protected_aliases', $protected);

		return ['names' => array_values(array_unique(array_map(static fn ($d) => self::normalise((string) $d), array_filter($protected, 'is_string')))), 'error' => ''];
	}

	/**
	 * Why $name is in use on the network, from a collect() result: the name itself (a site, a
	 * domain record, the filter), its protection, or its twin's. Empty when nothing uses it.
	 *
	 * @param array  $network A collect() result.
	 * @param string $name    A normalised name.
	 * @return list<array{code: string, args: array}> reasons
	 */
	public static function uses(array $network, string $name): array {

		$uses = [];
		if (isset($network['protected'][ $name ])) {
			$uses[] = Sync_Messages::reason('protected');
		}
		if (isset($network['domains'][ $name ])) {
			$uses[] = $network['domains'][ $name ];
		}
		$twin = self::twin($name);
		if (null !== $twin && (isset($network['domains'][ $twin ]) || isset($network['protected'][ $twin ]))) {
			$uses[] = Sync_Messages::reason('twin', $twin);
		}

		return $uses;
	}

	/**
	 * What still uses a host name (a site, a domain record, the network, the protection filter,
	 * or any of these for its twin). Used before removing an alias when a domain is unmapped,
	 * and by every certificate job. Names are compared in their normal form in PHP.
	 *
	 * First the rows stored under the name or its twin (lookup(): a few indexed queries): when
	 * they show a user, the name is used, whatever else the network holds. Only when they show
	 * none, the conclusion that may remove an alias, is the whole network read, compactly
	 * (Sync_Network::collect(), the same rules as collect()): a row whose stored form the lookup
	 * cannot find (a form of the name the database does not match) is found there. At 100,000
	 * names collect() needed 100 MB and 6 s for every call: each certificate job and removal
	 * died in a 64 MB queue run. A name that cannot be normalised elsewhere on the network does
	 * not make this check incomplete: it is compared in its plain lower-case form.
	 *
	 * @return array{users: list<array{code: string, args: array}>, complete: bool, problem: string}
	 */
	public static function users_of(string $domain): array {

		$name = self::normalise($domain);
		if (! has_filter('closte_native_sync_domains')) {
			$twin    = self::twin($name);
			$network = self::lookup(null === $twin ? [$name] : [$name, $twin]);
			$users   = self::uses($network, $name);
			if ([] !== $users) {
				return self::users_result($users, $network['problems']);
			}
		}
		$network = Sync_Network::collect();

		return self::users_result(Sync_Network::uses($network, $name), $network['problems']);
	}

	/** users_of()'s answer: complete unless a source could not be read. */
	private static function users_result(array $users, array $problems): array {

		$missing = array_values(array_filter($problems, static fn (array $p) => ! in_array($p['code'], ['invalid_names', 'empty'], true)));
		if ([] !== $missing) {
			return ['users' => $users, 'complete' => false, 'problem' => implode('; ', array_map([Sync_Messages::class, 'text'], $missing))];
		}

		return ['users' => $users, 'complete' => true, 'problem' => ''];
	}

	/**
	 * collect() of these names only: the sites and domain records stored under one of their
	 * forms (as normalised, with a trailing dot, and the Unicode form of an IDN; the database's
	 * collation takes case), each checked by its normal form in PHP, in collect()'s order (sites
	 * by id, then records by id), and the protected aliases. Rows stored in a form not asked for
	 * are missed: a name found here is used, a name not found may still be (users_of() then
	 * reads everything). The filter closte_native_sync_domains is not applied.
	 *
	 * @param string[] $names Normalised names.
	 * @return array{domains: array<string, array>, site_ids: array<string, int>, protected: array<string, true>, invalid: array, complete: bool, problems: list<array>}
	 */
	public static function lookup(array $names): array {

		global $wpdb;

		$wanted = array_fill_keys(array_map('strval', $names), true);
		$forms  = [];
		foreach (array_keys($wanted) as $name) {
			$forms[] = $name;
			$forms[] = $name . '.';
			if (str_contains($name, 'xn--') && function_exists('idn_to_utf8')) {
				$unicode = idn_to_utf8($name, IDNA_NONTRANSITIONAL_TO_UNICODE, INTL_IDNA_VARIANT_UTS46);
				if (is_string($unicode) && '' !== $unicode && $unicode !== $name) {
					$forms[] = $unicode;
					$forms[] = $unicode . '.';
				}
			}
		}
		$forms = array_values(array_unique($forms));

		$domains  = [];
		$site_ids = [];
		$problems = [];

		$wpdb->last_error = '';
		$rows             = $wpdb->get_results($wpdb->prepare("SELECT blog_id, domain FROM {$wpdb->blogs} WHERE domain IN (" . implode(',', array_fill(0, count($forms), '%s')) . ') ORDER BY blog_id', ...$forms), ARRAY_A); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- placeholders only
		if ('' !== $wpdb->last_error || ! is_array($rows)) {
			$problems[] = Sync_Messages::reason('sites_unreadable', '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned');
		} else {
			foreach ($rows as $row) {
				$name = self::normalise((string) $row['domain']);
				if (isset($wanted[ $name ])) {
					$domains[ $name ]  ??= Sync_Messages::reason('site', (int) $row['blog_id']);
					$site_ids[ $name ] ??= (int) $row['blog_id'];
				}
			}
		}

		if (! function_exists('wu_get_domains')) {
			$problems[] = Sync_Messages::reason('um_missing');
		} else {
			$records = [];
			foreach ($forms as $form) {
				$wpdb->last_error = '';
				try {
					// An explicit number: BerlinDB's default is 100 and -1 means LIMIT 1.
					$page = wu_get_domains(['domain' => $form, 'number' => self::PAGE, 'offset' => 0, 'orderby' => 'id', 'order' => 'ASC']);
				} catch (\Throwable $e) {
					$problems[] = Sync_Messages::reason('records_failed', $e->getMessage());
					break;
				}
				if ('' !== $wpdb->last_error || ! is_array($page)) {
					$problems[] = Sync_Messages::reason('records_failed', '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned');
					break;
				}
				foreach ($page as $record) {
					if (is_object($record) && method_exists($record, 'get_domain')) {
						$id     = method_exists($record, 'get_id') ? (int) $record->get_id() : 0;
						$stored = (string) $record->get_domain();
						// By id: collect()'s order, and a record found under two forms counts once.
						$records[ $id . "\t" . $stored ] = [$id, $stored, method_exists($record, 'get_site_id') ? (int) $record->get_site_id() : 0];
					}
				}
			}
			usort($records, static fn (array $a, array $b) => $a[0] <=> $b[0]);
			foreach ($records as [, $stored, $site_id]) {
				$name = self::normalise($stored);
				if (isset($wanted[ $name ])) {
					$domains[ $name ]  ??= Sync_Messages::reason('record', $site_id);
					$site_ids[ $name ] ??= $site_id;
				}
			}
		}

		$end = self::read_end($problems, [], false);

		return [
			'domains'   => $domains,
			'site_ids'  => $site_ids,
			'protected' => $end['protected'],
			'invalid'   => [],
			'complete'  => $end['complete'],
			'problems'  => $end['problems'],
		];
	}
}
