<?php
/**
 * The newest map or unmap of a domain wins: one intent row per domain in change.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A retry chain has an intent row (`closte_native_intent_<md5>`): the newest map or unmap of a
 * domain owns it, so a stale retry never undoes a newer change; the row is deleted when its
 * chain ends (done, refused, given up).
 */
final class Change_Intents {

	const PREFIX = 'closte_native_intent_';

	/**
	 * A new change of $domain: its row replaces any older one, whose retries then drop.
	 *
	 * @return string The token of the new intent.
	 */
	public static function record(string $operation, string $domain): string {

		$token = wp_generate_uuid4();
		update_site_option(self::key($domain), ['operation' => $operation, 'token' => $token, 'at' => time()]);

		return $token;
	}

	/**
	 * The row of $domain's current change, or null when none is in progress.
	 *
	 * @return array{operation: string, token: string, at: int}|null
	 */
	public static function current(string $domain): ?array {

		$current = get_site_option(self::key($domain));

		return is_array($current) ? $current : null;
	}

	/**
	 * The chain of $intent ended (done, refused, or given up): its row goes, unless a newer
	 * operation on the domain has replaced it meanwhile.
	 */
	public static function end(string $domain, string $intent): void {

		$current = self::current($domain);
		if (null !== $current && ($current['token'] ?? '') === $intent) {
			delete_site_option(self::key($domain));
		}
	}

	public static function key(string $domain): string {

		return self::PREFIX . md5(Network_Domains::normalise($domain));
	}
}
