<?php
/**
 * Wiring: which hooks exist depends on whether the extension and Ultimate Multisite are there.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Registers the integration with Ultimate Multisite, or, without the `closte` extension, only an
 * admin notice: the plugin never fatals and never half-works.
 */
final class Plugin {

	/** The stock integration this plugin replaces. */
	const STOCK_CLASS = 'WP_Ultimo\\Integrations\\Host_Providers\\Closte_Host_Provider';

	/** The hooks through which Ultimate Multisite talks to a host integration. */
	const DOMAIN_HOOKS = [
		'wu_add_domain'       => 'on_add_domain',
		'wu_remove_domain'    => 'on_remove_domain',
		'wu_add_subdomain'    => 'on_add_subdomain',
		'wu_remove_subdomain' => 'on_remove_subdomain',
	];

	/**
	 * Called once, when the plugin file loads.
	 */
	public static function boot(): void {

		if (! self::extension_available()) {
			add_action('network_admin_notices', [self::class, 'missing_extension_notice']);
			add_action('admin_notices', [self::class, 'missing_extension_notice']);
			return;
		}

		// Queued jobs (retries, certificate checks) run whether or not Ultimate Multisite is
		// loaded in that request, so a job scheduled before a restart is never dropped.
		Dispatcher::register_job_hooks();
		Sync_Page::register();

		// Ultimate Multisite fires this from Domain_Manager::load_integrations() on
		// plugins_loaded, after it instantiated its own integrations.
		add_action('wp_ultimo_host_providers_load', [self::class, 'register_integration']);
	}

	/**
	 * True when the `closte` extension with the functions this plugin calls is loaded.
	 */
	public static function extension_available(): bool {

		return extension_loaded('closte') && function_exists('closte_add_domain') && function_exists('closte_test_connection');
	}

	/**
	 * Declares our host provider and takes the stock Closte integration's place.
	 */
	public static function register_integration(): void {

		if (! class_exists('WP_Ultimo\\Integrations\\Host_Providers\\Base_Host_Provider')) {
			return;
		}

		self::detach_stock_integration();

		require_once CLOSTE_NATIVE_DIR . '/includes/class-host-provider.php';

		Host_Provider::get_instance();
	}

	/**
	 * The stock class registered itself before us (same id, 'closte'), and, when the operator
	 * enabled Closte, hooked the domain events. Unhook every callback of its instance so that
	 * exactly one Closte integration answers each hook. Our self_register runs later on the
	 * integrations filter, so the id 'closte' (wizard, test connection) now maps to our class.
	 */
	private static function detach_stock_integration(): void {

		if (! class_exists(self::STOCK_CLASS, false)) {
			return;
		}

		$stock = call_user_func([self::STOCK_CLASS, 'get_instance']);

		foreach (array_keys(self::DOMAIN_HOOKS) as $hook) {
			self::remove_object_callbacks($hook, $stock);
		}

		self::remove_object_callbacks('wu_async_process_domain_stage_max_tries', $stock);
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
	 * Network admin notice shown when the extension is missing.
	 */
	public static function missing_extension_notice(): void {

		if (! current_user_can('manage_network_options')) {
			return;
		}

		if ('admin_notices' === current_action() && is_network_admin()) {
			return; // network_admin_notices shows it there.
		}

		printf(
			'<div class="notice notice-error closte-native-missing-extension"><p><strong>%s</strong> %s</p><p>%s</p></div>',
			esc_html__('Closte Native:', 'closte-native'),
			esc_html__('the "closte" PHP extension is not loaded, so domains are not synced with Closte and no certificate is requested.', 'closte-native'),
			esc_html__('Install it with "make install" from the closte source (or copy closte.so into the directory shown by "php-config --extension-dir" and add "extension=closte.so" to PHP\'s configuration), then restart PHP-FPM. "php --ri closte" confirms it is loaded.', 'closte-native')
		);
	}
}
