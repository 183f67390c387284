<?php
/**
 * Site Health (Tools > Site Health): which closte implementation runs, and whether the key is
 * there. Plain checks, no request to Closte.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The plugin's Site Health tests.
 */
final class Site_Health {

	public static function register(): void {

		add_filter('site_status_tests', [self::class, 'add_tests']);
	}

	/**
	 * @param array $tests Site Health's tests.
	 * @return array
	 */
	public static function add_tests($tests): array {

		$tests = is_array($tests) ? $tests : [];
		$tests['direct']['closte_native_implementation'] = [
			'label' => __('Closte Native implementation', 'closte-native'),
			'test'  => [self::class, 'implementation_test'],
		];
		$tests['direct']['closte_native_api_key'] = [
			'label' => __('Closte API key', 'closte-native'),
			'test'  => [self::class, 'api_key_test'],
		];

		return $tests;
	}

	/** Extension: good. PHP implementation: recommended (works; the extension is faster). Neither: critical. */
	public static function implementation_test(): array {

		$status = [
			'extension' => 'good',
			'php'       => 'recommended',
		][ (string) Plugin::implementation() ] ?? 'critical';
		$labels = [
			'good'        => __('Closte Native runs on the closte PHP extension', 'closte-native'),
			'recommended' => __('Closte Native runs on its built-in PHP implementation', 'closte-native'),
			'critical'    => __('Closte Native is inactive', 'closte-native'),
		];

		return self::result('closte_native_implementation', $status, $labels[ $status ], Plugin::implementation_note());
	}

	/** The key Closte defines in wp-config.php (or closte.api_key) is there; its value is never shown. */
	public static function api_key_test(): array {

		$present = null !== Plugin::implementation() && closte_detect();

		return self::result(
			'closte_native_api_key',
			$present ? 'good' : 'critical',
			$present ? __('A Closte API key is configured', 'closte-native') : __('No Closte API key is configured', 'closte-native'),
			$present
				? __('The key comes from the constant CLOSTE_CLIENT_API_KEY or the closte.api_key setting; its value is never shown.', 'closte-native')
				: __('On Closte, CLOSTE_CLIENT_API_KEY is defined in wp-config.php from the Closte dashboard. Elsewhere, define it there or set closte.api_key.', 'closte-native')
		);
	}

	private static function result(string $test, string $status, string $label, string $description): array {

		return [
			'label'       => $label,
			'status'      => $status,
			'badge'       => [
				'label' => __('Closte', 'closte-native'),
				'color' => 'critical' === $status ? 'red' : 'blue',
			],
			'description' => '<p>' . esc_html($description) . '</p>',
			'actions'     => '',
			'test'        => $test,
		];
	}
}
