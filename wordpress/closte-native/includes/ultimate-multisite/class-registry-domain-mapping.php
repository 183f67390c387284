<?php
/**
 * Ultimate Multisite 2.5 and later: the `domain-mapping` capability module of the `closte`
 * integration.
 *
 * Loaded only inside the registry's `wu_register_capabilities` action, so this file may name
 * Ultimate Multisite's classes freely.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

use WP_Ultimo\Integrations\Base_Capability_Module;
use WP_Ultimo\Integrations\Capabilities\Domain_Mapping_Capability;

defined('ABSPATH') || exit;

/**
 * Added under the same integration id and capability id as the stock Closte_Domain_Mapping,
 * which it replaces (the stock module would insist on the stock integration as its parent).
 * The registry calls register_hooks() only when the integration is enabled and set up; the
 * methods translate to Domain_Hooks, like the 2.4 provider does.
 */
class Registry_Domain_Mapping extends Base_Capability_Module implements Domain_Mapping_Capability {

	/** @var string[] */
	protected array $supported_features = ['autossl'];

	public function get_capability_id(): string {

		return 'domain-mapping';
	}

	public function get_title(): string {

		return __('Domain Mapping', 'closte-native');
	}

	/**
	 * What the wizard says the integration will and will not do.
	 */
	public function get_explainer_lines(): array {

		return [
			'will'     => [
				__('Add every domain mapped on this network as an alias of your Closte app, and remove it when it is unmapped, if this integration added it and nothing else uses it or its www./bare form', 'closte-native'),
				__('Request the Let\'s Encrypt certificate on Closte after the alias is added, and follow it in the SSL log', 'closte-native'),
				__('Retry in the background what failed for a reason that may pass (rate limit, Closte server error, timeout, network)', 'closte-native'),
			],
			'will_not' => [
				__('Remove an alias this integration did not add (unless you name it yourself in Closte Sync), or one that a site, another domain or the network still uses, in either its bare or its www. form', 'closte-native'),
				__('Change your DNS: point each domain at the Closte app yourself', 'closte-native'),
			],
		];
	}

	public function register_hooks(): void {

		foreach (Domain_Hooks::HOOKS as $hook => $method) {
			add_action($hook, [$this, $method], 10, 2);
		}
		add_filter(Domain_Hooks::MAX_TRIES_FILTER, [$this, 'ssl_tries'], 10, 2);
		add_action(Domain_Hooks::DNS_READY_HOOK, [$this, 'on_dns_propagation_finished']);
	}

	/**
	 * @param object $domain The domain model whose DNS stage passed.
	 */
	public function on_dns_propagation_finished($domain): void {

		Domain_Hooks::on_dns_propagation_finished($domain);
	}

	public function on_add_domain(string $domain, int $site_id): void {

		Domain_Hooks::on_add_domain($domain, $site_id);
	}

	public function on_remove_domain(string $domain, int $site_id): void {

		Domain_Hooks::on_remove_domain($domain, $site_id);
	}

	public function on_add_subdomain(string $subdomain, int $site_id): void {

		Domain_Hooks::on_add_subdomain($subdomain, $site_id);
	}

	public function on_remove_subdomain(string $subdomain, int $site_id): void {

		Domain_Hooks::on_remove_subdomain($subdomain, $site_id);
	}

	/**
	 * @param int    $max_tries The tries Ultimate Multisite allows.
	 * @param object $domain    The domain record being checked.
	 * @return int
	 */
	public function ssl_tries($max_tries, $domain) {

		return Domain_Hooks::ssl_stage_max_tries($max_tries, $domain);
	}

	/**
	 * @return true|\WP_Error
	 */
	public function test_connection() {

		return $this->get_integration()->test_connection();
	}
}
