<?php
/**
 * Site Health (Tools > Site Health): which closte implementation runs and whether the key is
 * there (direct tests, no request), and whether Closte accepts the key (an async test: the page
 * asks the REST route below after it has loaded, so the request never slows the page). The Info
 * tab gets a "Closte" section with the same facts as `wp closte status` (never the key).
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The plugin's Site Health tests.
 */
final class Site_Health {

	/** REST namespace and route of the async connection test. */
	const REST_NAMESPACE = 'closte-native/v1';
	const REST_ROUTE     = '/site-health/connection';

	public static function register(): void {

		add_filter('site_status_tests', [self::class, 'add_tests']);
		add_filter('debug_information', [self::class, 'debug_information']);
		add_action('rest_api_init', [self::class, 'register_route']);
	}

	public static function register_route(): void {

		register_rest_route(
			self::REST_NAMESPACE,
			self::REST_ROUTE,
			[
				'methods'             => 'GET',
				'callback'            => [self::class, 'connection_test'],
				'permission_callback' => static fn () => current_user_can('view_site_health_checks'),
			]
		);
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

		if (null !== Implementation::current()) {
			$tests['direct']['closte_native_certificates'] = [
				'label' => __('Certificates of mapped domains', 'closte-native'),
				'test'  => [self::class, 'certificates_test'],
			];
			$tests['async']['closte_native_connection'] = [
				'label'             => __('Closte connection', 'closte-native'),
				'test'              => rest_url(self::REST_NAMESPACE . self::REST_ROUTE),
				'has_rest'          => true,
				// Site Health's scheduled (cron) check calls this directly instead.
				'async_direct_test' => [self::class, 'connection_test'],
			];
		}

		return $tests;
	}

	/** Asks Closte whether it accepts the key; changes nothing (the wizard's test connection). */
	public static function connection_test(): array {

		if (null === Implementation::current()) {
			return self::result('closte_native_connection', 'critical', __('Closte Native is inactive', 'closte-native'), Implementation::note());
		}
		$answer = Connection_Test::run();
		if (is_wp_error($answer)) {
			// Connection_Test's messages are escaped already; result() escapes once more.
			return self::result('closte_native_connection', 'critical', __('Closte Native cannot use the Closte API', 'closte-native'), html_entity_decode($answer->get_error_message(), ENT_QUOTES) . ' (' . $answer->get_error_code() . ')');
		}

		return self::result(
			'closte_native_connection',
			'good',
			__('Closte accepts the API key', 'closte-native'),
			/* translators: %s: milliseconds */
			sprintf(__('The Closte API answered in %s ms; domains mapped in Ultimate Multisite are added to Closte with their certificates.', 'closte-native'), number_format_i18n($answer['elapsed_ms'], 0))
		);
	}

	/**
	 * The certificates the daily watch and the lifecycle checked by handshake (no request here):
	 * critical when a certificate visitors would refuse, recommended when one expires within 14
	 * days, could not be checked, or its requests are held; good otherwise.
	 */
	public static function certificates_test(): array {

		$findings = Certificate_Watch::findings();
		$by_kind  = [];
		foreach ($findings as $name => $finding) {
			$by_kind[ $finding['kind'] ][] = $name;
		}
		if (isset($by_kind['critical'])) {
			return self::result(
				'closte_native_certificates',
				'critical',
				/* translators: %d: number of domains */
				sprintf(_n('%d mapped domain has a certificate visitors refuse', '%d mapped domains have a certificate visitors refuse', count($by_kind['critical']), 'closte-native'), count($by_kind['critical'])),
				self::finding_lines($findings, ['critical', 'expiring', 'unchecked', 'held'])
			);
		}
		$attention = array_merge($by_kind['expiring'] ?? [], $by_kind['unchecked'] ?? [], $by_kind['held'] ?? []);
		if ([] !== $attention) {
			return self::result(
				'closte_native_certificates',
				'recommended',
				/* translators: %d: number of domains */
				sprintf(_n('%d mapped domain needs attention for its certificate', '%d mapped domains need attention for their certificates', count($attention), 'closte-native'), count($attention)),
				self::finding_lines($findings, ['expiring', 'unchecked', 'held'])
			);
		}

		return self::result(
			'closte_native_certificates',
			'good',
			__('The certificates of mapped domains are valid', 'closte-native'),
			__('Every certificate checked by a TLS handshake is trusted, names its domain and is valid for more than 14 days. Certificates are checked once a day.', 'closte-native')
		);
	}

	/** The findings of $kinds, one sentence each, for a Site Health description. */
	private static function finding_lines(array $findings, array $kinds): string {

		$lines = [];
		$more  = 0;
		foreach ($findings as $finding) {
			if (! in_array($finding['kind'], $kinds, true)) {
				continue;
			}
			if (count($lines) < Certificate_Notice::SHOWN) {
				$lines[] = Certificate_Notice::text($finding);
			} else {
				++$more;
			}
		}
		if ($more > 0) {
			/* translators: %d: number of further domains */
			$lines[] = sprintf(_n('And %d more domain: the Closte Domains page lists them.', 'And %d more domains: the Closte Domains page lists them.', $more, 'closte-native'), $more);
		}

		return implode(' ', $lines);
	}

	/** Extension: good. PHP implementation: recommended (works; the extension is faster). Neither: critical. */
	public static function implementation_test(): array {

		$status = [
			'extension' => 'good',
			'php'       => 'recommended',
		][ (string) Implementation::current() ] ?? 'critical';
		$labels = [
			'good'        => __('Closte Native runs on the closte PHP extension', 'closte-native'),
			'recommended' => __('Closte Native runs on its built-in PHP implementation', 'closte-native'),
			'critical'    => __('Closte Native is inactive', 'closte-native'),
		];

		return self::result('closte_native_implementation', $status, $labels[ $status ], Implementation::note());
	}

	/**
	 * The key Closte defines in wp-config.php (or closte.api_key) is there; its value is never
	 * shown. Without an implementation nothing can read a key: the test says that, not that the
	 * key is missing (it may well be in wp-config.php).
	 */
	public static function api_key_test(): array {

		if (null === Implementation::current()) {
			return self::result(
				'closte_native_api_key',
				'critical',
				__('The Closte API key cannot be checked: Closte Native is inactive', 'closte-native'),
				Implementation::note()
			);
		}
		$present = closte_detect();

		return self::result(
			'closte_native_api_key',
			$present ? 'good' : 'critical',
			$present ? __('A Closte API key is configured', 'closte-native') : __('No Closte API key is configured', 'closte-native'),
			$present
				? __('The key comes from the constant CLOSTE_CLIENT_API_KEY or the closte.api_key setting; its value is never shown.', 'closte-native')
				: __('On Closte, CLOSTE_CLIENT_API_KEY is defined in wp-config.php from the Closte dashboard. Elsewhere, define it there or set closte.api_key.', 'closte-native')
		);
	}

	/**
	 * Site Health's Info tab (and its "Copy site info"): a "Closte" section. Values only, no
	 * request to Closte, never the key (its presence and source only).
	 *
	 * @param array $info Site Health's sections.
	 * @return array
	 */
	public static function debug_information($info): array {

		$info   = is_array($info) ? $info : [];
		$status = Status_Report::collect();
		$yes    = __('Yes', 'closte-native');
		$no     = __('No', 'closte-native');
		$none   = __('None', 'closte-native');

		$implementations = [
			'extension' => __('closte PHP extension', 'closte-native'),
			'php'       => __('built-in PHP implementation', 'closte-native'),
		];
		$implementation  = $implementations[ (string) $status['implementation'] ] ?? __('None (neither the closte extension nor curl is loaded)', 'closte-native');
		if (null !== $status['version']) {
			$implementation .= ' ' . $status['version'];
		}

		$endpoint = $status['ssl_endpoint'];
		if (is_string($endpoint) && '' !== $endpoint) {
			$endpoint_shown = $endpoint;
		} elseif (false === $endpoint) {
			$endpoint_shown = __('None (Closte offers no SSL endpoint)', 'closte-native');
		} else {
			$endpoint_shown = __('Not discovered yet', 'closte-native');
		}

		$fields = [
			'implementation' => [
				'label' => __('Implementation', 'closte-native'),
				'value' => $implementation,
				'debug' => (string) ($status['implementation'] ?? 'none') . (null !== $status['version'] ? ' ' . $status['version'] : ''),
			],
			'plugin_version' => [
				'label' => __('Plugin version', 'closte-native'),
				'value' => $status['plugin_version'],
			],
			'api_url'        => [
				'label' => __('API URL', 'closte-native'),
				'value' => '' !== $status['api_url'] ? $status['api_url'] : $none,
			],
			'api_key'        => [
				'label' => __('API key present', 'closte-native'),
				'value' => $status['key_configured'] ? $yes : $no,
				'debug' => $status['key_configured'] ? 'yes' : 'no',
			],
			'api_key_source' => [
				'label' => __('API key source', 'closte-native'),
				'value' => $status['key_source'],
			],
			'ssl_endpoint'   => [
				'label' => __('SSL endpoint', 'closte-native'),
				'value' => $endpoint_shown,
				'debug' => is_string($endpoint) ? $endpoint : (false === $endpoint ? 'none' : 'unknown'),
			],
			'ultimate_multisite' => [
				'label' => __('Ultimate Multisite generation', 'closte-native'),
				'value' => self::ultimate_multisite_generation(),
			],
			'owned_aliases'  => [
				'label' => __('Domain aliases owned on Closte', 'closte-native'),
				'value' => (string) $status['owned_aliases'],
			],
			'pending_retries' => [
				'label' => __('Pending retries', 'closte-native'),
				'value' => (string) $status['queued']['retries'],
			],
		];
		if (null !== $status['implementation']) {
			$fields['certificates'] = self::certificate_counts();
		}

		$info['closte_native'] = [
			'label'       => __('Closte', 'closte-native'),
			// Site Health prints a section's description as HTML, unescaped.
			'description' => esc_html(Implementation::note()),
			'fields'      => $fields,
		];

		return $info;
	}

	/**
	 * The Info tab's certificate counts: every followed name by state, and the findings by kind.
	 *
	 * @return array{label: string, value: string, debug: string}
	 */
	private static function certificate_counts(): array {

		$states = array_fill_keys(Certificate_Records::STATES, 0);
		foreach (Certificate_Records::each() as $record) {
			$state = (string) ($record['state'] ?? '');
			if (isset($states[ $state ])) {
				++$states[ $state ];
			}
		}
		$findings = ['critical' => 0, 'expiring' => 0, 'unchecked' => 0, 'held' => 0, 'dns' => 0];
		foreach (Certificate_Watch::findings() as $finding) {
			++$findings[ $finding['kind'] ];
		}
		$debug = [];
		foreach ($states + ['critical' => $findings['critical']] as $key => $count) {
			$debug[] = $key . '=' . $count;
		}

		return [
			'label' => __('Certificates', 'closte-native'),
			'value' => sprintf(
				/* translators: 1: total, 2: active, 3: expiring within 14 days, 4: critical, 5: waiting for DNS, 6: requested or retrying, 7: held */
				__('%1$d followed: %2$d active, %3$d expiring, %4$d critical, %5$d waiting for DNS, %6$d requested or retrying, %7$d held', 'closte-native'),
				array_sum($states),
				$states['active'],
				$findings['expiring'],
				$findings['critical'],
				$states['waiting_dns'],
				$states['requested'] + $states['backoff'],
				$states['held']
			),
			'debug' => implode(' ', $debug),
		];
	}

	/** Which generation of Ultimate Multisite the plugin integrates with, if any. */
	private static function ultimate_multisite_generation(): string {

		switch (Ultimate_Multisite::generation()) {
			case '2.5':
				return __('2.5 or later (integration registry)', 'closte-native');
			case '2.4':
				return __('2.4 (host providers)', 'closte-native');
			default:
				return __('Not active', 'closte-native');
		}
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
