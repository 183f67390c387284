<?php
/**
 * Every host the network serves, beside what Closte holds and what this integration added:
 * one listing (`/getdomains`), no change. `wp closte domains` prints it.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The network's domains against Closte's aliases.
 */
final class Domain_Report {

	/**
	 * @return array{rows: list<array{domain: string, source: string, on_closte: string, added_by_us: string}>, listing_ok: bool, listing: string, result: array, problems: string[]}
	 *         on_closte: yes|no|unknown (unknown when the listing failed); rows for aliases that
	 *         no site uses have the source "(not used by the network)"; result: the listing's
	 *         closte result (its retryable flag decides the command's exit code).
	 */
	public static function collect(): array {

		$sources = Network_Domains::collect();
		$listing = closte_list_domains();
		$aliases = [];
		foreach ($listing['ok'] ? (array) $listing['domains'] : [] as $alias) {
			$aliases[ strtolower((string) $alias) ] = true;
		}
		$owned = Alias_Registry::all();
		$rows  = [];
		foreach ($sources['domains'] as $name => $source) {
			$rows[ $name ] = self::row((string) $name, Sync_Messages::text($source), $listing['ok'] ? (isset($aliases[ $name ]) ? 'yes' : 'no') : 'unknown', $owned);
		}
		foreach (array_keys($aliases) as $alias) {
			if (isset($rows[ $alias ])) {
				continue;
			}
			$uses           = Network_Domains::uses($sources, $alias);
			$rows[ $alias ] = self::row($alias, [] === $uses ? __('(not used by the network)', 'closte-native') : Sync_Messages::join($uses), 'yes', $owned);
		}
		ksort($rows);

		return [
			'rows'       => array_values($rows),
			'listing_ok' => (bool) $listing['ok'],
			'listing'    => $listing['ok'] ? '' : Sync_Messages::explain_failure($listing),
			'result'     => $listing,
			'problems'   => array_map([Sync_Messages::class, 'text'], $sources['problems']),
		];
	}

	private static function row(string $domain, string $source, string $on_closte, array $owned): array {

		return [
			'domain'      => $domain,
			'source'      => $source,
			'on_closte'   => $on_closte,
			'added_by_us' => Alias_Registry::owns($owned[ $domain ] ?? null) ? 'yes' : 'no',
		];
	}
}
