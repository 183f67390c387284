<?php
/**
 * Which Closte aliases this integration added: the ownership that a removal requires.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * One network option per alias we added (`closte_native_alias_<md5>`), so that concurrent
 * queue runners never overwrite each other's records and a lookup is one row. Closte answering
 * "already exists" to an add means someone else (the operator, another site, Closte itself)
 * owns the alias: no record is written, and unmapping leaves that alias alone.
 *
 * Aliases added before this registry existed have no record either: they are left in place on
 * unmapping (logged), and Closte Sync's preview lists them for removal when nothing uses them.
 */
final class Alias_Registry {

	const PREFIX = 'closte_native_alias_';

	public static function key(string $domain): string {

		return self::PREFIX . md5(Network_Domains::normalise($domain));
	}

	/**
	 * Records that this integration added $domain.
	 *
	 * @param string $domain  Normalised or raw host name.
	 * @param int    $site_id The site it was added for.
	 * @param string $source  The hook or job that added it.
	 */
	public static function record(string $domain, int $site_id, string $source): void {

		update_site_option(
			self::key($domain),
			[
				'domain'  => Network_Domains::normalise($domain),
				'site_id' => $site_id,
				'source'  => $source,
				'at'      => time(),
			]
		);
	}

	/**
	 * @return array{domain: string, site_id: int, source: string, at: int}|null
	 */
	public static function get(string $domain): ?array {

		$record = get_site_option(self::key($domain));
		if (! is_array($record) || ! isset($record['domain'])) {
			return null;
		}
		if (self::expired($record)) {
			delete_site_option(self::key($domain));
			return null;
		}

		return $record;
	}

	/** How long a tombstone (or a fresh add) marks a hook's work as done for its twin hook. */
	const DEDUPE_WINDOW = 600;

	private static function expired(array $record): bool {

		return ! empty($record['removed_at']) && (int) $record['removed_at'] < time() - self::DEDUPE_WINDOW;
	}

	/**
	 * After a removal: the record becomes a tombstone for DEDUPE_WINDOW seconds, so the second
	 * of two removal hooks for one event (a deleted site fires wu_remove_domain for its record
	 * and wu_remove_subdomain) is recognised as done, then it is deleted on the next read.
	 */
	public static function forget(string $domain, string $source): void {

		$record = self::get($domain);
		if (null === $record) {
			return;
		}
		$record['removed_at'] = time();
		$record['removed_by'] = $source;
		update_site_option(self::key($domain), $record);
	}

	/** True when the record says the alias is ours now (not a tombstone). */
	public static function owns(?array $record): bool {

		return null !== $record && empty($record['removed_at']);
	}

	/**
	 * Every record, in one query.
	 *
	 * Expired tombstones are deleted on the way.
	 *
	 * @return array<string, array{domain: string, site_id: int, source: string, at: int}> by domain
	 */
	public static function all(): array {

		global $wpdb;

		$values  = $wpdb->get_col(
			$wpdb->prepare("SELECT meta_value FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key LIKE %s", get_current_network_id(), $wpdb->esc_like(self::PREFIX) . '%')
		);
		$records = [];
		foreach ((array) $values as $value) {
			$record = maybe_unserialize($value);
			if (! is_array($record) || ! isset($record['domain'])) {
				continue;
			}
			if (self::expired($record)) {
				delete_site_option(self::key($record['domain'])); // tombstones end here
				continue;
			}
			$records[ $record['domain'] ] = $record;
		}

		return $records;
	}
}
