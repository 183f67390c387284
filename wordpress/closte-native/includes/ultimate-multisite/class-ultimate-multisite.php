<?php
/**
 * What this plugin knows about Ultimate Multisite itself: which generation is loaded, whether
 * the operator enabled the Closte integration, and the names of the stock classes.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Detection only: the adapters and their registration are elsewhere (Plugin wires them).
 */
final class Ultimate_Multisite {

	/** The stock 2.4 integration this plugin replaces. */
	const STOCK_CLASS = 'WP_Ultimo\\Integrations\\Host_Providers\\Closte_Host_Provider';

	/** Present from Ultimate Multisite 2.5 on. */
	const REGISTRY_CLASS = 'WP_Ultimo\\Integrations\\Integration_Registry';

	/** The parent of every 2.4.x host provider. */
	const HOST_PROVIDER_CLASS = 'WP_Ultimo\\Integrations\\Host_Providers\\Base_Host_Provider';

	/** The parent of every 2.5+ integration. */
	const INTEGRATION_CLASS = 'WP_Ultimo\\Integrations\\Integration';

	/**
	 * '2.5' when the integration registry exists, '2.4' when only host providers do, null when
	 * Ultimate Multisite is not loaded (yet: its classes exist once it has loaded).
	 */
	public static function generation(): ?string {

		if (class_exists(self::REGISTRY_CLASS)) {
			return '2.5';
		}

		return class_exists(self::HOST_PROVIDER_CLASS) ? '2.4' : null;
	}

	/** True when either generation's integration base class is loaded. */
	public static function is_active(): bool {

		return class_exists(self::HOST_PROVIDER_CLASS) || class_exists(self::INTEGRATION_CLASS);
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
}
