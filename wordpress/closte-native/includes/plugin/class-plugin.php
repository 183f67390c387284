<?php
/**
 * Wiring: which hooks exist depends on whether the extension and Ultimate Multisite are there.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Registers the integration with whichever generation of Ultimate Multisite is there, on
 * whichever closte implementation is there (the extension, or the PHP implementation in
 * compat/, which needs curl), or, with neither, only an admin notice: the plugin never fatals
 * and never half-works.
 *
 * - 2.5 and later (an integration registry exists): our Registry_Integration is registered as
 *   `closte` on `wu_register_integrations` and our Registry_Domain_Mapping as its
 *   `domain-mapping` module on `wu_register_capabilities` (priority 20, after the core ones),
 *   replacing both stock objects; the legacy provider is not registered at all.
 * - 2.4.x (no registry): our Host_Provider on `wp_ultimo_host_providers_load`, with every
 *   callback of the stock Closte_Host_Provider detached.
 * The classes that extend Ultimate Multisite's are first named, and so autoloaded, only inside
 * those hooks (this plugin loads before Ultimate Multisite: plugins load in name order).
 *
 * Plugin is wiring only and nothing calls it. Calls go one way, down this list, never back
 * (no two classes call each other; checked with grep on `Name::` and `new Name`):
 * - Plugin -> adapters (Host_Provider, Registry_Integration, Registry_Domain_Mapping), admin
 *   screens (Site_Health, Sync_Page, Domains_Page, Connection_Test, Missing_Implementation_Notice,
 *   Domain_Screens),
 *   Cli_Command, and the registrations of Alias_Changes, Www_Twin, Certificate_Watch,
 *   Certificate_Lifecycle, Certificate_Notice, Sync_Service;
 * - adapters -> Domain_Hooks, Connection_Test, Implementation; Domain_Hooks -> Alias_Queue ->
 *   Alias_Changes;
 * - Cli_Command, Sync_Page, Site_Health -> Status_Report, Domain_Report, Sync_Service;
 * - Status_Report -> Alias_Changes, Certificate_Lifecycle, Sync_State (their hooks and state);
 * - Alias_Changes -> Change_Intents, Retry_Policy, Certificate_Lifecycle, Alias_Registry; it
 *   fires closte_native_alias_added/removed, which Www_Twin (-> Alias_Changes, Alias_Queue) and
 *   Certificate_Watch listen to;
 * - Domain_Screens -> Domain_Status, Domains_Page (its URLs and actions), Sync_Page::url;
 * - Certificate_Notice, Site_Health -> Certificate_Watch (findings) -> Certificate_Lifecycle;
 *   Certificate_Notice -> Certificate_Lifecycle::retry_now;
 * - Sync_Service -> Sync_Plan, Sync_State; Sync_Plan -> Alias_Registry, Network_Domains;
 * - Alias_Registry, Change_Intents -> Network_Domains -> Sync_Messages -> Logger;
 * - leaves: Implementation, Ultimate_Multisite, Background_Jobs, Retry_Policy, Logger.
 */
final class Plugin {

	/**
	 * Called once, when the plugin file loads.
	 */
	public static function boot(): void {

		add_action('init', [self::class, 'load_translations'], 1);
		add_action('change_locale', [self::class, 'load_translations']);
		Site_Health::register();
		Cli_Command::register(); // also without an implementation: `wp closte status` says why

		if (null === Implementation::current()) {
			add_action('network_admin_notices', [Missing_Implementation_Notice::class, 'render']);
			add_action('admin_post_' . Missing_Implementation_Notice::DISMISS_ACTION, [Missing_Implementation_Notice::class, 'dismiss']);
			return;
		}

		// Queued jobs (retries, certificate checks, sync) and Ultimate Multisite's synchronous
		// rename hook run whether or not Ultimate Multisite loaded its integrations in that
		// request, so a job scheduled before a restart is never dropped.
		Alias_Changes::register();
		Alias_Queue::register();
		Www_Twin::register();
		Certificate_Watch::register();
		Certificate_Notice::register();
		Drift_Report::register();
		Certificate_Lifecycle::register();
		Sync_Service::register();
		Sync_Page::register();
		Domains_Page::register();
		Domain_Screens::register(); // the Closte state on Ultimate Multisite's domain list and edit page
		Connection_Test::register();

		add_action('wu_register_integrations', [self::class, 'register_registry_integration']);
		add_action('wu_register_capabilities', [self::class, 'register_registry_module'], 20);
		add_action('wp_ultimo_host_providers_load', [self::class, 'register_legacy_provider']);
	}

	/**
	 * Ultimate Multisite 2.5+: our integration object under the id `closte`.
	 *
	 * @param object $registry The Integration_Registry.
	 */
	public static function register_registry_integration($registry): void {

		$registry->register(new Registry_Integration());
	}

	/**
	 * Ultimate Multisite 2.5+: our domain-mapping module for `closte` (after the core module,
	 * which it overwrites: same integration id, same capability id).
	 *
	 * @param object $registry The Integration_Registry.
	 */
	public static function register_registry_module($registry): void {

		$registry->add_capability('closte', new Registry_Domain_Mapping());
	}

	/**
	 * Ultimate Multisite 2.4.x: our host provider, taking the stock integration's place. Not on
	 * 2.5+, where a legacy provider would run beside the registry module (every domain twice).
	 */
	public static function register_legacy_provider(): void {

		if ('2.4' !== Ultimate_Multisite::generation()) {
			return;
		}

		self::detach_stock_integration();

		Host_Provider::get_instance();
	}

	/**
	 * The stock class registered itself before us (same id, 'closte'), and, when the operator
	 * enabled Closte, hooked the domain events. Unhook every callback of its instance so that
	 * exactly one Closte integration answers each hook. Our self_register runs later on the
	 * integrations filter, so the id 'closte' (wizard, test connection) now maps to our class.
	 */
	private static function detach_stock_integration(): void {

		if (! class_exists(Ultimate_Multisite::STOCK_CLASS, false)) {
			return;
		}

		$stock = call_user_func([Ultimate_Multisite::STOCK_CLASS, 'get_instance']);

		foreach (array_keys(Domain_Hooks::HOOKS) as $hook) {
			self::remove_object_callbacks($hook, $stock);
		}

		self::remove_object_callbacks(Domain_Hooks::MAX_TRIES_FILTER, $stock);
	}

	/**
	 * Removes every callback of $instance from $hook, whatever its method and priority.
	 *
	 * @param string $hook     Action or filter name.
	 * @param object $instance The object whose callbacks go.
	 */
	private static function remove_object_callbacks(string $hook, $instance): void {

		global $wp_filter;

		if (! isset($wp_filter[ $hook ])) {
			return;
		}

		foreach ($wp_filter[ $hook ]->callbacks as $priority => $callbacks) {
			foreach ($callbacks as $callback) {
				$function = $callback['function'];
				if (is_array($function) && $function[0] === $instance) {
					remove_action($hook, $function, $priority);
				}
			}
		}
	}

	/**
	 * Translations from this plugin's languages/ folder, wherever the plugin is installed
	 * (plugins/ or mu-plugins/), for the current locale.
	 */
	public static function load_translations(): void {

		unload_textdomain('closte-native');
		load_textdomain('closte-native', CLOSTE_NATIVE_DIR . '/languages/closte-native-' . determine_locale() . '.mo');
	}
}
