<?php
/**
 * What the network uses: the host names of its sites, Ultimate Multisite's domain records, and
 * the aliases that must never be removed. Every list says whether it is complete.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Read-only queries. Two rules make a list trustworthy enough to remove aliases by:
 * - every query pages through ALL rows. Ultimate Multisite's query layer (BerlinDB) passes
 *   `number` through absint(), so `-1` means LIMIT 1, and its default is 100; we page with an
 *   explicit `number` and `offset` until a short page;
 * - a list whose source is missing (Ultimate Multisite not loaded) or failed (a database error)
 *   is marked incomplete, and an incomplete list is never used to remove anything.
 */
final class Network_Domains {

	/** Rows per page of Ultimate Multisite's domain query. */
	const PAGE = 500;

	/**
	 * The normalised form used for comparisons: lower case, no trailing dot, IDN as punycode
	 * (the form Closte lists and the extension sends).
	 */
	public static function normalise(string $domain): string {

		if (function_exists('closte_normalize_domain')) {
			try {
				return closte_normalize_domain($domain);
			} catch (\Throwable $e) {
				// Not a name the extension would send: compared in its plain lower-case form.
			}
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
	 * Every host the network serves, with where it comes from.
	 *
	 * @return array{domains: array<string, string>, site_ids: array<string, int>, complete: bool, problems: string[]}
	 *         domains: normalised name => source ("site 3", "domain record of site 5");
	 *         site_ids: normalised name => the site it belongs to.
	 */
	public static function collect(): array {

		$domains  = [];
		$site_ids = [];
		$problems = [];

		$sites = self::site_hosts();
		if (null === $sites) {
			$problems[] = __('the list of sites could not be read from the database', 'closte-native');
		} else {
			foreach ($sites as $row) {
				$name = self::normalise($row['domain']);
				/* translators: %d: site id */
				$domains[ $name ] ??= sprintf(__('site %d', 'closte-native'), $row['blog_id']);
				$site_ids[ $name ] ??= $row['blog_id'];
			}
		}

		$records = self::domain_records();
		if (null === $records['rows']) {
			$problems[] = $records['problem'];
		} else {
			foreach ($records['rows'] as $row) {
				$name = self::normalise($row['domain']);
				/* translators: %d: site id */
				$domains[ $name ] ??= sprintf(__('domain record of site %d', 'closte-native'), $row['site_id']);
				$site_ids[ $name ] ??= $row['site_id'];
			}
		}

		/**
		 * Filters the host names Closte should serve (normalised name => where it comes from).
		 *
		 * @param array<string, string> $domains
		 */
		$filtered = (array) apply_filters('closte_native_sync_domains', $domains);
		$domains  = [];
		foreach ($filtered as $key => $value) {
			// A plain list of names is accepted too (the filter's form before 0.2).
			[$name, $source] = is_int($key) ? [$value, __('filter closte_native_sync_domains', 'closte-native')] : [$key, $value];
			if (is_string($name) && '' !== trim($name)) {
				$domains[ self::normalise($name) ] = (string) $source;
			}
		}

		if ([] === $domains && [] === $problems) {
			$problems[] = __('the list of the network\'s domains is empty', 'closte-native');
		}

		return ['domains' => $domains, 'site_ids' => $site_ids, 'complete' => [] === $problems, 'problems' => $problems];
	}

	/**
	 * Every site's host name, in one query (never one per site).
	 *
	 * @return list<array{blog_id: int, domain: string}>|null null on a database error
	 */
	public static function site_hosts(?string $only = null): ?array {

		global $wpdb;

		$sql = "SELECT blog_id, domain FROM {$wpdb->blogs}";
		if (null !== $only) {
			$sql .= $wpdb->prepare(' WHERE domain = %s', $only);
		}
		$wpdb->last_error = '';
		$rows             = $wpdb->get_results($sql . ' ORDER BY blog_id', ARRAY_A);
		if ('' !== $wpdb->last_error || ! is_array($rows)) {
			return null;
		}

		return array_map(static fn ($r) => ['blog_id' => (int) $r['blog_id'], 'domain' => (string) $r['domain']], $rows);
	}

	/**
	 * Ultimate Multisite's domain records, paged through completely.
	 *
	 * @param string|null $only Only the records of this host name.
	 * @return array{rows: list<array{domain: string, site_id: int}>|null, problem: string}
	 */
	public static function domain_records(?string $only = null): array {

		global $wpdb;

		if (! function_exists('wu_get_domains')) {
			return ['rows' => null, 'problem' => __('Ultimate Multisite is not loaded, so its mapped domains are unknown', 'closte-native')];
		}

		$rows   = [];
		$offset = 0;
		do {
			$query = ['number' => self::PAGE, 'offset' => $offset, 'orderby' => 'id', 'order' => 'ASC'];
			if (null !== $only) {
				$query['domain'] = $only;
			}
			$wpdb->last_error = '';
			try {
				$page = wu_get_domains($query);
			} catch (\Throwable $e) {
				/* translators: %s: error message */
				return ['rows' => null, 'problem' => sprintf(__('reading Ultimate Multisite\'s mapped domains failed: %s', 'closte-native'), $e->getMessage())];
			}
			if ('' !== $wpdb->last_error || ! is_array($page)) {
				/* translators: %s: database error */
				return ['rows' => null, 'problem' => sprintf(__('reading Ultimate Multisite\'s mapped domains failed: %s', 'closte-native'), '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned')];
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

		return ['rows' => $rows, 'problem' => ''];
	}

	/**
	 * Host names that must never be removed from Closte: every network's own domain and its
	 * `www.` form, plus the filter `closte_native_protected_aliases`. Wildcard aliases are
	 * protected by the extension itself.
	 *
	 * @return string[] normalised names
	 */
	public static function protected_aliases(): array {

		global $wpdb;

		$protected = [];
		foreach ((array) $wpdb->get_col("SELECT domain FROM {$wpdb->site}") as $network) {
			$network     = self::normalise((string) $network);
			$protected[] = $network;
			$protected[] = str_starts_with($network, 'www.') ? substr($network, 4) : 'www.' . $network;
		}

		/**
		 * Filters the aliases the plugin never removes from Closte (sync and unmapping alike).
		 *
		 * @param string[] $protected Host names.
		 */
		$protected = (array) apply_filters('closte_native_protected_aliases', $protected);

		return array_values(array_unique(array_map(static fn ($d) => self::normalise((string) $d), array_filter($protected, 'is_string'))));
	}

	/**
	 * What still uses a host name: a site, a domain record, the network, or the protection
	 * filter. Used before removing an alias when a domain is unmapped.
	 *
	 * @return array{users: string[], complete: bool, problem: string}
	 */
	public static function users_of(string $domain): array {

		$domain = self::normalise($domain);
		$users  = [];

		if (in_array($domain, self::protected_aliases(), true)) {
			$users[] = __('the network (protected alias)', 'closte-native');
		}

		$sites = self::site_hosts($domain);
		if (null === $sites) {
			return ['users' => $users, 'complete' => false, 'problem' => __('the list of sites could not be read from the database', 'closte-native')];
		}
		foreach ($sites as $row) {
			/* translators: %d: site id */
			$users[] = sprintf(__('site %d', 'closte-native'), $row['blog_id']);
		}

		$records = self::domain_records($domain);
		if (null === $records['rows']) {
			return ['users' => $users, 'complete' => false, 'problem' => $records['problem']];
		}
		foreach ($records['rows'] as $row) {
			if (self::normalise($row['domain']) === $domain) {
				/* translators: %d: site id */
				$users[] = sprintf(__('domain record of site %d', 'closte-native'), $row['site_id']);
			}
		}

		return ['users' => $users, 'complete' => true, 'problem' => ''];
	}
}
