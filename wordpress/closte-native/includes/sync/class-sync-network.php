<?php
/**
 * What the network uses, read for Closte Sync in bounded memory: the same names, sources and
 * completeness rules as Network_Domains::collect(), held as one integer per name instead of an
 * array per name, and read in pages so that no list of rows or objects is held whole.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * At 100,000 names Network_Domains::collect() holds a reason array and a row array per name
 * (about 1 KB each) and a preview died on PHP's memory limit. Here a name's source is an int,
 * site id * 2 (+1 for a domain record), or a packed reason (Sync_Messages::pack) for a name the
 * filter closte_native_sync_domains gave with another source: about 100 bytes a name.
 *
 * The result has the keys of Network_Domains::collect() that Www_Twin::twin_to_add() reads
 * (domains, protected) with these compact values; use source() and uses() to read it.
 */
final class Sync_Network {

	/** Rows per query while paging through the sites and the domain records. */
	const PAGE = 2000;

	/**
	 * Every host the network serves, compactly.
	 *
	 * @return array{domains: array<string, int|string>, protected: array<string, true>, invalid: array<string, array>, complete: bool, problems: list<array>}
	 */
	public static function collect(): array {

		$domains  = [];
		$problems = [];

		$error = self::each_site(
			static function (int $blog_id, string $host) use (&$domains): void {
				$domains[ Network_Domains::normalise($host) ] ??= $blog_id * 2;
			}
		);
		if (null !== $error) {
			$problems[] = Sync_Messages::reason('sites_unreadable', $error);
		}

		$problem = self::each_record(
			static function (int $site_id, string $host) use (&$domains): void {
				$domains[ Network_Domains::normalise($host) ] ??= $site_id * 2 + 1;
			}
		);
		if (null !== $problem) {
			$problems[] = $problem;
		}

		if (has_filter('closte_native_sync_domains')) {
			$domains = self::filtered($domains);
		}

		// Names Closte cannot hold: still in use (compared in their plain form), never sent.
		$invalid = [];
		$checked = [];
		foreach ($domains as $name => $source) {
			$name = (string) $name;
			$why  = null;
			$normal = Network_Domains::normalise_strictly($name, $why);
			if (null === $normal) {
				$invalid[ $name ] = Sync_Messages::reason('invalid_name', self::source_of($source), (string) $why);
			} elseif ($normal !== $name) {
				$checked[ $normal ] = $source; // the filter's names may come in any form
				continue;
			}
			$checked[ $name ] = $source;
		}
		unset($domains);

		$end = Network_Domains::read_end($problems, $invalid, [] === $checked);

		return [
			'domains'   => $checked,
			'protected' => $end['protected'],
			'invalid'   => $invalid,
			'complete'  => $end['complete'],
			'problems'  => $end['problems'],
		];
	}

	/**
	 * The filter closte_native_sync_domains gets and returns reasons, as it always did; only
	 * networks that use it pay for the arrays.
	 *
	 * @param array<string, int> $domains
	 * @return array<string, int|string>
	 */
	private static function filtered(array $domains): array {

		$reasons = [];
		foreach ($domains as $name => $source) {
			$reasons[ $name ] = self::source_of($source);
		}
		/** This filter is documented in includes/domains/class-network-domains.php. */
		$filtered = (array) apply_filters('closte_native_sync_domains', $reasons);
		unset($reasons);
		$compact = [];
		foreach ($filtered as $key => $value) {
			// A plain list of names is accepted too (the filter's form before 0.2).
			[$name, $source] = is_int($key) ? [$value, Sync_Messages::reason('filter')] : [$key, $value];
			if (! is_string($name) || '' === trim($name)) {
				continue;
			}
			$name   = Network_Domains::normalise($name);
			$source = is_array($source) && isset($source['code']) ? $source : Sync_Messages::reason('custom', (string) $source);
			if (in_array($source['code'], ['site', 'record'], true) && isset($domains[ $name ]) && self::source_of($domains[ $name ]) == $source) { // phpcs:ignore Universal.Operators.StrictComparisonOperator -- same reason, whatever the int's type
				$compact[ $name ] = $domains[ $name ];
			} else {
				$compact[ $name ] = Sync_Messages::pack($source);
			}
		}

		return $compact;
	}

	/**
	 * Calls $each (blog id, host) for every row of wp_blogs, a page at a time.
	 *
	 * @return string|null The database error, null when every row was read.
	 */
	public static function each_site(callable $each): ?string {

		global $wpdb;

		$after = 0;
		do {
			$wpdb->last_error = '';
			$rows = $wpdb->get_results($wpdb->prepare("SELECT blog_id, domain FROM {$wpdb->blogs} WHERE blog_id > %d ORDER BY blog_id LIMIT %d", $after, self::PAGE), ARRAY_N);
			if ('' !== $wpdb->last_error || ! is_array($rows)) {
				return '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned';
			}
			foreach ($rows as $row) {
				$after = (int) $row[0];
				$each($after, (string) $row[1]);
			}
			Sync_State::alive();
			$count = count($rows);
			unset($rows);
		} while (self::PAGE === $count);

		return null;
	}

	/**
	 * Calls $each (site id, host) for every Ultimate Multisite domain record, a page at a time
	 * through its query layer (an explicit number and offset: BerlinDB's -1 means LIMIT 1).
	 *
	 * @return array|null The problem (a reason), null when every record was read.
	 */
	public static function each_record(callable $each): ?array {

		global $wpdb;

		if (! function_exists('wu_get_domains')) {
			return Sync_Messages::reason('um_missing');
		}
		$offset = 0;
		do {
			$wpdb->last_error = '';
			try {
				$page = wu_get_domains(['number' => self::PAGE, 'offset' => $offset, 'orderby' => 'id', 'order' => 'ASC']);
			} catch (\Throwable $e) {
				return Sync_Messages::reason('records_failed', $e->getMessage());
			}
			if ('' !== $wpdb->last_error || ! is_array($page)) {
				return Sync_Messages::reason('records_failed', '' !== $wpdb->last_error ? $wpdb->last_error : 'no list returned');
			}
			foreach ($page as $record) {
				if (is_object($record) && method_exists($record, 'get_domain')) {
					$each(method_exists($record, 'get_site_id') ? (int) $record->get_site_id() : 0, (string) $record->get_domain());
				}
			}
			Sync_State::alive();
			$count   = count($page);
			$offset += self::PAGE;
			unset($page);
			// The query layer may keep every object it made in the object cache: let it go.
			if (0 === $offset % (10 * self::PAGE)) {
				Background_Jobs::release_process_memory();
			}
		} while (self::PAGE === $count);

		return null;
	}

	/**
	 * Where a name comes from, as a reason.
	 *
	 * @param int|string|array $source A compact source from collect().
	 */
	public static function source_of($source): array {

		if (is_int($source)) {
			return Sync_Messages::reason(1 === $source % 2 ? 'record' : 'site', intdiv($source, 2));
		}

		return Sync_Messages::unpack($source);
	}

	/** The site a name belongs to (0 for a name the filter added). */
	public static function site_id(array $network, string $name): int {

		$source = $network['domains'][ $name ] ?? null;

		return is_int($source) ? intdiv($source, 2) : 0;
	}

	/**
	 * Why $name is in use: Network_Domains::uses() on a compact collect().
	 *
	 * @return list<array{code: string, args: array}>
	 */
	public static function uses(array $network, string $name): array {

		$uses = [];
		if (isset($network['protected'][ $name ])) {
			$uses[] = Sync_Messages::reason('protected');
		}
		if (isset($network['domains'][ $name ])) {
			$uses[] = self::source_of($network['domains'][ $name ]);
		}
		$twin = Network_Domains::twin($name);
		if (null !== $twin && (isset($network['domains'][ $twin ]) || isset($network['protected'][ $twin ]))) {
			$uses[] = Sync_Messages::reason('twin', $twin);
		}

		return $uses;
	}

	/**
	 * The ownership records of these aliases only (Alias_Registry::all() reads every record, one
	 * array each), a page of keys at a time.
	 *
	 * @param string[] $aliases Normalised names.
	 * @return array<string, array{domain: string, site_id: int, source: string, at: int}> by domain; tombstones and missing records left out
	 */
	public static function owned(array $aliases): array {

		global $wpdb;

		$owned = [];
		foreach (array_chunk($aliases, 500) as $chunk) {
			$keys = array_map([Alias_Registry::class, 'key'], $chunk);
			$sql  = "SELECT meta_value FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key IN (" . implode(',', array_fill(0, count($keys), '%s')) . ')';
			foreach ((array) $wpdb->get_col($wpdb->prepare($sql, get_current_network_id(), ...$keys)) as $value) { // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- placeholders only
				$record = maybe_unserialize($value);
				if (is_array($record) && isset($record['domain']) && Alias_Registry::owns($record)) {
					$owned[ (string) $record['domain'] ] = $record;
				}
			}
		}

		return $owned;
	}
}
