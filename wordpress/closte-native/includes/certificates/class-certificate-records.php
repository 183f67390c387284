<?php
/**
 * Where each name's certificate lifecycle is kept: one network option per name.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * One network option per name (`closte_native_cert_<md5>`), like Alias_Registry, so concurrent
 * queue runners working on different names never overwrite each other's records. The record:
 * - name, site_id, twin_of (the bare name when this is its `www.` twin, else null);
 * - alias_at: when the alias was confirmed on Closte (null while only Ultimate Multisite's DNS
 *   stage has spoken for the name);
 * - state: waiting_dns | requested | active | expiring | problem | backoff | held;
 * - dns {ready, reason, checked_at, by: closte|ultimate-multisite, unexpected}, dns_checks,
 *   dns_first_at (the first check, for the DNS schedule);
 * - requests (Unix times of certificate requests, pruned to the 7-day window), failures (in a
 *   row), next_at (when the scheduled job acts), last_error;
 * - logged: the key of the last reason logged, so a held reason is logged once until it changes;
 * - certificate {status, issuer, issuer_organization, not_after, days_left, checked_at,
 *   address, detail} from the last handshake, or null.
 */
final class Certificate_Records {

	const PREFIX = 'closte_native_cert_';

	/**
	 * The request times of a name whose alias was removed (`closte_native_certreq_<md5>`, outside
	 * PREFIX's LIKE pattern so all() never lists them): a new alias of the same name starts with
	 * them, since Let's Encrypt counts per name, not per alias.
	 */
	const REQUESTS_PREFIX = 'closte_native_certreq_';

	/** The states of a record. */
	const STATES = ['waiting_dns', 'requested', 'active', 'expiring', 'problem', 'backoff', 'held'];

	public static function key(string $name): string {

		return self::PREFIX . md5(Network_Domains::normalise($name));
	}

	/**
	 * A new record for $name: waiting for DNS, nothing requested yet.
	 *
	 * @param string      $name    Host name.
	 * @param int         $site_id The site it serves.
	 * @param string|null $twin_of The bare name when $name is its `www.` twin.
	 */
	public static function fresh(string $name, int $site_id, ?string $twin_of): array {

		return [
			'name'         => Network_Domains::normalise($name),
			'site_id'      => $site_id,
			'twin_of'      => null === $twin_of ? null : Network_Domains::normalise($twin_of),
			'alias_at'     => null,
			'state'        => 'waiting_dns',
			'dns'          => ['ready' => false, 'reason' => '', 'checked_at' => 0, 'by' => 'closte', 'unexpected' => []],
			'dns_checks'   => 0,
			'dns_first_at' => 0,
			'requests'     => [],
			'failures'     => 0,
			'next_at'      => 0,
			'last_error'   => '',
			'logged'       => '',
			'certificate'  => null,
		];
	}

	public static function get(string $name): ?array {

		$record = get_site_option(self::key($name));

		return is_array($record) && isset($record['name']) ? self::complete($record) : null;
	}

	public static function put(array $record): void {

		$record = self::complete($record);
		Certificate_Watch::record_changed(self::get($record['name']), $record);
		update_site_option(self::key($record['name']), $record);
	}

	public static function delete(string $name): void {

		Certificate_Watch::record_changed(self::get($name), null);
		delete_site_option(self::key($name));
	}

	/**
	 * Keeps the request times of a name whose record goes (none: nothing is kept).
	 *
	 * @param int[] $times Unix times.
	 */
	public static function keep_requests(string $name, array $times): void {

		$key = self::REQUESTS_PREFIX . md5(Network_Domains::normalise($name));
		if ([] === $times) {
			delete_site_option($key);
			return;
		}
		update_site_option($key, array_values(array_map('intval', $times)));
	}

	/** @return int[] the request times kept for $name by keep_requests(). */
	public static function kept_requests(string $name): array {

		$times = get_site_option(self::REQUESTS_PREFIX . md5(Network_Domains::normalise($name)));

		return is_array($times) ? array_map('intval', $times) : [];
	}

	/**
	 * Every record, in one query: for the callers that need them all at once, on networks whose
	 * records fit in memory (each() reads them a page at a time).
	 *
	 * @return array<string, array> by name
	 */
	public static function all(): array {

		global $wpdb;

		$values  = $wpdb->get_col(
			$wpdb->prepare("SELECT meta_value FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key LIKE %s", get_current_network_id(), $wpdb->esc_like(self::PREFIX) . '%')
		);
		$records = [];
		foreach ((array) $values as $value) {
			$record = maybe_unserialize($value);
			if (is_array($record) && isset($record['name'])) {
				$records[ (string) $record['name'] ] = self::complete($record);
			}
		}
		ksort($records, SORT_NATURAL);

		return $records;
	}

	/**
	 * Every record, a page of rows at a time, so a network of 100,000 names is read in the memory
	 * of one page (all() of 100,000 records needs over 250 MB). Paged along the primary key:
	 * sitemeta's meta_key index is a 191-character prefix, which cannot give rows in order, so
	 * MariaDB sorted every matching row again for each page (6 s for 100,000 records, 1.2 s
	 * this way).
	 *
	 * @param int $page Rows per query.
	 * @return \Generator<string, array> name => record
	 */
	public static function each(int $page = 1000): \Generator {

		global $wpdb;

		$after   = 0;
		$network = get_current_network_id();
		$like    = $wpdb->esc_like(self::PREFIX) . '%';
		do {
			$rows = (array) $wpdb->get_results(
				$wpdb->prepare("SELECT meta_id, meta_value FROM {$wpdb->sitemeta} FORCE INDEX (PRIMARY) WHERE meta_id > %d AND meta_key LIKE %s AND site_id = %d ORDER BY meta_id LIMIT %d", $after, $like, $network, $page),
				ARRAY_N
			);
			foreach ($rows as $row) {
				$after  = (int) $row[0];
				$record = maybe_unserialize($row[1]);
				if (is_array($record) && isset($record['name'])) {
					yield (string) $record['name'] => self::complete($record);
				}
			}
		} while (count($rows) === $page);
	}

	/** A stored record with every field (a record written by an older version lacks some). */
	private static function complete(array $record): array {

		// The defaults once per request: each() completes every record of the network.
		static $defaults = null;
		$defaults    ??= self::fresh('', 0, null);
		$record        = array_merge($defaults, $record);
		$record['dns'] = array_merge($defaults['dns'], is_array($record['dns']) ? $record['dns'] : []);

		return $record;
	}
}
