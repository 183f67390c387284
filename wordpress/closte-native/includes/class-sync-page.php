<?php
/**
 * Network Admin > Settings > Closte Sync: bring Closte's aliases in line with the network's
 * domains (after a migration, or to repair drift), through closte_sync().
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The page, its form handler (admin-post.php?action=closte_native_sync) and Sync::run(), which
 * PHP CLI scripts can call too (see the README).
 */
final class Sync_Page {

	const SLUG   = 'closte-native-sync';
	const ACTION = 'closte_native_sync';
	const REPORT = 'closte_native_last_sync';

	public static function register(): void {

		add_action('network_admin_menu', [self::class, 'menu']);
		add_action('admin_post_' . self::ACTION, [self::class, 'handle']);
	}

	public static function menu(): void {

		add_submenu_page('settings.php', __('Closte Sync', 'closte-native'), __('Closte Sync', 'closte-native'), 'manage_network_options', self::SLUG, [self::class, 'render']);
	}

	/**
	 * The domains Closte should serve: every site's own domain and every domain record of
	 * Ultimate Multisite (filter `closte_native_sync_domains` to change the list).
	 *
	 * @return string[]
	 */
	public static function desired_domains(): array {

		$domains = [];
		foreach (get_sites(['number' => 0, 'fields' => 'ids']) as $site_id) {
			$domains[] = get_site($site_id)->domain;
		}
		if (function_exists('wu_get_domains')) {
			foreach (wu_get_domains(['number' => -1]) as $record) {
				$domains[] = is_object($record) && method_exists($record, 'get_domain') ? $record->get_domain() : (string) $record;
			}
		}
		$domains = apply_filters('closte_native_sync_domains', array_values(array_unique(array_map('strtolower', $domains))));
		return array_values(array_filter($domains, 'is_string'));
	}

	/**
	 * Runs the sync and logs one line per change plus a summary.
	 *
	 * @param bool $prune Remove aliases that are not in the list.
	 * @return array The closte_sync() result, or ['ok' => false, 'error' => ...].
	 */
	public static function run(bool $prune = false, ?int $concurrency = null): array {

		$domains = self::desired_domains();
		$options = ['prune' => $prune];
		if (null !== $concurrency) {
			$options['concurrency'] = $concurrency;
		}
		try {
			$result = closte_sync($domains, $options);
		} catch (\Closte\Exception $e) {
			Logger::log('sync not started: ' . $e->getMessage(), 'error');
			return ['ok' => false, 'error' => Logger::scrub($e->getMessage())];
		}
		foreach ($result['results'] as $outcome) {
			Logger::log(Logger::describe($outcome, 'sync'), $outcome['ok'] ? 'info' : 'warning');
		}
		Logger::log(
			sprintf(
				'sync of %d domains%s: %s, %d added, %d removed, %d unchanged, %d failed, %.0f ms',
				count($domains),
				$prune ? ' (prune)' : '',
				$result['ok'] ? 'OK' : 'FAILED',
				count($result['added']),
				count($result['removed']),
				count($result['unchanged']),
				count($result['failed']),
				$result['elapsed_ms']
			),
			$result['ok'] ? 'info' : 'error'
		);
		if (! $result['listing']['ok']) {
			Logger::log(sprintf('sync: Closte\'s alias list could not be read (%s): %s', $result['listing']['error_kind'], $result['listing']['error']), 'error');
		}
		return $result;
	}

	public static function handle(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::ACTION);
		$result = self::run(! empty($_POST['prune']));
		set_site_transient(
			self::REPORT,
			[
				'at'        => time(),
				'ok'        => (bool) $result['ok'],
				'error'     => $result['error'] ?? ($result['listing']['error'] ?? null),
				'added'     => $result['added'] ?? [],
				'removed'   => $result['removed'] ?? [],
				'unchanged' => count($result['unchanged'] ?? []),
				'failed'    => $result['failed'] ?? [],
			],
			DAY_IN_SECONDS
		);
		wp_safe_redirect(network_admin_url('settings.php?page=' . self::SLUG . '&synced=1'));
		exit;
	}

	public static function render(): void {

		$report = get_site_transient(self::REPORT);
		$stats  = closte_stats();
		echo '<div class="wrap"><h1>' . esc_html__('Closte Sync', 'closte-native') . '</h1>';
		if (is_array($report) && isset($_GET['synced'])) {
			printf(
				'<div class="notice %s closte-native-sync-report"><p>%s</p></div>',
				$report['ok'] ? 'notice-success' : 'notice-error',
				esc_html(
					sprintf(
						/* translators: 1: added count, 2: removed count, 3: unchanged count, 4: failed count */
						__('Sync finished: %1$d added, %2$d removed, %3$d unchanged, %4$d failed.', 'closte-native'),
						count($report['added']),
						count($report['removed']),
						$report['unchanged'],
						count($report['failed'])
					) . ($report['error'] ? ' ' . $report['error'] : '')
				)
			);
		}
		echo '<p>' . esc_html__('Adds every site domain and mapped domain that Closte is missing (and requests its certificate). Details go to the integration-closte log.', 'closte-native') . '</p>';
		echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">';
		wp_nonce_field(self::ACTION);
		echo '<input type="hidden" name="action" value="' . esc_attr(self::ACTION) . '">';
		echo '<p><label><input type="checkbox" name="prune" value="1"> ' . esc_html__('Also remove aliases that no site or mapped domain uses', 'closte-native') . '</label></p>';
		submit_button(__('Sync domains with Closte', 'closte-native'));
		echo '</form>';
		printf(
			'<p class="description">%s</p></div>',
			esc_html(sprintf('closte %s, %d domains known, %d requests and %d connections in this PHP worker so far.', closte_version(), count(self::desired_domains()), $stats['requests'], $stats['connections']))
		);
	}
}
