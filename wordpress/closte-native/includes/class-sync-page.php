<?php
/**
 * Network Admin > Settings > Closte Sync: the operator's view of Sync_Service. Preview, confirm
 * the exact set, watch progress, read the report. Viewing the page reads one option: it never
 * lists sites or domains itself.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Forms post to admin-post.php (action closte_native_sync, field `step` preview|apply|discard),
 * each checked for capability and nonce; the work runs as a background job.
 */
final class Sync_Page {

	const SLUG   = 'closte-native-sync';
	const ACTION = 'closte_native_sync';

	public static function register(): void {

		add_action('network_admin_menu', [self::class, 'menu']);
		add_action('admin_post_' . self::ACTION, [self::class, 'handle']);
	}

	public static function menu(): void {

		add_submenu_page('settings.php', __('Closte Sync', 'closte-native'), __('Closte Sync', 'closte-native'), 'manage_network_options', self::SLUG, [self::class, 'render']);
	}

	public static function url(array $args = []): string {

		return add_query_arg($args, network_admin_url('settings.php?page=' . self::SLUG));
	}

	public static function handle(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::ACTION);

		$step = sanitize_key(wp_unslash($_POST['step'] ?? 'preview'));
		if ('discard' === $step) {
			Sync_Service::discard();
			$outcome = true;
		} elseif ('apply' === $step) {
			$confirmed = array_map('sanitize_text_field', (array) wp_unslash($_POST['confirm'] ?? []));
			$outcome   = Sync_Service::request_apply(
				sanitize_text_field(wp_unslash($_POST['plan'] ?? '')),
				$confirmed,
				sanitize_text_field(wp_unslash($_POST['typed'] ?? ''))
			);
		} else {
			$outcome = Sync_Service::request_preview(! empty($_POST['prune']));
		}

		$args = is_wp_error($outcome) ? ['closte_error' => $outcome->get_error_code()] : ['queued' => $step];
		wp_safe_redirect(self::url($args));
		exit;
	}

	public static function render(): void {

		$state = Sync_Service::state();
		$busy  = Sync_Service::is_busy($state);

		if ($busy) {
			// The page follows a background job: reload until it has finished.
			echo '<meta http-equiv="refresh" content="5">';
		}
		echo '<div class="wrap closte-native-sync"><h1>' . esc_html__('Closte Sync', 'closte-native') . '</h1>';

		$error = sanitize_key(wp_unslash($_GET['closte_error'] ?? ''));
		if ('' !== $error) {
			$message = Sync_Service::refusal($error, (string) ($state['plan']['typed_phrase'] ?? ''))->get_error_message();
			printf('<div class="notice notice-error closte-native-sync-error"><p>%s</p></div>', esc_html($message));
		}

		echo '<p>' . esc_html__('Brings Closte\'s domain aliases in line with the network: adds every site domain and mapped domain that Closte is missing (and requests its certificate). With "remove", it also removes aliases that nothing on the network uses, after you have checked and confirmed the exact list. The network\'s own domains, their www. form and wildcard aliases are never removed.', 'closte-native') . '</p>';

		if ($busy) {
			self::render_progress($state);
		} elseif ('planned' === $state['status']) {
			self::render_plan($state['plan']);
		} else {
			if ('done' === $state['status']) {
				self::render_report($state['report'], (int) ($state['finished_at'] ?? 0));
			} elseif ('failed' === $state['status']) {
				/* translators: %s: what went wrong */
				printf('<div class="notice notice-error closte-native-sync-report"><p>%s</p></div>', esc_html(sprintf(__('The sync did not run to the end: %s', 'closte-native'), $state['error'] ?? '')));
			} elseif (in_array($state['status'], Sync_Service::BUSY, true)) {
				/* translators: %s: date and time */
				printf('<div class="notice notice-warning"><p>%s</p></div>', esc_html(sprintf(__('The sync requested at %s gave no sign of life for an hour and is considered stopped. Check that Action Scheduler (or WP-Cron) runs, then start again.', 'closte-native'), gmdate('Y-m-d H:i', (int) ($state['requested_at'] ?? 0)) . ' UTC')));
			}
			self::render_start_form();
		}
		self::render_log_link();
		echo '</div>';
	}

	private static function render_start_form(): void {

		echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">';
		wp_nonce_field(self::ACTION);
		echo '<input type="hidden" name="action" value="' . esc_attr(self::ACTION) . '"><input type="hidden" name="step" value="preview">';
		echo '<p><label><input type="checkbox" name="prune" value="1"> ' . esc_html__('Also remove aliases that no site or mapped domain uses (you will see the list and confirm it first)', 'closte-native') . '</label></p>';
		submit_button(__('Preview the sync', 'closte-native'));
		echo '</form>';
	}

	private static function render_progress(array $state): void {

		$labels = [
			'queued'     => __('queued; it starts when the background queue next runs', 'closte-native'),
			'previewing' => __('preparing the preview', 'closte-native'),
			'applying'   => __('running', 'closte-native'),
		];
		$progress = $state['progress'] ?? null;
		$line     = $labels[ $state['status'] ] ?? $state['status'];
		if (is_array($progress)) {
			/* translators: 1: done, 2: total */
			$line .= ': ' . sprintf(__('%1$d of %2$d done', 'closte-native'), $progress['done'], $progress['total']);
		}
		/* translators: %s: state of the sync */
		printf('<div class="notice notice-info closte-native-sync-progress"><p>%s</p></div>', esc_html(sprintf(__('Sync %s. This page refreshes by itself.', 'closte-native'), $line)));
	}

	private static function render_plan(array $plan): void {

		echo '<h2>' . esc_html__('Preview', 'closte-native') . '</h2>';
		if (! $plan['listing_ok']) {
			/* translators: %s: the error */
			printf('<div class="notice notice-error closte-native-sync-report"><p>%s</p></div>', esc_html(sprintf(__('Closte\'s alias list could not be read, so nothing can be planned: %s', 'closte-native'), $plan['listing'])));
		}
		foreach ($plan['refused'] as $reason) {
			/* translators: %s: why */
			printf('<div class="notice notice-warning closte-native-prune-refused"><p>%s</p></div>', esc_html(sprintf(__('Nothing will be removed: %s. Removing aliases needs a complete list of what the network uses.', 'closte-native'), $reason)));
		}
		printf('<p class="closte-native-plan-summary">%s</p>', esc_html(Sync_Service::plan_summary($plan)));
		self::table(__('To add', 'closte-native'), $plan['to_add'], 'closte-native-to-add');
		self::table(__('To remove', 'closte-native'), $plan['to_remove'], 'closte-native-to-remove');
		self::table(__('Kept', 'closte-native'), $plan['kept'], 'closte-native-kept');
		self::table(__('Skipped', 'closte-native'), $plan['invalid'] + array_fill_keys($plan['not_hosts'], __('not a host name this integration can act on', 'closte-native')), 'closte-native-skipped');

		echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">';
		wp_nonce_field(self::ACTION);
		echo '<input type="hidden" name="action" value="' . esc_attr(self::ACTION) . '"><input type="hidden" name="step" value="apply">';
		echo '<input type="hidden" name="plan" value="' . esc_attr($plan['id']) . '">';
		foreach (array_keys($plan['to_remove']) as $alias) {
			echo '<input type="hidden" name="confirm[]" value="' . esc_attr($alias) . '">';
		}
		if ($plan['needs_typed']) {
			printf(
				'<p><label>%s <input type="text" name="typed" autocomplete="off" class="regular-text"></label></p>',
				esc_html(
					sprintf(
						/* translators: 1: count, 2: the phrase */
						__('This removes %1$d aliases. Type "%2$s" to confirm:', 'closte-native'),
						count($plan['to_remove']),
						$plan['typed_phrase']
					)
				)
			);
		}
		$label = [] === $plan['to_remove'] ? __('Run this sync', 'closte-native') : __('Run this sync, removing exactly the aliases listed', 'closte-native');
		submit_button($label, 'primary', 'submit', false, $plan['listing_ok'] ? [] : ['disabled' => 'disabled']);
		echo '</form>';

		echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '" style="margin-top:1em">';
		wp_nonce_field(self::ACTION);
		echo '<input type="hidden" name="action" value="' . esc_attr(self::ACTION) . '"><input type="hidden" name="step" value="discard">';
		submit_button(__('Discard this preview', 'closte-native'), 'secondary', 'discard', false);
		echo '</form>';
	}

	private static function render_report(array $report, int $finished_at): void {

		$summary = sprintf(
			/* translators: 1: time, 2: added, 3: removed, 4: unchanged, 5: skipped, 6: failed */
			__('Sync of %1$s: %2$d added, %3$d removed, %4$d unchanged, %5$d skipped, %6$d failed.', 'closte-native'),
			gmdate('Y-m-d H:i', $finished_at) . ' UTC',
			count($report['added']),
			count($report['removed']),
			$report['unchanged'],
			count($report['skipped']),
			count($report['failed'])
		);
		if ('' !== $report['listing']) {
			/* translators: %s: the error */
			$summary .= ' ' . sprintf(__('Closte\'s alias list could not be read: %s', 'closte-native'), $report['listing']);
		}
		printf('<div class="notice %s closte-native-sync-report"><p>%s</p></div>', $report['ok'] ? 'notice-success' : 'notice-error', esc_html($summary));
		self::table(__('Added', 'closte-native'), array_fill_keys($report['added'], ''), 'closte-native-added');
		self::table(__('Removed', 'closte-native'), array_fill_keys($report['removed'], ''), 'closte-native-removed');
		self::table(__('Skipped', 'closte-native'), $report['skipped'], 'closte-native-skipped');
		self::table(__('Failed', 'closte-native'), $report['failed'], 'closte-native-failed');
	}

	/**
	 * @param array<string, string> $rows domain => note
	 */
	private static function table(string $title, array $rows, string $class): void {

		if ([] === $rows) {
			return;
		}
		printf('<h3>%s (%d)</h3><table class="widefat striped %s"><tbody>', esc_html($title), count($rows), esc_attr($class));
		foreach ($rows as $domain => $note) {
			printf('<tr><td><code>%s</code></td><td>%s</td></tr>', esc_html((string) $domain), esc_html((string) $note));
		}
		echo '</tbody></table>';
	}

	private static function render_log_link(): void {

		$file = wp_upload_dir(null, false)['basedir'] . '/wu-logs/' . Logger::HANDLE . '.log';
		$text = esc_html(sprintf(/* translators: %s: file path */ __('Every change is logged in %s.', 'closte-native'), $file));
		if (function_exists('wu_log_add')) {
			$text .= ' <a href="' . esc_url(network_admin_url('admin.php?page=wp-ultimo-view-logs&file=' . rawurlencode($file))) . '">' . esc_html__('View the log', 'closte-native') . '</a>';
		}
		echo '<p class="description">' . $text . '</p>'; // phpcs:ignore WordPress.Security.EscapeOutput -- escaped above
	}
}
