<?php
/**
 * The Closte host integration for Ultimate Multisite, backed by the `closte` extension.
 *
 * Loaded only when Ultimate Multisite's Base_Host_Provider exists (on
 * wp_ultimo_host_providers_load), so this file may name its classes freely.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

use WP_Ultimo\Integrations\Host_Providers\Base_Host_Provider;

defined('ABSPATH') || exit;

/**
 * Same id, title, supports and constants as the stock Closte integration, so the operator's
 * enable switch (wu_host_integrations_enabled['closte']) and the wizard keep working.
 *
 * Subdomain networks: Closte serves a host only when it is the app's domain or one of its
 * aliases. A site created at shop.network.com therefore needs the alias shop.network.com (or a
 * wildcard alias *.network.com added once by the operator). on_add_subdomain adds it; because
 * Ultimate Multisite also creates a domain record of the same name (which fires wu_add_domain),
 * whichever of the two hooks runs second is skipped. With a wildcard alias in place, return
 * false from the filter `closte_native_sync_subdomains` to skip per-site aliases.
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

	/**
	 * @param string     $domain  The domain being mapped.
	 * @param int|string $site_id The site receiving it (WordPress passes ids as strings).
	 */
	public function on_add_domain($domain, $site_id) {

		Dispatcher::add((string) $domain, (int) $site_id, 'wu_add_domain');
	}

	/**
	 * @param string     $domain  The domain being unmapped.
	 * @param int|string $site_id The site it belonged to.
	 */
	public function on_remove_domain($domain, $site_id) {

		Dispatcher::remove((string) $domain, (int) $site_id, 'wu_remove_domain');
	}

	/**
	 * @param string     $subdomain The new site's host name.
	 * @param int|string $site_id   The new site.
	 */
	public function on_add_subdomain($subdomain, $site_id) {

		if ($this->syncs_subdomains()) {
			Dispatcher::add((string) $subdomain, (int) $site_id, 'wu_add_subdomain');
		}
	}

	/**
	 * @param string     $subdomain The deleted site's host name.
	 * @param int|string $site_id   The deleted site.
	 */
	public function on_remove_subdomain($subdomain, $site_id) {

		if ($this->syncs_subdomains()) {
			Dispatcher::remove((string) $subdomain, (int) $site_id, 'wu_remove_subdomain');
		}
	}

	private function syncs_subdomains(): bool {

		return (bool) apply_filters('closte_native_sync_subdomains', true);
	}

	/**
	 * Closte is slow to issue certificates: give the SSL stage of Ultimate Multisite's domain
	 * check more tries, as the stock integration does.
	 */
	public function additional_hooks() {

		add_filter('wu_async_process_domain_stage_max_tries', [$this, 'ssl_stage_max_tries'], 10, 2);
	}

	/**
	 * @param int    $max_tries The tries Ultimate Multisite allows.
	 * @param object $domain    The domain record being checked.
	 */
	public function ssl_stage_max_tries($max_tries, $domain = null) {

		$stage = is_object($domain) && method_exists($domain, 'get_stage') ? $domain->get_stage() : '';

		return 'checking-ssl-cert' === $stage ? max(20, (int) $max_tries) : $max_tries;
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

		return __('Closte is managed WordPress hosting on Google Cloud. Mapped domains become aliases of your Closte app and get a Let\'s Encrypt certificate, through the native closte extension (fast, retried, logged).', 'closte-native');
	}

	/**
	 * @return string
	 */
	public function get_logo() {

		return function_exists('wu_get_asset') ? wu_get_asset('closte.svg', 'img/hosts') : '';
	}
}
