<?php
/**
 * Which closte implementation answers: the extension, the PHP implementation in compat/, or none.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The extension when it is loaded (the fast path), otherwise the PHP implementation that
 * compat/bootstrap.php loads (it needs curl); with neither, the plugin only explains itself.
 */
final class Implementation {

	/**
	 * Which closte implementation answers: 'extension', 'php' (compat/, loaded when the
	 * extension is not), or null when neither is usable (no extension and no curl).
	 */
	public static function current(): ?string {

		if (! function_exists('closte_add_domain') || ! function_exists('closte_normalize_domain')) {
			return null;
		}

		return extension_loaded('closte') ? 'extension' : 'php';
	}

	/**
	 * Hands a key held only by Ultimate Multisite's credential store to the implementation, for
	 * this request: an INI setting of the extension, the equivalent setting of the PHP one.
	 *
	 * @param string $key The API key.
	 */
	public static function use_api_key(string $key): void {

		if ('extension' === self::current()) {
			ini_set('closte.api_key', $key); // phpcs:ignore WordPress.PHP.IniSet -- the extension's own setting, for this request
		} elseif ('php' === self::current()) {
			\Closte\Compat\Settings::set('closte.api_key', $key);
		}
	}

	/**
	 * closte.concurrency as the implementation applies it (at least 1; the default 8): the
	 * extension's INI entry, or the PHP implementation's setting (which has no INI entry:
	 * Settings::set(), then php.ini). For callers that size their own slices of jobs by it.
	 */
	public static function concurrency(): int {

		if ('extension' === self::current()) {
			$value = ini_get('closte.concurrency');
		} elseif ('php' === self::current()) {
			$value = \Closte\Compat\Settings::raw('closte.concurrency');
		} else {
			$value = false;
		}

		return max(1, (int) ($value ?: 8));
	}

	/**
	 * One line for the operator: which implementation runs, and what the extension would add.
	 */
	public static function note(): string {

		switch (self::current()) {
			case 'extension':
				return __('Runs on the native closte PHP extension.', 'closte-native');
			case 'php':
				return __('Runs on the built-in PHP implementation (same behaviour). The closte PHP extension would add work that goes on between requests, connections kept across requests and faster bulk syncs.', 'closte-native');
			default:
				return __('Inactive: neither the closte PHP extension nor PHP\'s curl extension is loaded.', 'closte-native');
		}
	}
}
