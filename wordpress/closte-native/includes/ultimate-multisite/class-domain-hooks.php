<?php
/**
 * What the Closte integration does when Ultimate Multisite fires its domain hooks, whichever
 * generation of Ultimate Multisite calls it (2.4's host provider or 2.5+'s capability module).
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The adapters only translate calls to these methods; nothing here extends an Ultimate
 * Multisite class. Each domain event becomes a change in Alias_Queue, which sends the changes
 * due together (one drain job) instead of one blocking request per event.
 *
 * Subdomain networks: Closte serves a host only when it is the app's domain or one of its
 * aliases. A site created at shop.network.com therefore needs the alias shop.network.com (or a
 * wildcard alias *.network.com added once by the operator). on_add_subdomain adds it; because
 * Ultimate Multisite also creates a domain record of the same name (which fires wu_add_domain),
 * whichever of the two hooks runs second is skipped. With a wildcard alias in place, return
 * false from the filter `closte_native_sync_subdomains` to skip per-site aliases.
 */
final class Domain_Hooks {

	/** The hooks through which Ultimate Multisite talks to a host integration => our method. */
	const HOOKS = [
		'wu_add_domain'       => 'on_add_domain',
		'wu_remove_domain'    => 'on_remove_domain',
		'wu_add_subdomain'    => 'on_add_subdomain',
		'wu_remove_subdomain' => 'on_remove_subdomain',
	];

	/**
	 * Ultimate Multisite's action when a domain record's DNS stage passes (Domain_Manager, 2.4.10
	 * and 2.5+), with the domain model: the moment to request its certificate.
	 */
	const DNS_READY_HOOK = 'wu_domain_manager_dns_propagation_finished';

	/** The filter through which the SSL stage of Ultimate Multisite's domain check gets more tries. */
	const MAX_TRIES_FILTER = 'wu_async_process_domain_stage_max_tries';

	/**
	 * @param mixed $domain  The domain being mapped.
	 * @param mixed $site_id The site receiving it (Action Scheduler passes ids as strings).
	 */
	public static function on_add_domain($domain, $site_id): void {

		Alias_Queue::submit('add', (string) $domain, (int) $site_id, 'wu_add_domain');
	}

	public static function on_remove_domain($domain, $site_id): void {

		Alias_Queue::submit('remove', (string) $domain, (int) $site_id, 'wu_remove_domain');
	}

	public static function on_add_subdomain($subdomain, $site_id): void {

		if (self::syncs_subdomains()) {
			Alias_Queue::submit('add', (string) $subdomain, (int) $site_id, 'wu_add_subdomain');
		}
	}

	public static function on_remove_subdomain($subdomain, $site_id): void {

		if (self::syncs_subdomains()) {
			Alias_Queue::submit('remove', (string) $subdomain, (int) $site_id, 'wu_remove_subdomain');
		}
	}

	/**
	 * @param mixed $domain The domain model whose DNS Ultimate Multisite found pointing here.
	 */
	public static function on_dns_propagation_finished($domain): void {

		Certificate_Lifecycle::on_dns_propagation_finished($domain);
	}

	private static function syncs_subdomains(): bool {

		return (bool) apply_filters('closte_native_sync_subdomains', true);
	}

	/**
	 * Closte is slow to issue certificates: the SSL stage of Ultimate Multisite's domain check
	 * gets 20 tries, as the stock integration gives it.
	 *
	 * @param int    $max_tries The tries Ultimate Multisite allows.
	 * @param object $domain    The domain record being checked.
	 */
	public static function ssl_stage_max_tries($max_tries, $domain = null) {

		$stage = is_object($domain) && method_exists($domain, 'get_stage') ? $domain->get_stage() : '';

		return 'checking-ssl-cert' === $stage ? max(20, (int) $max_tries) : $max_tries;
	}

	/** The integration's description, shared by both generations. */
	public static function description(): string {

		return __('Closte is managed WordPress hosting on Google Cloud. Mapped domains become aliases of your Closte app and get a Let\'s Encrypt certificate (fast, retried, logged).', 'closte-native') . ' ' . Implementation::note();
	}

	/** Ultimate Multisite's Closte logo. */
	public static function logo(): string {

		return function_exists('wu_get_asset') ? (string) wu_get_asset('closte.svg', 'img/hosts') : '';
	}
}
