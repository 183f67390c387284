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
 */
final class Plugin {

	/** The stock 2.4 integration this plugin replaces. */
	const STOCK_CLASS = 'WP_Ultimo\\Integrations\\Host_Providers\\Closte_Host_Provider';

	/** Present from Ultimate Multisite 2.5 on. */
	const REGISTRY_CLASS = 'WP_Ultimo\\Integrations\\Integration_Registry';

	/**
	 * Called once, when the plugin file loads.
	 */
	public static function boot(): void {

		add_action('init', [self::class, 'load_translations'], 1);
		add_action('change_locale', [self::class, 'load_translations']);
		Site_Health::register();
		Cli_Command::register(); // also without an implementation: `wp closte status` says why

		if (null === self::implementation()) {
			add_action('network_admin_notices', [self::class, 'missing_extension_notice']);
			add_action('admin_post_' . self::DISMISS_ACTION, [self::class, 'dismiss_notice']);
			return;
		}

		// Queued jobs (retries, certificate checks, sync) and Ultimate Multisite's synchronous
		// rename hook run whether or not Ultimate Multisite loaded its integrations in that
		// request, so a job scheduled before a restart is never dropped.
		Alias_Changes::register();
		Retry_Queue::register();
		Certificate_Watch::register();
		Sync_Service::register();
		Sync_Page::register();
		Connection_Test::register();

		add_action('wu_register_integrations', [self::class, 'register_registry_integration']);
		add_action('wu_register_capabilities', [self::class, 'register_registry_module'], 20);
		add_action('wp_ultimo_host_providers_load', [self::class, 'register_legacy_provider']);
	}

	/**
	 * Which closte implementation answers: 'extension', 'php' (compat/, loaded when the
	 * extension is not), or null when neither is usable (no extension and no curl).
	 */
	public static function implementation(): ?string {

		if (! function_exists('closte_add_domain') || ! function_exists('closte_normalize_domain')) {
			return null;
		}

		return extension_loaded('closte') ? 'extension' : 'php';
	}

	/**
	 * True when the operator enabled the Closte integration in Ultimate Multisite (the switch
	 * both generations keep in the network option wu_host_integrations_enabled). While it is
	 * off, Ultimate Multisite sends no domain event, and our own handlers (renames, retries,
	 * certificate checks) schedule nothing either.
	 */
	public static function integration_enabled(): bool {

		$enabled = get_network_option(null, 'wu_host_integrations_enabled', []);

		return is_array($enabled) && ! empty($enabled['closte']);
	}

	/**
	 * Hands a key held only by Ultimate Multisite's credential store to the implementation, for
	 * this request: an INI setting of the extension, the equivalent setting of the PHP one.
	 *
	 * @param string $key The API key.
	 */
	public static function use_api_key(string $key): void {

		if ('extension' === self::implementation()) {
			ini_set('closte.api_key', $key); // phpcs:ignore WordPress.PHP.IniSet -- the extension's own setting, for this request
		} elseif ('php' === self::implementation()) {
			\Closte\Compat\Settings::set('closte.api_key', $key);
		}
	}

	/**
	 * One line for the operator: which implementation runs, and what the extension would add.
	 */
	public static function implementation_note(): string {

		switch (self::implementation()) {
			case 'extension':
				return __('Runs on the native closte PHP extension.', 'closte-native');
			case 'php':
				return __('Runs on the built-in PHP implementation (same behaviour). The closte PHP extension would add work that goes on between requests, connections kept across requests and faster bulk syncs.', 'closte-native');
			default:
				return __('Inactive: neither the closte PHP extension nor PHP\'s curl extension is loaded.', 'closte-native');
		}
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

		if (class_exists(self::REGISTRY_CLASS) || ! class_exists('WP_Ultimo\\Integrations\\Host_Providers\\Base_Host_Provider')) {
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

		if (! class_exists(self::STOCK_CLASS, false)) {
			return;
		}

		$stock = call_user_func([self::STOCK_CLASS, 'get_instance']);

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

	/** admin-post action that dismisses the missing-extension notice for the current user. */
	const DISMISS_ACTION = 'closte_native_dismiss_notice';

	/** User meta: the plugin version whose notice the user dismissed. */
	const DISMISSED_META = 'closte_native_notice_dismissed';

	/**
	 * Translations from this plugin's languages/ folder, wherever the plugin is installed
	 * (plugins/ or mu-plugins/), for the current locale.
	 */
	public static function load_translations(): void {

		unload_textdomain('closte-native');
		load_textdomain('closte-native', CLOSTE_NATIVE_DIR . '/languages/closte-native-' . determine_locale() . '.mo');
	}

	/**
	 * Which integration handles domains while the extension is missing, in the operator's words.
	 */
	public static function who_handles_domains(): string {

		if (! class_exists('WP_Ultimo\\Integrations\\Host_Providers\\Base_Host_Provider') && ! class_exists('WP_Ultimo\\Integrations\\Integration')) {
			return __('Ultimate Multisite is not active, so no integration maps domains on Closte.', 'closte-native');
		}
		$enabled = get_network_option(null, 'wu_host_integrations_enabled', []);
		if (is_array($enabled) && ! empty($enabled['closte'])) {
			return __('Ultimate Multisite\'s built-in Closte integration handles mapped domains, as before (without retries, and probing the SSL endpoint on every domain).', 'closte-native');
		}

		return __('No Closte integration is enabled in Ultimate Multisite, so mapped domains are not sent to Closte.', 'closte-native');
	}

	/**
	 * Network admin notice shown when the extension is missing: accurate (the stock integration
	 * may well be handling domains), actionable on managed hosting, and dismissible per user.
	 * Its X (WordPress's `is-dismissible`) only hides it on the page, so a small script makes the
	 * X also post the dismissal the link makes: whoever closes the notice does not see it again
	 * on the next page. The link stays for browsers without JavaScript.
	 */
	public static function missing_extension_notice(): void {

		if (! current_user_can('manage_network_options')) {
			return;
		}
		if (CLOSTE_NATIVE_VERSION === get_user_meta(get_current_user_id(), self::DISMISSED_META, true)) {
			return;
		}

		$nonce   = wp_create_nonce(self::DISMISS_ACTION);
		$dismiss = add_query_arg(['action' => self::DISMISS_ACTION, '_wpnonce' => $nonce], admin_url('admin-post.php'));
		printf(
			'<div class="notice notice-warning is-dismissible closte-native-missing-extension"><p><strong>%s</strong> %s %s</p><p>%s</p><p><a href="%s">%s</a></p></div>',
			esc_html__('Closte Native is inactive:', 'closte-native'),
			esc_html__('neither the "closte" PHP extension nor PHP\'s curl extension (which its built-in PHP implementation needs) is loaded on this server.', 'closte-native'),
			esc_html(self::who_handles_domains()),
			esc_html__('On Closte hosting, ask Closte support to enable the "closte" or the "curl" PHP extension for your app. On a server you manage, install either (see the plugin\'s README) and restart PHP. "php --ri closte" or "php --ri curl" confirms it is loaded.', 'closte-native'),
			esc_url($dismiss),
			esc_html__('Do not show this again', 'closte-native')
		);
		// The X is added by WordPress's common.js after the page loads: listen on the document.
		wp_print_inline_script_tag(
			sprintf(
				'document.addEventListener("click",function(e){if(!e.target.closest(".closte-native-missing-extension .notice-dismiss")){return;}var f=new FormData(),d=%s;Object.keys(d).forEach(function(k){f.append(k,d[k]);});fetch(%s,{method:"POST",body:f,credentials:"same-origin",redirect:"manual"});});',
				wp_json_encode(['action' => self::DISMISS_ACTION, '_wpnonce' => $nonce]),
				wp_json_encode(admin_url('admin-post.php'))
			)
		);
	}

	public static function dismiss_notice(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::DISMISS_ACTION);
		update_user_meta(get_current_user_id(), self::DISMISSED_META, CLOSTE_NATIVE_VERSION);
		wp_safe_redirect(wp_get_referer() ? wp_get_referer() : network_admin_url());
		exit;
	}
}
