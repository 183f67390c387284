<?php
/**
 * Network Admin > Settings > Closte Domains: every site host and domain record with its alias,
 * DNS and certificate state, and the actions that fix it.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The table comes from Domain_Status (one cached /getdomains a minute, a bounded number of
 * queries whatever the number of domains); Domains_List_Table renders it with WordPress's own
 * list-table markup.
 *
 * Actions (per row and in bulk): add alias now (Alias_Changes::add, its ownership rules),
 * request certificate now (Certificate_Lifecycle::retry_now, which explains holds), re-check
 * certificate (one handshake; allowed more than once a day because the operator asks, and
 * logged as such). Each is a link or form to admin-post.php (capability, nonce, redirect with
 * the results shown once); assets/domains-page.js runs the same actions through admin-ajax
 * (the same checks) and shows the results, with the log lines each action wrote, in place.
 */
final class Domains_Page {

	const SLUG        = 'closte-native-domains';
	const SCREEN      = 'settings_page_closte-native-domains-network';
	const ACTION      = 'closte_native_domains';
	const AJAX_ACTION = 'closte_native_domains_run';

	/** The nonce action of every request of this page, sent as NONCE_FIELD. */
	const NONCE       = 'closte_native_domains';
	const NONCE_FIELD = 'closte_nonce';

	/** Per-user transient holding the results of the last plain (no JavaScript) request. */
	const FLASH = 'closte_native_domains_flash_';

	/** Network option: e-mail the drift report's findings to the network admin address. */
	const EMAIL_OPTION = 'closte_native_drift_email';

	const PER_PAGE = 50;

	/** How many names one request may act on (a page of the table, with room). */
	const MAX_NAMES = 100;

	/** The actions that run here, in the order they are offered. */
	const ACTIONS = ['add_alias', 'request_certificate', 'recheck_certificate'];

	/** Sortable columns (Domain_Status::rows orderby). */
	const ORDERBY = ['name', 'site', 'alias', 'certificate', 'expires', 'next'];

	public static function register(): void {

		add_action('network_admin_menu', [self::class, 'menu']);
		add_action('admin_post_' . self::ACTION, [self::class, 'handle']);
		add_action('wp_ajax_' . self::AJAX_ACTION, [self::class, 'ajax']);
	}

	public static function menu(): void {

		$hook = add_submenu_page('settings.php', __('Closte Domains', 'closte-native'), __('Closte Domains', 'closte-native'), 'manage_network_options', self::SLUG, [self::class, 'render']);
		if (is_string($hook) && '' !== $hook) {
			add_action('load-' . $hook, [self::class, 'load']);
		}
	}

	/** The page's table, made on load-{page}: see load(). */
	private static ?Domains_List_Table $table = null;

	/**
	 * On this page only: its script and styles, and its table. The table exists before the
	 * admin header is printed, as WordPress's own list tables do: the header reads the columns
	 * (screen options) once, and a table made later would find them cached empty.
	 */
	public static function load(): void {

		self::$table = self::table(self::view_args(wp_unslash($_GET))); // phpcs:ignore WordPress.Security.NonceVerification -- a view, no change

		add_action(
			'admin_enqueue_scripts',
			static function (): void {
				$main = CLOSTE_NATIVE_DIR . '/closte-native.php';
				wp_enqueue_style('closte-native-domains', plugins_url('assets/domains-page.css', $main), [], CLOSTE_NATIVE_VERSION);
				wp_enqueue_script('closte-native-domains', plugins_url('assets/domains-page.js', $main), [], CLOSTE_NATIVE_VERSION, true);
			}
		);
	}

	public static function url(array $args = []): string {

		$args = array_filter($args, static fn ($value) => '' !== $value && null !== $value && 1 !== $value);

		return add_query_arg(array_map('rawurlencode', array_map('strval', $args)), network_admin_url('settings.php?page=' . self::SLUG));
	}

	/** The id of a name's table row (and the base of its checkbox id). */
	public static function row_id(string $name): string {

		return 'closte-domain-' . md5($name);
	}

	/** A name in HTML that may wrap only after its dots and hyphens, never inside a label. */
	public static function name_html(string $name): string {

		return (string) preg_replace('/([.\-])/', '$1<wbr>', esc_html($name));
	}

	/**
	 * What the table shows, from a request's (unslashed) parameters (s, status, orderby, order,
	 * paged): anything unknown falls back to the default.
	 *
	 * @return array{search: string, status: string, orderby: string, order: string, page: int}
	 */
	public static function view_args(array $source): array {

		$orderby = sanitize_key((string) ($source['orderby'] ?? 'name'));
		$order   = strtolower((string) ($source['order'] ?? 'asc'));

		return [
			'search'  => trim(sanitize_text_field((string) ($source['s'] ?? ''))),
			'status'  => 'needs_attention' === ($source['status'] ?? '') ? 'needs_attention' : '',
			'orderby' => in_array($orderby, self::ORDERBY, true) ? $orderby : 'name',
			'order'   => 'desc' === $order ? 'desc' : 'asc',
			'page'    => max(1, (int) ($source['paged'] ?? 1)),
		];
	}

	/** A view as URL parameters (defaults left out). */
	public static function view_query(array $view): array {

		return [
			's'       => $view['search'],
			'status'  => $view['status'],
			'orderby' => 'name' === $view['orderby'] ? '' : $view['orderby'],
			'order'   => 'asc' === $view['order'] ? '' : $view['order'],
			'paged'   => $view['page'],
		];
	}

	public static function action_label(string $do): string {

		$labels = [
			'add_alias'           => __('Add alias now', 'closte-native'),
			'request_certificate' => __('Request certificate now', 'closte-native'),
			'recheck_certificate' => __('Re-check certificate', 'closte-native'),
		];

		return $labels[ $do ] ?? $do;
	}

	/** @return array<string, string> bulk action => label */
	public static function bulk_labels(): array {

		$labels = [];
		foreach (self::ACTIONS as $do) {
			$labels[ $do ] = self::action_label($do);
		}

		return $labels;
	}

	/** A certificate record state in words. */
	public static function state_label(string $state): string {

		$labels = [
			'waiting_dns' => __('Waiting for DNS', 'closte-native'),
			'requested'   => __('Requested', 'closte-native'),
			'active'      => __('Active', 'closte-native'),
			'expiring'    => __('Expiring', 'closte-native'),
			'problem'     => __('Problem', 'closte-native'),
			'backoff'     => __('Retrying', 'closte-native'),
			'held'        => __('Held', 'closte-native'),
			'unchecked'   => __('Not checked yet', 'closte-native'),
		];

		return $labels[ $state ] ?? $state;
	}

	/** The plain link of one action on one name (the script runs it through admin-ajax instead). */
	public static function action_url(string $do, string $name, array $view): string {

		return add_query_arg(
			array_map(
				'rawurlencode',
				array_filter(
					['action' => self::ACTION, 'do' => $do, 'domain' => $name, self::NONCE_FIELD => wp_create_nonce(self::NONCE)] + self::view_query($view),
					static fn ($value) => '' !== $value && 1 !== $value
				)
			),
			admin_url('admin-post.php')
		);
	}

	/**
	 * The list table (WordPress's base class loaded first).
	 *
	 * @param array $view view_args().
	 */
	public static function table(array $view): Domains_List_Table {

		require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';

		return new Domains_List_Table($view);
	}

	/**
	 * Runs one action on each name: the name must be one of the network's (a row of the table),
	 * checked before anything reaches Closte. Each result carries the log lines written while it
	 * ran.
	 *
	 * @param string[] $names Host names as submitted.
	 * @return list<array{name: string, ok: bool, message: string, log: string[]}>
	 */
	public static function run(string $do, array $names): array {

		$results = [];
		$added   = false;
		$rows    = null;
		foreach ($names as $submitted) {
			$name   = Network_Domains::normalise((string) $submitted);
			$rows ??= self::rows_by_name($names); // one build for the whole bulk action, not one per name
			$row    = '' === $name ? null : ($rows[ $name ] ?? null);
			if (null === $row) {
				$results[] = [
					'name'    => $name,
					'ok'      => false,
					/* translators: %s: domain name */
					'message' => sprintf(__('%s is not a site address or mapped domain of this network: nothing was done.', 'closte-native'), '' === $name ? '""' : $name),
					'log'     => [],
				];
				continue;
			}
			$lines   = [];
			$collect = static function (string $line) use (&$lines): void {
				$lines[] = $line;
			};
			add_action('closte_native_logged', $collect);
			try {
				$outcome = self::act($do, $row);
			} finally {
				remove_action('closte_native_logged', $collect);
			}
			$added     = $added || 'add_alias' === $do;
			$results[] = ['name' => $name, 'ok' => $outcome['ok'], 'message' => $outcome['message'], 'log' => $lines];
		}
		if ($added) {
			// The rows shown next must say what Closte holds now, not what it held a minute ago.
			Domain_Status::listing(true);
		}

		return $results;
	}

	/**
	 * @param array $row A Domain_Status row.
	 * @return array{ok: bool, message: string}
	 */
	private static function act(string $do, array $row): array {

		$name = (string) $row['name'];
		$user = get_current_user_id();
		if ('add_alias' === $do) {
			$result = Alias_Changes::add($name, (int) $row['site_id'], sprintf('Closte Domains page, user %d', $user));
			if (null === $result) {
				/* translators: %s: domain name */
				return ['ok' => false, 'message' => sprintf(__('%s: nothing was sent to Closte; the log line says why.', 'closte-native'), $name)];
			}
			if (! empty($result['ok'])) {
				return [
					'ok'      => true,
					'message' => 'added' === ($result['state'] ?? '')
						/* translators: %s: domain name */
						? sprintf(__('%s was added as an alias on Closte.', 'closte-native'), $name)
						/* translators: %s: domain name */
						: sprintf(__('%s was already an alias on Closte (not added by this plugin, so it is left in place when the domain is unmapped).', 'closte-native'), $name),
				];
			}
			return [
				'ok'      => false,
				/* translators: 1: domain name, 2: the error */
				'message' => sprintf(__('%1$s could not be added: %2$s', 'closte-native'), $name, (string) ($result['error'] ?? '')) . (! empty($result['retryable']) ? ' ' . __('It is retried automatically.', 'closte-native') : ''),
			];
		}
		if ('request_certificate' === $do) {
			$outcome = Certificate_Lifecycle::retry_now($name);
			Logger::log(sprintf('certificate for %s: "Request certificate now" by user %d on the Closte Domains page: %s', $name, $user, $outcome['message']), 'info', Logger::SSL_HANDLE);
			return ['ok' => (bool) $outcome['ok'], 'message' => (string) $outcome['message']];
		}

		return self::recheck($row, $user);
	}

	/**
	 * One handshake now, handed to the lifecycle like its own check. The daily watch checks a
	 * name at most once a day; the operator may ask again, and the log says so.
	 *
	 * @param array $row A Domain_Status row.
	 * @return array{ok: bool, message: string}
	 */
	private static function recheck(array $row, int $user): array {

		$name   = (string) $row['name'];
		$record = Certificate_Records::get($name);
		$last   = (int) ($record['certificate']['checked_at'] ?? 0);
		Logger::log(
			sprintf(
				'certificate for %s: re-check by user %d on the Closte Domains page%s',
				$name,
				$user,
				$last > time() - Certificate_Watch::RECHECK_AFTER ? sprintf(' (last handshake %s ago: a manual check beyond the one a day)', human_time_diff($last)) : ''
			),
			'info',
			Logger::SSL_HANDLE
		);
		try {
			$result = closte_verify_certificate($name);
		} catch (\Throwable $e) {
			/* translators: 1: domain name, 2: the error */
			return ['ok' => false, 'message' => sprintf(__('%1$s could not be checked: %2$s', 'closte-native'), $name, $e->getMessage())];
		}
		$certificate = is_array($result['certificate'] ?? null) ? $result['certificate'] : [];
		$status      = (string) ($certificate['status'] ?? 'unreachable');
		$detail      = (string) ($certificate['detail'] ?? $result['error'] ?? '');
		$good        = in_array($status, Certificate_Lifecycle::GOOD, true);
		$state       = null === $record ? null : (string) $record['state'];

		if ($good || null === $record || in_array($state, ['active', 'expiring', 'problem', 'unchecked'], true)) {
			// As the daily watch: a certificate that was good (or a name served before the
			// lifecycle) becomes active, expiring or a problem; nothing is requested.
			Certificate_Lifecycle::apply_verification($name, $result, 'watch');
		} elseif (in_array($state, ['requested', 'backoff'], true)) {
			// While a request is under way, the check counts as the lifecycle's own.
			Certificate_Lifecycle::apply_verification($name, $result, 'verify');
		} else {
			// Waiting for DNS or held: a failed check changes nothing (no request is due).
			Logger::log(sprintf('certificate for %s: re-check found %s: %s; the name stays %s', $name, $status, $detail, $state), 'info', Logger::SSL_HANDLE);
		}

		if ($good) {
			return [
				'ok'      => true,
				/* translators: 1: domain name, 2: status, 3: days left */
				'message' => sprintf(__('%1$s: the certificate is %2$s, %3$d days left.', 'closte-native'), $name, $status, (int) ($certificate['days_left'] ?? 0)),
			];
		}

		/* translators: 1: domain name, 2: status, 3: details */
		return ['ok' => false, 'message' => sprintf(__('%1$s: the certificate check found %2$s: %3$s', 'closte-native'), $name, $status, $detail)];
	}

	/**
	 * The names a request acts on: `domain` (a row link) or `domains[]` (the bulk form).
	 *
	 * @return string[]
	 */
	private static function requested_names(): array {

		// phpcs:disable WordPress.Security.NonceVerification -- the callers check the nonce first
		$names = isset($_REQUEST['domains']) ? (array) wp_unslash($_REQUEST['domains']) : [];
		if (isset($_REQUEST['domain'])) {
			$names[] = wp_unslash($_REQUEST['domain']);
		}
		// phpcs:enable

		return array_values(array_unique(array_filter(array_map(static fn ($n) => sanitize_text_field(is_scalar($n) ? (string) $n : ''), $names), 'strlen')));
	}

	/** The action a request asks for: `do` (a row link), else the bulk select (top, then bottom). */
	private static function requested_action(): string {

		// phpcs:disable WordPress.Security.NonceVerification -- the callers check the nonce first
		foreach (['do', 'bulk_action', 'bulk_action2'] as $field) {
			$value = sanitize_key(wp_unslash((string) ($_REQUEST[ $field ] ?? '')));
			if ('' !== $value && '-1' !== $value) {
				return $value;
			}
		}
		// phpcs:enable

		return '';
	}

	/** Why a request cannot run, before anything is done, or null. */
	private static function refusal(string $do, array $names): ?string {

		if (! in_array($do, self::ACTIONS, true)) {
			/* translators: 1: the action asked for, 2: the actions there are */
			return sprintf(__('Unknown action "%1$s"; the actions are %2$s.', 'closte-native'), $do, implode(', ', self::ACTIONS));
		}
		if ([] === $names) {
			return __('No domain selected: tick the domains to act on first.', 'closte-native');
		}
		if (count($names) > self::MAX_NAMES) {
			/* translators: %d: the limit */
			return sprintf(__('At most %d domains per request.', 'closte-native'), self::MAX_NAMES);
		}

		return null;
	}

	/** admin-post: a row link, the bulk form, the page box, or the e-mail setting; then back to the same view. */
	public static function handle(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::NONCE, self::NONCE_FIELD);

		$view = self::view_args(wp_unslash($_REQUEST));
		$do   = self::requested_action();
		if ('settings' === $do) {
			$email = ! empty($_POST[ self::EMAIL_OPTION ]);
			update_site_option(self::EMAIL_OPTION, $email ? '1' : '0');
			Logger::log(sprintf('Closte Domains page: user %d turned the drift report e-mail %s', get_current_user_id(), $email ? 'on' : 'off'));
			self::flash(['notice' => $email ? __('The daily drift report will be e-mailed to the network admin address when its findings change.', 'closte-native') : __('The daily drift report will not be e-mailed.', 'closte-native')]);
		} elseif ('' !== $do) {
			$names   = self::requested_names();
			$refusal = self::refusal($do, $names);
			self::flash(null === $refusal ? ['results' => self::run($do, $names)] : ['error' => $refusal]);
		}
		// No action: the page box or a search typed into the table form.
		wp_safe_redirect(self::url(self::view_query($view)));
		exit;
	}

	/** admin-ajax: the same actions, answered with the results and the refreshed rows. */
	public static function ajax(): void {

		if (! current_user_can('manage_network_options')) {
			wp_send_json_error(['message' => __('Sorry, you are not allowed to do that.', 'closte-native')], 403);
		}
		if (false === check_ajax_referer(self::NONCE, self::NONCE_FIELD, false)) {
			wp_send_json_error(['message' => __('The link you followed has expired. Reload the page.', 'closte-native')], 403);
		}
		$do      = self::requested_action();
		$names   = self::requested_names();
		$refusal = self::refusal($do, $names);
		if (null !== $refusal) {
			wp_send_json_error(['message' => $refusal], 400);
		}

		$results = self::run($do, $names);
		$view    = self::view_args(wp_unslash($_REQUEST));
		$table   = self::table($view);
		// The refreshed rows of the names acted on and the counts of every row, in one build.
		$all     = Domain_Status::rows(['names' => array_column($results, 'name'), 'per_page' => 0]);
		$rows    = array_column($all['rows'], null, 'name');
		foreach ($results as $i => $result) {
			$row                  = $rows[ $result['name'] ] ?? null;
			$results[ $i ]['row'] = null;
			if (null !== $row) {
				ob_start();
				$table->single_row($row);
				$results[ $i ]['row'] = (string) ob_get_clean();
			}
		}
		wp_send_json_success(['results' => $results, 'counts' => $all['counts']]);
	}

	/**
	 * The Domain_Status rows of $names by name (normalised), without those the network does
	 * not serve.
	 *
	 * @param string[] $names Host names as submitted.
	 * @return array<string, array>
	 */
	private static function rows_by_name(array $names): array {

		return array_column(Domain_Status::rows(['names' => array_map('strval', $names), 'per_page' => 0])['rows'], null, 'name');
	}

	private static function flash(array $flash): void {

		set_site_transient(self::FLASH . get_current_user_id(), $flash, 5 * MINUTE_IN_SECONDS);
	}

	/** The last plain request's outcome, once. */
	private static function take_flash(): ?array {

		$key   = self::FLASH . get_current_user_id();
		$flash = get_site_transient($key);
		if (! is_array($flash)) {
			return null;
		}
		delete_site_transient($key);

		return $flash;
	}

	public static function render(): void {

		$view  = self::view_args(wp_unslash($_GET)); // phpcs:ignore WordPress.Security.NonceVerification -- a view, no change
		$table = self::$table ?? self::table($view);
		$table->prepare_items();
		$flash   = self::take_flash();
		$listing = $table->listing();

		printf(
			'<div class="wrap closte-native-domains" id="closte-native-domains" data-working="%s" data-none-selected="%s">',
			esc_attr__('Working…', 'closte-native'),
			esc_attr__('No domain selected: tick the domains to act on first.', 'closte-native')
		);
		echo '<h1 class="wp-heading-inline">' . esc_html__('Closte Domains', 'closte-native') . '</h1>';
		printf(' <a href="%s" class="page-title-action">%s</a>', esc_url(Sync_Page::url()), esc_html__('Closte Sync', 'closte-native'));
		echo '<hr class="wp-header-end">';

		if (isset($listing['ok']) && ! $listing['ok']) {
			printf(
				'<div class="notice notice-error closte-native-listing-failed"><p>%s</p></div>',
				/* translators: %s: the error */
				esc_html(sprintf(__('Closte\'s alias list could not be read, so "Alias on Closte" shows Unknown: %s', 'closte-native'), (string) ($listing['error'] ?? '')))
			);
		}

		// The script writes each result here; a plain request's results are here after its redirect.
		echo '<div id="closte-native-domains-results" class="closte-native-domains-results" role="status" aria-live="polite" tabindex="-1">';
		if (null !== $flash) {
			self::render_flash($flash);
		}
		echo '</div>';

		echo '<p class="closte-native-domains-intro">' . esc_html__('Every site address and mapped domain of the network: whether Closte has it as an alias, who added it, whether its DNS points here, its certificate, and what happens next. Closte\'s alias list is read at most once a minute.', 'closte-native') . '</p>';

		$table->views();
		printf('<form method="get" action="%s" class="closte-native-domains-search">', esc_url(network_admin_url('settings.php')));
		printf('<input type="hidden" name="page" value="%s">', esc_attr(self::SLUG));
		if ('' !== $view['status']) {
			// WordPress's search box carries orderby and order itself.
			printf('<input type="hidden" name="status" value="%s">', esc_attr($view['status']));
		}
		$table->search_box(__('Search domains', 'closte-native'), 'closte-native-domain');
		echo '</form>';

		printf(
			'<form method="post" action="%s" id="closte-native-domains-form" data-ajax-url="%s" data-ajax-action="%s">',
			esc_url(admin_url('admin-post.php')),
			esc_url(admin_url('admin-ajax.php')),
			esc_attr(self::AJAX_ACTION)
		);
		wp_nonce_field(self::NONCE, self::NONCE_FIELD, false);
		printf('<input type="hidden" name="action" value="%s">', esc_attr(self::ACTION));
		foreach (['s', 'status', 'orderby', 'order'] as $field) {
			$value = self::view_query($view)[ $field ];
			if ('' !== $value) {
				printf('<input type="hidden" name="%s" value="%s">', esc_attr($field), esc_attr((string) $value));
			}
		}
		$table->display();
		echo '</form>';

		self::render_settings();
		self::render_log_link();
		echo '</div>';
	}

	private static function render_flash(array $flash): void {

		if (isset($flash['error'])) {
			printf('<div class="notice notice-error"><p>%s</p></div>', esc_html((string) $flash['error']));
		}
		if (isset($flash['notice'])) {
			printf('<div class="notice notice-success"><p>%s</p></div>', esc_html((string) $flash['notice']));
		}
		foreach ((array) ($flash['results'] ?? []) as $result) {
			printf('<div class="notice %s closte-native-domains-result" data-name="%s"><p>%s</p>', ! empty($result['ok']) ? 'notice-success' : 'notice-error', esc_attr((string) $result['name']), esc_html((string) $result['message']));
			if ([] !== (array) $result['log']) {
				echo '<ul class="closte-native-log-lines">';
				foreach ((array) $result['log'] as $line) {
					echo '<li><code>' . esc_html((string) $line) . '</code></li>';
				}
				echo '</ul>';
			}
			echo '</div>';
		}
	}

	/** The drift report's e-mail switch (the report itself runs daily either way). */
	private static function render_settings(): void {

		printf('<h2>%s</h2>', esc_html__('Daily drift report', 'closte-native'));
		printf('<form method="post" action="%s" id="closte-native-domains-settings">', esc_url(admin_url('admin-post.php')));
		wp_nonce_field(self::NONCE, self::NONCE_FIELD, false);
		printf('<input type="hidden" name="action" value="%s"><input type="hidden" name="do" value="settings">', esc_attr(self::ACTION));
		printf(
			'<p><label for="closte-native-drift-email"><input type="checkbox" name="%s" value="1" id="closte-native-drift-email"%s> %s</label></p>',
			esc_attr(self::EMAIL_OPTION),
			checked('1', (string) get_site_option(self::EMAIL_OPTION, '0'), false),
			esc_html(
				sprintf(
					/* translators: %s: e-mail address */
					__('E-mail the findings to the network admin address (%s) when they change. The report only reports: it never adds or removes an alias.', 'closte-native'),
					(string) get_site_option('admin_email')
				)
			)
		);
		echo '<p><button type="submit" class="button" id="closte-native-drift-save">' . esc_html__('Save', 'closte-native') . '</button></p></form>';
	}

	private static function render_log_link(): void {

		$dir  = wp_upload_dir(null, false)['basedir'] . '/wu-logs/';
		$text = esc_html(sprintf(/* translators: 1, 2: file paths */ __('Every action is logged in %1$s and %2$s.', 'closte-native'), $dir . Logger::HANDLE . '.log', $dir . Logger::SSL_HANDLE . '.log'));
		echo '<p class="description">' . $text . '</p>'; // phpcs:ignore WordPress.Security.EscapeOutput -- escaped above
	}
}
