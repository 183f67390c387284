<?php
/**
 * The wizard's "test connection": who may run it, and what it answers.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Ultimate Multisite's AJAX handler (wu_test_hosting_integration) checks neither capability nor
 * nonce, and its wizard sends no nonce. We check both ourselves: only a network administrator
 * may run the test, and the request must carry our nonce, which a script on network-admin
 * pages adds to exactly that AJAX action. Closte's text is escaped before it reaches the
 * wizard (which shows the message as HTML) and the key is scrubbed from it.
 */
final class Connection_Test {

	const NONCE_ACTION = 'closte_native_test_connection';
	const NONCE_FIELD  = 'closte_native_nonce';

	public static function register(): void {

		add_action('admin_print_footer_scripts', [self::class, 'print_nonce_script']);
	}

	/**
	 * Adds our nonce to the wizard's test request (jQuery prefilter, network admin only).
	 */
	public static function print_nonce_script(): void {

		if (! is_network_admin() || ! current_user_can('manage_network_options')) {
			return;
		}
		printf(
			'<script id="closte-native-test-nonce">(function ($) { if (!$ || !$.ajaxPrefilter) { return; } var nonce = %s; $.ajaxPrefilter(function (options) { if (typeof options.data === "string" && /(^|&)action=wu_test_hosting_integration(&|$)/.test(options.data)) { options.data += "&%s=" + encodeURIComponent(nonce); } }); })(window.jQuery);</script>',
			wp_json_encode(wp_create_nonce(self::NONCE_ACTION)),
			esc_js(self::NONCE_FIELD)
		);
	}

	/**
	 * Null when the current request may run the test, else why not.
	 */
	public static function refusal(): ?\WP_Error {

		if (! current_user_can('manage_network_options')) {
			return new \WP_Error('closte-forbidden', __('Only network administrators may test the Closte connection.', 'closte-native'), ['status' => 403]);
		}
		$nonce = isset($_REQUEST[ self::NONCE_FIELD ]) ? sanitize_text_field(wp_unslash($_REQUEST[ self::NONCE_FIELD ])) : '';
		if (! wp_verify_nonce($nonce, self::NONCE_ACTION)) {
			return new \WP_Error('closte-bad-nonce', __('The connection test request is missing its security token. Reload the wizard page and test again.', 'closte-native'), ['status' => 403]);
		}

		return null;
	}

	/**
	 * Runs the test. Success: ['elapsed_ms' => float]; failure: a WP_Error whose message says
	 * what to do, key-scrubbed and HTML-escaped.
	 *
	 * @return array|\WP_Error
	 */
	public static function run() {

		try {
			$result = closte_test_connection();
		} catch (\Closte\ConfigurationException $e) {
			return new \WP_Error('closte-not-configured', esc_html(Logger::redact($e->getMessage())));
		}

		Logger::log(Logger::describe($result, 'test connection'), $result['ok'] ? 'info' : 'warning');

		if ($result['ok']) {
			return ['elapsed_ms' => (float) $result['elapsed_ms']];
		}

		$closte_says = esc_html(Logger::redact((string) $result['error']));
		switch ($result['error_kind']) {
			case 'auth':
				$code    = 'closte-auth';
				$message = sprintf(
					/* translators: %s: Closte's error text */
					__('Closte rejected the API key (CLOSTE_CLIENT_API_KEY in wp-config.php): "%s". Copy the key from your Closte dashboard again.', 'closte-native'),
					$closte_says
				);
				break;
			case 'network':
			case 'timeout':
				$code    = 'closte-unreachable';
				$message = sprintf(
					/* translators: 1: error kind, 2: error text */
					__('Could not reach the Closte API (%1$s): %2$s. Check the server\'s outbound HTTPS access; Closte was not asked anything.', 'closte-native'),
					$result['error_kind'],
					$closte_says
				);
				break;
			case 'tls':
				$code    = 'closte-tls';
				$message = sprintf(
					/* translators: %s: the TLS error */
					__('The Closte API\'s certificate could not be verified: %s. Check the server\'s clock and CA certificates (or closte.ca_file); Closte was not asked anything.', 'closte-native'),
					$closte_says
				);
				break;
			default:
				$code    = 'closte-error';
				$message = sprintf(
					/* translators: 1: HTTP status, 2: error kind, 3: error text */
					__('Closte answered HTTP %1$d (%2$s): %3$s', 'closte-native'),
					$result['status'],
					(string) $result['error_kind'],
					$closte_says
				);
		}

		return new \WP_Error($code, $message, ['error_kind' => $result['error_kind'], 'status' => $result['status'], 'retryable' => (bool) $result['retryable']]);
	}
}
