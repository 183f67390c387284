<?php
/**
 * The Closte host integration for Ultimate Multisite, backed by the `closte` extension.
 *
 * Loaded only on Ultimate Multisite 2.4.x, when its Base_Host_Provider exists (on
 * wp_ultimo_host_providers_load), so this file may name its classes freely.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

use WP_Ultimo\Integrations\Host_Providers\Base_Host_Provider;

defined('ABSPATH') || exit;

/**
 * Ultimate Multisite 2.4.x: a host provider with the stock integration's id, title, supports
 * and constants, so the operator's enable switch (wu_host_integrations_enabled['closte']) and the
 * wizard keep working. It only translates calls to Domain_Hooks and Connection_Test.
 */
class Host_Provider extends Base_Host_Provider {

	use \WP_Ultimo\Traits\Singleton;

	/** @var string */
	protected $id = 'closte';

	/** @var string */
	protected $title = 'Closte';

	/** @var string */
	protected $tutorial_link = 'https://github.com/superdav42/wp-multisite-waas/wiki/Closte-Integration';

	/** @var array */
	protected $supports = ['autossl', 'no-instructions', 'no-config'];

	/** @var array */
	protected $constants = ['CLOSTE_CLIENT_API_KEY'];

	/**
	 * Closte hosting defines the key in wp-config.php.
	 */
	public function detect() {

		return closte_detect();
	}

	public function on_add_domain($domain, $site_id) {

		Domain_Hooks::on_add_domain($domain, $site_id);
	}

	public function on_remove_domain($domain, $site_id) {

		Domain_Hooks::on_remove_domain($domain, $site_id);
	}

	public function on_add_subdomain($subdomain, $site_id) {

		Domain_Hooks::on_add_subdomain($subdomain, $site_id);
	}

	public function on_remove_subdomain($subdomain, $site_id) {

		Domain_Hooks::on_remove_subdomain($subdomain, $site_id);
	}

	public function additional_hooks() {

		add_filter(Domain_Hooks::MAX_TRIES_FILTER, [$this, 'ssl_stage_max_tries'], 10, 2);
		add_action(Domain_Hooks::DNS_READY_HOOK, [$this, 'on_dns_propagation_finished']);
	}

	/**
	 * @param object $domain The domain model whose DNS stage passed.
	 */
	public function on_dns_propagation_finished($domain) {

		Domain_Hooks::on_dns_propagation_finished($domain);
	}

	/**
	 * @param int    $max_tries The tries Ultimate Multisite allows.
	 * @param object $domain    The domain record being checked.
	 */
	public function ssl_stage_max_tries($max_tries, $domain = null) {

		return Domain_Hooks::ssl_stage_max_tries($max_tries, $domain);
	}

	/**
	 * The wizard's "test connection" (Ultimate Multisite 2.4 sends the JSON through us):
	 * network administrators only, with our nonce; answers with a message an operator can act on.
	 */
	public function test_connection(): void {

		$refusal = Connection_Test::refusal();
		if (null !== $refusal) {
			wp_send_json_error($refusal, 403);
			return;
		}

		$result = Connection_Test::run();
		if (is_wp_error($result)) {
			wp_send_json_error($result);
			return;
		}

		wp_send_json_success(
			[
				'message'    => __('Access Authorized', 'closte-native'),
				'detail'     => sprintf(
					/* translators: %d: milliseconds */
					__('Closte accepted the API key and answered in %d ms.', 'closte-native'),
					(int) round($result['elapsed_ms'])
				),
				'extension'  => closte_version(),
				'elapsed_ms' => $result['elapsed_ms'],
			]
		);
	}

	/**
	 * @return string
	 */
	public function get_description() {

		return Domain_Hooks::description();
	}

	/**
	 * @return string
	 */
	public function get_logo() {

		return Domain_Hooks::logo();
	}
}
