<?php
/**
 * The network admin notice shown when no closte implementation runs.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Shown when neither the extension nor curl is loaded, so the plugin does nothing: says who
 * handles domains meanwhile and how to fix it; each user can dismiss it for this version.
 */
final class Missing_Implementation_Notice {

	/** admin-post action that dismisses the missing-extension notice for the current user. */
	const DISMISS_ACTION = 'closte_native_dismiss_notice';

	/** User meta: the plugin version whose notice the user dismissed. */
	const DISMISSED_META = 'closte_native_notice_dismissed';

	/**
	 * Which integration handles domains while the extension is missing, in the operator's words.
	 */
	public static function who_handles_domains(): string {

		if (! Ultimate_Multisite::is_active()) {
			return __('Ultimate Multisite is not active, so no integration maps domains on Closte.', 'closte-native');
		}
		if (Ultimate_Multisite::integration_enabled()) {
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
	public static function render(): void {

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

	public static function dismiss(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::DISMISS_ACTION);
		update_user_meta(get_current_user_id(), self::DISMISSED_META, CLOSTE_NATIVE_VERSION);
		wp_safe_redirect(wp_get_referer() ? wp_get_referer() : network_admin_url());
		exit;
	}
}
