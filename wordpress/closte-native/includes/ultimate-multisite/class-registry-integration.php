<?php
/**
 * Ultimate Multisite 2.5 and later: the `closte` integration of the integration registry.
 *
 * Loaded only inside the registry's `wu_register_integrations` action, when Ultimate
 * Multisite's Integration class exists, so this file may name its classes freely.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

use WP_Ultimo\Integrations\Integration;

defined('ABSPATH') || exit;

/**
 * Same id, title, logo, tutorial link, supports and constant as the stock
 * Closte_Integration, so the operator's enable switch (wu_host_integrations_enabled['closte'])
 * and the wizard carry over; registering it under the same id replaces the stock object.
 *
 * The key: on Closte it is the constant CLOSTE_CLIENT_API_KEY, which the extension reads. Since
 * 2.5 Ultimate Multisite can also keep credentials in its encrypted store (a network option).
 * The extension cannot read that store, so when the constant is absent and the store holds a
 * key, the key is handed to the extension for the current request through its INI setting
 * `closte.api_key` (PHP_INI_ALL). is_setup() and detect() then say exactly what the extension
 * can use: never a setup that looks complete while no call could authenticate.
 */
class Registry_Integration extends Integration {

	const KEY_CONSTANT = 'CLOSTE_CLIENT_API_KEY';

	public function __construct() {

		parent::__construct('closte', 'Closte');
		$this->set_logo(Domain_Hooks::logo());
		$this->set_tutorial_link('https://ultimatemultisite.com/docs/user-guide/host-integrations/closte');
		$this->set_constants([self::KEY_CONSTANT]);
		$this->set_supports(['autossl', 'no-instructions', 'no-config']);
		$this->use_stored_key();
	}

	/**
	 * Hands a key that only Ultimate Multisite's credential store holds to the closte API.
	 */
	private function use_stored_key(): void {

		if (closte_detect()) {
			return;
		}
		$key = trim($this->get_credential(self::KEY_CONSTANT));
		if ('' !== $key) {
			Implementation::use_api_key($key);
		}
	}

	public function get_description(): string {

		return Domain_Hooks::description();
	}

	public function detect(): bool {

		$this->use_stored_key();

		return closte_detect();
	}

	public function is_setup(): bool {

		return $this->detect();
	}

	/**
	 * @return string[] The constant, when the extension has no key at all.
	 */
	public function get_missing_constants(): array {

		return $this->is_setup() ? [] : [self::KEY_CONSTANT];
	}

	/**
	 * The wizard's test: `true`, or a WP_Error whose message says what to do (key-scrubbed,
	 * HTML-escaped). Network administrators only, with the plugin's nonce.
	 *
	 * @return true|\WP_Error
	 */
	public function test_connection() {

		$refusal = Connection_Test::refusal();
		if (null !== $refusal) {
			return $refusal;
		}
		$result = Connection_Test::run();

		return is_wp_error($result) ? $result : true;
	}
}
