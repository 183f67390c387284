<?php
/**
 * What an operator asks first: which implementation runs, whether the key is there, what is
 * waiting in the queue, what the last sync did. Plain values, no request to Closte; the WP-CLI
 * command `wp closte status` and tests read it.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The plugin's state as one array.
 */
final class Status_Report {

	/** The plugin's queued hooks, each a kind of waiting work. */
	const QUEUED_HOOKS = [
		'retries'            => Alias_Changes::RETRY_HOOK,
		'certificate_checks' => Certificate_Lifecycle::VERIFY_HOOK,
		'sync_jobs'          => Sync_State::JOB_HOOK,
	];

	/**
	 * @return array<string, mixed> implementation (extension|php|null), version, key_configured,
	 *         key_source (never the key), api_url, ssl_endpoint, owned_aliases, queued (by kind),
	 *         sync (status of the current or last sync).
	 */
	public static function collect(): array {

		$implementation = Implementation::current();
		$stats          = null !== $implementation ? closte_stats() : [];
		$queued         = [];
		foreach (self::QUEUED_HOOKS as $kind => $hook) {
			$queued[ $kind ] = Background_Jobs::pending($hook);
		}
		$sync = Sync_State::get();

		return [
			'implementation' => $implementation,
			'version'        => null !== $implementation ? closte_version() : null,
			'plugin_version' => CLOSTE_NATIVE_VERSION,
			'key_configured' => null !== $implementation && closte_detect(),
			'key_source'     => (string) ($stats['key_source'] ?? 'none'),
			'api_url'        => (string) ($stats['api_url'] ?? ''),
			'ssl_endpoint'   => $stats['ssl_endpoint'] ?? null,
			'owned_aliases'  => count(Alias_Registry::all()),
			'queued'         => $queued,
			'sync'           => (string) $sync['status'],
		];
	}
}
