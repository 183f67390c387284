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
 * Forms post to admin-post.php (action closte_native_sync, field `step`
 * preview|apply|discard|cancel), each checked for capability and nonce; the work runs as a
 * background job. While it runs, assets/sync-page.js polls the admin-ajax action
 * closte_native_sync_status (capability and nonce too) and updates the progress region in
 * place; without JavaScript the page has a Refresh link.
 *
 * A refusal is shown once: the redirect carries no error code (a reloaded or auto-updated page
 * would show it again above a later, unrelated result); it waits in a short-lived per-user
 * transient that the next render reads and deletes.
 */
final class Sync_Page {

	const SLUG        = 'closte-native-sync';
	const ACTION      = 'closte_native_sync';
	const AJAX_ACTION = 'closte_native_sync_status';

	/** Per-user transient holding the last refusal until the next render. */
	const FLASH = 'closte_native_sync_flash_';

	/** How often the page asks for the state of a running sync, in milliseconds. */
	const POLL_MS = 2000;

	/** Which form field a refusal is about, so it is shown beside that field as well. */
	const FIELD_OF = [
		'closte-sync-typed'           => 'closte-native-typed',
		'closte-sync-unowned-typed'   => 'closte-native-unowned-typed',
		'closte-sync-unowned-unknown' => 'closte-native-unowned-typed',
	];

	public static function register(): void {

		add_action('network_admin_menu', [self::class, 'menu']);
		add_action('admin_post_' . self::ACTION, [self::class, 'handle']);
		add_action('wp_ajax_' . self::AJAX_ACTION, [self::class, 'status']);
	}

	public static function menu(): void {

		$hook = add_submenu_page('settings.php', __('Closte Sync', 'closte-native'), __('Closte Sync', 'closte-native'), 'manage_network_options', self::SLUG, [self::class, 'render']);
		if (is_string($hook) && '' !== $hook) {
			add_action('load-' . $hook, [self::class, 'load']);
		}
	}

	/** On this page only: its script and styles. */
	public static function load(): void {

		add_action(
			'admin_enqueue_scripts',
			static function (): void {
				$main = CLOSTE_NATIVE_DIR . '/closte-native.php';
				wp_enqueue_style('closte-native-sync', plugins_url('assets/sync-page.css', $main), [], CLOSTE_NATIVE_VERSION);
				wp_enqueue_script('closte-native-sync', plugins_url('assets/sync-page.js', $main), [], CLOSTE_NATIVE_VERSION, true);
			}
		);
	}

	public static function url(array $args = []): string {

		return add_query_arg($args, network_admin_url('settings.php?page=' . self::SLUG));
	}

	/**
	 * The one name the operator came for (`domain`, from the Closte Domains page), or ''. The
	 * preview stays network-wide; this name is pointed out in it.
	 */
	private static function focus(): string {

		return Network_Domains::normalise(sanitize_text_field(wp_unslash((string) ($_REQUEST['domain'] ?? '')))); // phpcs:ignore WordPress.Security.NonceVerification -- a view, no change
	}

	/** This page's URL, keeping the name the operator came for. */
	private static function page_url(): string {

		$focus = self::focus();

		return self::url('' === $focus ? [] : ['domain' => rawurlencode($focus)]);
	}

	public static function handle(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::ACTION);

		$step = sanitize_key(wp_unslash($_POST['step'] ?? 'preview'));
		if ('discard' === $step) {
			Sync_State::discard();
			$outcome = true;
		} elseif ('cancel' === $step) {
			$outcome = Sync_State::cancel();
		} elseif ('apply' === $step) {
			$outcome = Sync_Service::request_apply(
				sanitize_text_field(wp_unslash($_POST['plan'] ?? '')),
				sanitize_text_field(wp_unslash($_POST['token'] ?? '')),
				sanitize_text_field(wp_unslash($_POST['typed'] ?? '')),
				array_map('sanitize_text_field', (array) wp_unslash($_POST['unowned'] ?? [])),
				sanitize_text_field(wp_unslash($_POST['unowned_typed'] ?? ''))
			);
		} else {
			$outcome = Sync_Service::request_preview(! empty($_POST['prune']));
		}

		if (is_wp_error($outcome)) {
			set_site_transient(self::FLASH . get_current_user_id(), ['code' => $outcome->get_error_code(), 'message' => $outcome->get_error_message()], 5 * MINUTE_IN_SECONDS);
		}
		wp_safe_redirect(self::page_url());
		exit;
	}

	/** The admin-ajax answer the page polls while a sync is queued or running. */
	public static function status(): void {

		if (! current_user_can('manage_network_options')) {
			wp_send_json_error(['message' => __('Sorry, you are not allowed to do that.', 'closte-native')], 403);
		}
		if (false === check_ajax_referer(self::AJAX_ACTION, 'nonce', false)) {
			wp_send_json_error(['message' => __('The link you followed has expired. Reload the page.', 'closte-native')], 403);
		}
		$state    = Sync_State::get();
		$progress = is_array($state['progress'] ?? null) ? $state['progress'] : ['done' => 0, 'total' => 0];
		wp_send_json_success(
			[
				'status'      => $state['status'],
				'busy'        => Sync_State::is_busy($state),
				'cancellable' => Sync_State::cancellable($state),
				'done'        => (int) ($progress['done'] ?? 0),
				'total'       => (int) ($progress['total'] ?? 0),
				'text'        => self::progress_text($state),
			]
		);
	}

	/**
	 * The refusal of the last request, once.
	 *
	 * @return array{code: string, message: string}|null
	 */
	private static function take_flash(): ?array {

		$key   = self::FLASH . get_current_user_id();
		$flash = get_site_transient($key);
		if (! is_array($flash) || ! isset($flash['code'], $flash['message'])) {
			return null;
		}
		delete_site_transient($key);

		return ['code' => (string) $flash['code'], 'message' => (string) $flash['message']];
	}

	public static function render(): void {

		$state = Sync_State::get();
		$busy  = Sync_State::is_busy($state);
		$flash = self::take_flash();
		$plan  = 'planned' === $state['status'] && is_array($state['plan'] ?? null) ? $state['plan'] : null;

		// The script replaces this element's content with a fresh copy when a job has finished.
		echo '<div class="wrap closte-native-sync" id="closte-native-sync"><h1>' . esc_html__('Closte Sync', 'closte-native') . '</h1>';

		if (null !== $flash) {
			printf('<div class="notice notice-error closte-native-sync-error" role="alert"><p>%s</p></div>', esc_html($flash['message']));
		}
		if (! $busy && null !== $plan) {
			// What is missing from the network's list comes first: it decides what the rest means.
			self::render_warnings((array) ($plan['warnings'] ?? []));
		}
		self::render_focus($plan);

		echo '<p>' . esc_html__('Brings Closte\'s domain aliases in line with the network: adds every site domain and mapped domain that Closte is missing (and requests its certificate). With "remove", it also removes aliases that nothing on the network uses, after you have checked and confirmed the exact list. The network\'s own domains, their www. form and wildcard aliases are never removed.', 'closte-native') . '</p>';

		if ($busy) {
			self::render_progress($state);
		} elseif (null !== $plan) {
			self::render_plan($plan, $flash);
		} else {
			if ('done' === $state['status'] && is_array($state['report'] ?? null)) {
				self::render_report($state['report'], (int) ($state['finished_at'] ?? 0));
			} elseif ('failed' === $state['status']) {
				/* translators: %s: what went wrong */
				printf('<div class="notice notice-error closte-native-sync-report%s"><p>%s</p></div>', empty($state['dead']) ? '' : ' closte-native-sync-died', esc_html(sprintf(__('The sync did not run to the end: %s', 'closte-native'), $state['error'] ?? '')));
			} elseif (in_array($state['status'], Sync_State::BUSY, true)) {
				/* translators: %s: date and time */
				printf('<div class="notice notice-warning"><p>%s</p></div>', esc_html(sprintf(__('The sync requested at %s gave no sign of life for an hour and is considered stopped. Check that Action Scheduler (or WP-Cron) runs, then start again.', 'closte-native'), gmdate('Y-m-d H:i', (int) ($state['requested_at'] ?? 0)) . ' UTC')));
			}
			self::render_start_form();
		}
		self::render_log_link();
		echo '</div>';
	}

	/** @param list<array|string> $warnings */
	private static function render_warnings(array $warnings): void {

		foreach ($warnings as $reason) {
			printf(
				'<div class="notice notice-warning closte-native-sync-warning"><p>%s</p></div>',
				/* translators: %s: what is missing from the network's list */
				esc_html(sprintf(__('Missing from the network\'s list: %s. Nothing is removed until the list is complete.', 'closte-native'), Sync_Messages::text($reason)))
			);
		}
	}

	/** Opens a form to admin-post.php with exactly the nonce, the action and the step. */
	private static function open_form(string $step, string $id, string $class = ''): void {

		printf('<form method="post" action="%s" id="%s" class="%s">', esc_url(admin_url('admin-post.php')), esc_attr($id), esc_attr($class));
		wp_nonce_field(self::ACTION, '_wpnonce', false);
		if ('' !== self::focus()) {
			printf('<input type="hidden" name="domain" value="%s">', esc_attr(self::focus()));
		}
		printf('<input type="hidden" name="action" value="%s"><input type="hidden" name="step" value="%s">', esc_attr(self::ACTION), esc_attr($step));
	}

	private static function render_start_form(): void {

		self::open_form('preview', 'closte-native-sync-start');
		echo '<p><label for="closte-native-prune"><input type="checkbox" name="prune" value="1" id="closte-native-prune"> ' . esc_html__('Also remove aliases that no site or mapped domain uses (you will see the list and confirm it first)', 'closte-native') . '</label></p>';
		echo '<p><button type="submit" class="button button-primary" id="closte-native-preview">' . esc_html__('Preview the sync', 'closte-native') . '</button></p>';
		echo '</form>';
	}

	/** One line on a queued or running sync, for the page and the status endpoint. */
	private static function progress_text(array $state): string {

		$labels   = [
			'queued'     => __('queued; it starts when the background queue next runs', 'closte-native'),
			'previewing' => __('preparing the preview', 'closte-native'),
			'applying'   => __('running', 'closte-native'),
		];
		$progress = $state['progress'] ?? null;
		$line     = $labels[ $state['status'] ] ?? $state['status'];
		if ('applying' === $state['status'] && is_array($progress)) {
			/* translators: 1: done, 2: total */
			$line .= ': ' . sprintf(__('%1$d of %2$d done', 'closte-native'), (int) $progress['done'], (int) $progress['total']);
		}
		if ('applying' === $state['status'] && ! empty($state['waiting'])) {
			/* translators: %d: how many batches have run */
			$line .= '; ' . sprintf(__('batch %d done, the next one starts when the background queue next runs', 'closte-native'), (int) ($state['batches'] ?? 1));
		}

		/* translators: %s: state of the sync */
		return sprintf(__('Sync %s.', 'closte-native'), $line);
	}

	private static function render_progress(array $state): void {

		printf(
			'<div class="notice notice-info closte-native-sync-progress" id="closte-native-sync-progress" role="status" aria-live="polite" data-status="%s" data-poll-url="%s" data-nonce="%s" data-page-url="%s" data-interval="%d"><p class="closte-native-sync-progress-text">%s</p></div>',
			esc_attr($state['status']),
			esc_url(admin_url('admin-ajax.php')),
			esc_attr(wp_create_nonce(self::AJAX_ACTION)),
			esc_url(self::page_url()),
			self::POLL_MS,
			esc_html(self::progress_text($state))
		);
		echo '<p class="closte-native-sync-actions"><a class="button closte-native-sync-refresh" href="' . esc_url(self::page_url()) . '">' . esc_html__('Refresh', 'closte-native') . '</a></p>';
		if (Sync_State::cancellable($state)) {
			self::open_form('cancel', 'closte-native-sync-cancel', 'closte-native-sync-cancel');
			echo '<p><button type="submit" class="button">' . esc_html__('Cancel this sync', 'closte-native') . '</button></p></form>';
		}
	}

	/**
	 * @param array|null $flash The refusal of the last request, shown beside its field too.
	 */
	private static function render_plan(array $plan, ?array $flash): void {

		echo '<h2>' . esc_html__('Preview', 'closte-native') . '</h2>';
		if (! $plan['listing_ok']) {
			// No counts and no tables: with no list from Closte, every number would be wrong.
			printf(
				'<div class="notice notice-error closte-native-sync-unreachable"><p>%s</p></div>',
				/* translators: %s: the error */
				esc_html(sprintf(__('Closte could not be reached, so nothing was planned: %s', 'closte-native'), $plan['listing']))
			);
			self::open_form('preview', 'closte-native-sync-retry');
			printf('<input type="hidden" name="prune" value="%d">', empty($plan['prune_asked']) ? 0 : 1);
			echo '<p><button type="submit" class="button button-primary" id="closte-native-retry">' . esc_html__('Retry preview', 'closte-native') . '</button></p></form>';
			self::render_discard_form();
			return;
		}

		$unowned   = (array) ($plan['unowned'] ?? []);
		$tickable  = ! empty($plan['prune']) && [] !== $unowned;
		$offer_run = [] !== $plan['to_add'] || [] !== $plan['to_remove'] || $tickable;
		$field_of  = null === $flash ? null : (self::FIELD_OF[ $flash['code'] ] ?? null);

		printf('<p class="closte-native-plan-summary">%s</p>', esc_html(Sync_Messages::plan_summary($plan)));
		if ($offer_run) {
			// The tables sit inside the form: the unowned checkboxes are part of the confirmation.
			self::open_form('apply', 'closte-native-sync-confirm');
			printf('<input type="hidden" name="plan" value="%s"><input type="hidden" name="token" value="%s">', esc_attr($plan['id']), esc_attr($plan['token']));
		}
		self::table(__('To add', 'closte-native'), $plan['to_add'], 'closte-native-to-add', false, Sync_State::count_of($plan, 'to_add'));
		self::table(__('To remove (added by this plugin)', 'closte-native'), $plan['to_remove'], 'closte-native-to-remove', false, Sync_State::count_of($plan, 'to_remove'));
		self::table(__('Not added by this plugin: left alone', 'closte-native'), $unowned, 'closte-native-unowned', $tickable && $offer_run, Sync_State::count_of($plan, 'unowned'));
		self::table(__('Kept', 'closte-native'), $plan['kept'], 'closte-native-kept', false, Sync_State::count_of($plan, 'kept'));
		self::table(__('Skipped', 'closte-native'), (array) ($plan['skipped'] ?? []), 'closte-native-skipped', false, Sync_State::count_of($plan, 'skipped'));

		if (! $offer_run) {
			echo '<p class="closte-native-nothing"><strong>' . esc_html__('Nothing to change: Closte already holds every name the network uses, and nothing is to be removed.', 'closte-native') . '</strong></p>';
			self::render_discard_form();
			return;
		}

		if ($plan['needs_typed']) {
			self::typed_field(
				'closte-native-typed',
				'typed',
				sprintf(
					/* translators: 1: how many are removed, 2: how many Closte lists, 3: which limit, e.g. "more than 10 %" */
					__('This removes %1$d of %2$d aliases (%3$s).', 'closte-native'),
					Sync_State::count_of($plan, 'to_remove'),
					$plan['listed'],
					self::limits($plan)
				) . ' ' . sprintf(
					/* translators: %s: the phrase, e.g. "remove 37" */
					__('Type "%s" to confirm:', 'closte-native'),
					$plan['typed_phrase']
				),
				true,
				'closte-native-typed' === $field_of ? $flash['message'] : '',
				[]
			);
		}
		if ($tickable) {
			$labels = [];
			for ($n = 1; $n <= count($unowned); $n++) {
				$labels[ $n ] = sprintf(
					/* translators: 1: how many are ticked, 2: the phrase, e.g. "remove 2 unowned" */
					_n('You ticked %1$d alias this plugin did not add. Type "%2$s" to confirm its removal:', 'You ticked %1$d aliases this plugin did not add. Type "%2$s" to confirm their removal:', $n, 'closte-native'),
					$n,
					Sync_Plan::unowned_phrase($n)
				);
			}
			self::typed_field(
				'closte-native-unowned-typed',
				'unowned_typed',
				sprintf(
					/* translators: %s: the phrase for one alias, e.g. "remove 1 unowned" */
					__('Only if you tick aliases under "Not added by this plugin": type the phrase for their number (for one, "%s") to confirm their removal:', 'closte-native'),
					Sync_Plan::unowned_phrase(1)
				),
				false,
				'closte-native-unowned-typed' === $field_of ? $flash['message'] : '',
				['data-labels' => (string) wp_json_encode($labels)]
			);
		}
		if ([] === $plan['to_remove']) {
			$label = __('Run this sync', 'closte-native');
		} elseif (empty($plan['cut']['to_remove'])) {
			$label = __('Run this sync, removing exactly the aliases listed', 'closte-native');
		} else {
			// The table shows the first entries only: the button names the whole confirmed set.
			$label = sprintf(
				/* translators: %d: how many aliases the run removes (more than the table shows) */
				__('Run this sync, removing exactly the %d aliases of this preview (wp closte sync --dry-run lists them all)', 'closte-native'),
				Sync_State::count_of($plan, 'to_remove')
			);
		}
		echo '<p><button type="submit" class="button button-primary" id="closte-native-run">' . esc_html($label) . '</button></p></form>';
		self::render_discard_form();
	}

	/** Which limit made the typed confirmation necessary, in words. */
	private static function limits(array $plan): string {

		$count     = Sync_State::count_of($plan, 'to_remove');
		$threshold = (int) ($plan['threshold'] ?? apply_filters('closte_native_prune_confirm_threshold', 25));
		$limits    = [];
		if ($count > 0.1 * $plan['listed']) {
			$limits[] = __('more than 10 %', 'closte-native');
		}
		if ($count > $threshold) {
			/* translators: %d: the threshold (filter closte_native_prune_confirm_threshold) */
			$limits[] = sprintf(__('more than the threshold of %d', 'closte-native'), $threshold);
		}

		/* translators: separates two limits, e.g. "more than 10 % and more than the threshold of 25" */
		return implode(__(' and ', 'closte-native'), $limits);
	}

	/**
	 * A labelled text field for a typed phrase, with the refusal about it beside it.
	 *
	 * @param array<string, string> $attributes Extra attributes.
	 */
	private static function typed_field(string $id, string $name, string $label, bool $required, string $refusal, array $attributes): void {

		$extra = '';
		foreach ($attributes as $attribute => $value) {
			$extra .= sprintf(' %s="%s"', esc_attr($attribute), esc_attr($value));
		}
		if ('' !== $refusal) {
			$extra .= sprintf(' aria-describedby="%s-error" aria-invalid="true"', esc_attr($id));
		}
		printf(
			'<p class="closte-native-typed-row"><label for="%1$s" id="%1$s-label">%2$s</label><br><input type="text" id="%1$s" name="%3$s" class="regular-text" autocomplete="off" spellcheck="false"%4$s%5$s>',
			esc_attr($id),
			esc_html($label),
			esc_attr($name),
			$required ? ' required' : '',
			$extra // phpcs:ignore WordPress.Security.EscapeOutput -- escaped above
		);
		if ('' !== $refusal) {
			printf('<span class="closte-native-field-error" id="%s-error">%s</span>', esc_attr($id), esc_html($refusal));
		}
		echo '</p>';
	}

	private static function render_discard_form(): void {

		self::open_form('discard', 'closte-native-sync-discard', 'closte-native-sync-discard');
		echo '<p><button type="submit" class="button">' . esc_html__('Discard this preview', 'closte-native') . '</button></p></form>';
	}

	private static function render_report(array $report, int $finished_at): void {

		$summary = sprintf(
			/* translators: 1: time, 2: added, 3: removed, 4: unchanged, 5: skipped, 6: failed */
			__('Sync of %1$s: %2$d added, %3$d removed, %4$d unchanged, %5$d skipped, %6$d failed.', 'closte-native'),
			gmdate('Y-m-d H:i', $finished_at) . ' UTC',
			Sync_Plan::report_count($report, 'added'),
			Sync_Plan::report_count($report, 'removed'),
			$report['unchanged'],
			Sync_Plan::report_count($report, 'skipped'),
			Sync_Plan::report_count($report, 'failed')
		);
		if (is_array($report['cancelled'] ?? null)) {
			/* translators: 1: how many changes were made, 2: how many the run had */
			$summary .= ' ' . sprintf(__('Cancelled between two batches after %1$d of %2$d changes: the rest was not sent and nothing was removed. Make a new preview to finish.', 'closte-native'), (int) $report['cancelled']['done'], (int) $report['cancelled']['total']);
		}
		if ('' !== $report['listing']) {
			/* translators: %s: the error */
			$summary .= ' ' . sprintf(__('Closte\'s alias list could not be read: %s', 'closte-native'), $report['listing']);
		}
		printf('<div class="notice %s closte-native-sync-report"><p>%s</p></div>', $report['ok'] ? 'notice-success' : 'notice-error', esc_html($summary));
		self::render_warnings((array) ($report['warnings'] ?? []));
		// A report keeps the first Sync_State::SHOWN names of each list; the log has every one.
		/* translators: 1: how many are shown, 2: how many there are */
		$cut    = __('The first %1$d of %2$d are shown. The log (wu-logs/integration-closte.log) has every one.', 'closte-native');
		$tables = [
			'added'   => [__('Added', 'closte-native'), 'closte-native-added'],
			'removed' => [__('Removed', 'closte-native'), 'closte-native-removed'],
			'kept'    => [__('Confirmed but kept', 'closte-native'), 'closte-native-report-kept'],
			'skipped' => [__('Skipped', 'closte-native'), 'closte-native-skipped'],
			'failed'  => [__('Failed', 'closte-native'), 'closte-native-failed'],
		];
		foreach ($tables as $list => [$title, $class]) {
			$rows = (array) ($report[ $list ] ?? []);
			// added and removed are lists of names; the others map a name to its reason.
			self::table($title, in_array($list, ['added', 'removed'], true) ? array_fill_keys($rows, null) : $rows, $class, false, Sync_Plan::report_count($report, $list), $cut);
		}
	}

	/**
	 * A name in HTML that may wrap only after its dots and hyphens, never inside a label.
	 */
	private static function name_html(string $name): string {

		return (string) preg_replace('/([.\-])/', '$1<wbr>', esc_html($name));
	}

	/**
	 * A table of names, in natural order, with a header row.
	 *
	 * @param array<string, array|string|null> $rows     name => reason (Sync_Messages), text, or null (no reason column).
	 * @param bool                             $tickable A checkbox per row: name="unowned[]".
	 * @param int|null                         $total    How many the list has in all: a stored plan keeps
	 *                                                   the first Sync_State::SHOWN of each list, and the table says so.
	 * @param string|null                      $cut      What a cut table says, a format of (shown, total); default: the dry run lists them all.
	 */
	private static function table(string $title, array $rows, string $class, bool $tickable = false, ?int $total = null, ?string $cut = null): void {

		if ([] === $rows) {
			return;
		}
		uksort($rows, static fn ($a, $b) => strnatcasecmp((string) $a, (string) $b));
		$reasons = [] !== array_filter($rows, static fn ($reason) => null !== $reason);
		$id      = 'closte-native-' . sanitize_key($class);

		$total ??= count($rows);
		printf('<h3 id="%s">%s (%d)</h3>', esc_attr($id), esc_html($title), $total);
		if ($total > count($rows)) {
			printf(
				'<p class="closte-native-list-cut">%s</p>',
				esc_html(
					sprintf(
						/* translators: 1: how many are shown, 2: how many there are, 3: the command that lists them all */
						$cut ?? __('The first %1$d of %2$d are shown. %3$s lists them all.', 'closte-native'),
						count($rows),
						$total,
						'wp closte sync --dry-run'
					)
				)
			);
		}
		printf('<table class="widefat striped closte-native-table %s" aria-labelledby="%s"><thead><tr>', esc_attr($class), esc_attr($id));
		if ($tickable) {
			echo '<th scope="col" class="closte-native-check">' . esc_html__('Remove', 'closte-native') . '</th>';
		}
		echo '<th scope="col">' . esc_html__('Alias', 'closte-native') . '</th>';
		if ($reasons) {
			echo '<th scope="col">' . esc_html__('Reason', 'closte-native') . '</th>';
		}
		echo '</tr></thead><tbody>';
		$n = 0;
		foreach ($rows as $name => $reason) {
			$name = (string) $name;
			echo self::focus() === $name ? '<tr class="closte-native-focus">' : '<tr>';
			$code = '<code>' . self::name_html($name) . '</code>';
			if ($tickable) {
				$box = $id . '-' . (++$n);
				printf('<td class="closte-native-check"><input type="checkbox" class="closte-native-unowned-box" name="unowned[]" value="%s" id="%s"></td>', esc_attr($name), esc_attr($box));
				$code = sprintf('<label for="%s">%s</label>', esc_attr($box), $code);
			}
			echo '<td class="closte-native-name">' . $code . '</td>'; // phpcs:ignore WordPress.Security.EscapeOutput -- name_html escapes
			if ($reasons) {
				echo '<td class="closte-native-reason">' . esc_html(Sync_Messages::text($reason)) . '</td>';
			}
			echo '</tr>';
		}
		echo '</tbody></table>';
	}

	/**
	 * Where the name the operator came for is in the preview (or that a preview shows it).
	 *
	 * @param array|null $plan The plan on screen.
	 */
	private static function render_focus(?array $plan): void {

		$focus = self::focus();
		if ('' === $focus) {
			return;
		}
		$where = null;
		$lists = [
			'to_add'    => __('To add', 'closte-native'),
			'to_remove' => __('To remove (added by this plugin)', 'closte-native'),
			'unowned'   => __('Not added by this plugin: left alone', 'closte-native'),
			'kept'      => __('Kept', 'closte-native'),
			'skipped'   => __('Skipped', 'closte-native'),
		];
		foreach ($lists as $list => $title) {
			if (null !== $plan && array_key_exists($focus, (array) ($plan[ $list ] ?? []))) {
				$where = $title;
			}
		}
		if (null === $plan || empty($plan['listing_ok'])) {
			/* translators: %s: domain name */
			$text = sprintf(__('Preview the sync to see what it would do with %s; it is highlighted in the preview.', 'closte-native'), $focus);
		} elseif (null === $where) {
			/* translators: %s: domain name */
			$text = sprintf(__('%s needs no change in this preview: Closte holds it and the network uses it (unchanged), or neither does.', 'closte-native'), $focus);
		} else {
			/* translators: 1: domain name, 2: the list it is in */
			$text = sprintf(__('%1$s is listed under "%2$s" (highlighted).', 'closte-native'), $focus, $where);
		}
		printf('<div class="notice notice-info closte-native-sync-focus" data-domain="%s"><p>%s</p></div>', esc_attr($focus), esc_html($text));
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
