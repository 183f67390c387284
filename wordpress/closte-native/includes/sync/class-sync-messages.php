<?php
/**
 * Why a name is where it is in a sync plan or report, stored as a code and translated when shown.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A plan is stored in a network option and read later, possibly by an operator with another
 * language: its reasons are codes with arguments (`['code' => 'twin', 'args' => ['a.com']]`),
 * and text() puts them into words in the language of whoever reads them.
 */
final class Sync_Messages {

	/**
	 * A stored reason.
	 *
	 * @param string $code One of the codes text() knows.
	 * @param mixed  ...$args Its arguments (scalars, lists of scalars, or nested reasons).
	 * @return array{code: string, args: array}
	 */
	public static function reason(string $code, ...$args): array {

		return ['code' => $code, 'args' => $args];
	}

	/**
	 * A reason in words. A plain string (a plan stored before 0.4) is shown as it is.
	 *
	 * @param array|string $reason A reason().
	 */
	public static function text($reason): string {

		if (! is_array($reason)) {
			return (string) $reason;
		}
		$args = array_values((array) ($reason['args'] ?? []));
		$arg  = static function (int $i) use ($args) {
			$value = $args[ $i ] ?? '';
			if (is_array($value) && isset($value['code'])) {
				return self::text($value);
			}
			return is_array($value) ? implode(', ', array_map('strval', $value)) : $value;
		};

		switch ($reason['code'] ?? '') {
			// Where a name the network uses comes from.
			case 'site':
				/* translators: %d: site id */
				return sprintf(__('site %d', 'closte-native'), (int) $arg(0));
			case 'record':
				/* translators: %d: site id */
				return sprintf(__('domain record of site %d', 'closte-native'), (int) $arg(0));
			case 'filter':
				return __('filter closte_native_sync_domains', 'closte-native');
			case 'custom':
				return (string) $arg(0);
			case 'subdomain':
				return __('a site\'s subdomain, served through a wildcard alias (the filter closte_native_sync_subdomains is off): kept, not added', 'closte-native');

			// Removals.
			case 'owned_unused':
				/* translators: 1: site id, 2: date */
				return sprintf(__('added by this plugin for site %1$d on %2$s; nothing on the network uses it or its www./bare form', 'closte-native'), (int) $arg(0), (string) $arg(1));
			case 'unowned_unused':
				return __('not added by this plugin: left alone. Nothing on the network uses it; it was on Closte before, or added by hand or by other software. It is removed only when named one by one.', 'closte-native');

			// Kept.
			case 'wildcard':
				return __('wildcard alias: never removed by a sync', 'closte-native');
			case 'protected':
				return __('the network\'s own domain, its www. form, or protected by the filter closte_native_protected_aliases', 'closte-native');
			case 'twin':
				$used = (string) $arg(0);
				return str_starts_with($used, 'www.')
					/* translators: %s: the www. name in use */
					? sprintf(__('bare form of %s, served by Ultimate Multisite', 'closte-native'), $used)
					/* translators: %s: the name in use */
					: sprintf(__('www form of %s, served by Ultimate Multisite', 'closte-native'), $used);
			case 'now_used':
				/* translators: %s: what uses it, e.g. "site 8" */
				return sprintf(__('confirmed, but kept: now used by %s', 'closte-native'), (string) $arg(0));
			case 'no_longer_owned':
				return __('confirmed, but kept: this plugin no longer holds an ownership record of it (it was removed or re-added meanwhile)', 'closte-native');
			case 'list_incomplete':
				/* translators: %s: what is missing */
				return sprintf(__('confirmed, but kept: the network\'s list could not be read completely just before the removal (%s)', 'closte-native'), (string) $arg(0));

			// Skipped.
			case 'invalid_name':
				/* translators: 1: where the name comes from, 2: why it is invalid */
				return sprintf(__('cannot be compared with Closte\'s aliases (%1$s): %2$s', 'closte-native'), (string) $arg(0), (string) $arg(1));
			case 'not_host':
				return __('not a host name this integration can act on', 'closte-native');
			case 'not_confirmed':
				return __('not removed: it was not in the confirmed preview', 'closte-native');

			// What is missing from the network's list (each blocks removals).
			case 'sites_unreadable':
				/* translators: %s: database error */
				return sprintf(__('the list of sites could not be read from the database (%s)', 'closte-native'), (string) $arg(0));
			case 'um_missing':
				return __('Ultimate Multisite is not loaded, so its mapped domains are unknown', 'closte-native');
			case 'records_failed':
				/* translators: %s: error message */
				return sprintf(__('reading Ultimate Multisite\'s mapped domains failed: %s', 'closte-native'), (string) $arg(0));
			case 'networks_unreadable':
				/* translators: %s: database error */
				return sprintf(__('the network\'s own domains (wp_site) could not be read, so its protected names are unknown (%s)', 'closte-native'), (string) $arg(0));
			case 'invalid_names':
				/* translators: 1: how many, 2: up to five of them */
				return sprintf(__('%1$d of the network\'s names cannot be normalised, so they cannot be compared with Closte\'s aliases (%2$s); correct them, or leave them out with the filter closte_native_sync_domains', 'closte-native'), (int) $arg(0), (string) $arg(1));
			case 'empty':
				return __('the list of the network\'s domains is empty', 'closte-native');
		}

		return (string) ($reason['code'] ?? '');
	}

	/**
	 * Several reasons in one line.
	 *
	 * @param list<array|string> $reasons
	 */
	public static function join(array $reasons): string {

		return implode('; ', array_map([self::class, 'text'], $reasons));
	}
}
