<?php
/**
 * Each domain's Closte state on Ultimate Multisite's own network-admin screens: the domain list
 * and the edit-domain page.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Only hooks that Ultimate Multisite's source offers (read in kenedytorcatt/ultimate-multisite,
 * v2.4.10 for the 2.4 generation and 2.4.12 / 2.4.13-beta.1+ for the registry generation; see
 * docs/ultimate-multisite.md):
 *
 * - `wu_domain_list_column_domain` ($html, $item) — inc/list-tables/class-domain-list-table.php,
 *   column_domain(), registry generation only (added in 2.4.12 with the registry; absent in
 *   2.4.10). The Closte state (alias, certificate and days left, needs-attention marker) goes
 *   under the domain's name. There is no filter of UM's own for the list's columns, and a
 *   column added through WordPress's `manage_domain_list_table-network_columns` would be
 *   rendered by Base_List_Table::column_default(), which calls $item->get_{column}() on the
 *   Domain model: a fatal error. So the state lives in the Domain column.
 * - `wu_list_row_actions` ($actions, $table_id) — inc/list-tables/class-base-list-table.php,
 *   row_actions(), both generations. It fires for every UM list table (so the table id
 *   'domain_list_table' is checked) and passes no item: the row's domain is the one the column
 *   filter just saw (it runs first, in the same column_domain() call), else the `id` of the
 *   row's own Edit action (wu_network_admin_url('wp-ultimo-edit-domain', [id, model])). In 2.4
 *   (no column filter) the "Closte status" action carries the state itself.
 * - `wu_page_wp-ultimo-edit-domain_register_widgets` ($id, $page_hook, $page) —
 *   inc/admin-pages/class-base-admin-page.php, fire_register_widgets_hook() on
 *   load-{page_hook} at 21, "allows addons to add their own widgets", both generations (since
 *   2.4.10). The box is WordPress's add_meta_box() on get_current_screen()->id, as the page
 *   adds its own 'wp-ultimo-domain-log' box (class-domain-edit-admin-page.php); views/base/edit.php
 *   prints 'side' with do_meta_boxes($screen->id, 'side', $object), so the box's callback gets the
 *   Domain model.
 *
 * The box sits inside the edit page's <form method="post">: its actions are links (GET), the
 * Closte Domains page's own (Domains_Page::action_url: admin-post with its nonce, capability
 * and nonce checked there, back to the page searched for the name with the result shown).
 * Everything is shown to users who may manage network options only (the Closte Domains
 * page's capability); the data is Domain_Status's (one listing per minute, no request per row).
 */
final class Domain_Screens {

	/** Base_List_Table::get_table_id() of Domain_List_Table: its class name, lowercased. */
	const LIST_TABLE_ID = 'domain_list_table';

	/** Domain_Edit_Admin_Page's $id. */
	const EDIT_PAGE_ID = 'wp-ultimo-edit-domain';

	/** The id of our box on the edit page. */
	const BOX_ID = 'closte-native-domain-status';

	/** The key of our row action. */
	const ROW_ACTION = 'closte_status';

	const CAPABILITY = 'manage_network_options';

	/** @var object|null The item the column filter saw last (the row being rendered). */
	private static $column_item = null;

	/** @var array|null Domain_Status::index() of this request. */
	private static ?array $index = null;

	/** @var array<string, array|null> The Domain_Status rows built in this request, by name (null: not served). */
	private static array $rows = [];

	public static function register(): void {

		add_filter('wu_domain_list_column_domain', [self::class, 'column_domain'], 10, 2);
		add_filter('wu_list_row_actions', [self::class, 'row_actions'], 10, 2);
		add_action('wu_page_' . self::EDIT_PAGE_ID . '_register_widgets', [self::class, 'add_box'], 10, 3);
	}

	/**
	 * Registry generation: the state under the domain's name.
	 *
	 * @param string $html The column's HTML.
	 * @param object $item The Domain model.
	 */
	public static function column_domain($html, $item) {

		self::$column_item = null;
		if (! is_object($item) || ! method_exists($item, 'get_domain') || ! current_user_can(self::CAPABILITY)) {
			return $html;
		}
		self::$column_item = $item;
		$name              = (string) $item->get_domain();

		return $html . '<div class="closte-native-um-state" data-closte-domain="' . esc_attr($name) . '">' . self::summary($name) . '</div>';
	}

	/**
	 * Both generations: "Closte status", a link to the Closte Domains page for this name.
	 *
	 * @param array  $actions  Row actions (HTML by key).
	 * @param string $table_id The list table's id.
	 */
	public static function row_actions($actions, $table_id) {

		if (self::LIST_TABLE_ID !== $table_id || ! is_array($actions) || ! current_user_can(self::CAPABILITY)) {
			return $actions;
		}
		$id = self::edit_action_id($actions);
		if (null === $id) {
			return $actions;
		}
		$shown_in_column = null !== self::$column_item && method_exists(self::$column_item, 'get_id') && (int) self::$column_item->get_id() === $id;
		$item            = $shown_in_column ? self::$column_item : wu_get_domain($id);
		self::$column_item = null;
		if (! is_object($item)) {
			return $actions;
		}
		$name  = (string) $item->get_domain();
		$label = esc_html__('Closte status', 'closte-native');
		if (! $shown_in_column) {
			// 2.4: no column filter, so the action also carries the state.
			$label .= ' <span class="closte-native-um-state" data-closte-domain="' . esc_attr($name) . '">' . self::summary($name) . '</span>';
		}
		$actions[ self::ROW_ACTION ] = sprintf('<a href="%s">%s</a>', esc_url(self::page_url($name)), $label);

		return $actions;
	}

	/**
	 * The domain id of the row, read from its Edit action's link (the filter passes no item).
	 *
	 * @param array $actions Row actions (HTML by key).
	 */
	private static function edit_action_id(array $actions): ?int {

		if (! isset($actions['edit']) || ! preg_match('/href=["\']([^"\']+)["\']/', (string) $actions['edit'], $m)) {
			return null;
		}
		parse_str((string) wp_parse_url(html_entity_decode($m[1]), PHP_URL_QUERY), $query);
		if (self::EDIT_PAGE_ID !== ($query['page'] ?? null) || ! isset($query['id']) || ! preg_match('/^[1-9][0-9]*$/', (string) $query['id'])) {
			return null;
		}

		return (int) $query['id'];
	}

	/**
	 * The edit-domain page: our box in the side column.
	 *
	 * @param string $page_id   The page's id.
	 * @param string $page_hook The page's hook.
	 * @param object $page      The page.
	 */
	public static function add_box($page_id = '', $page_hook = '', $page = null): void {

		if (! current_user_can(self::CAPABILITY) || ! function_exists('get_current_screen') || null === get_current_screen()) {
			return;
		}
		add_meta_box(self::BOX_ID, __('Closte', 'closte-native'), [self::class, 'render_box'], get_current_screen()->id, 'side', 'default');
	}

	/**
	 * The box: the row's details and links to the Closte Domains page's actions.
	 *
	 * @param object $item The Domain model (do_meta_boxes' $object).
	 */
	public static function render_box($item): void {

		if (! is_object($item) || ! method_exists($item, 'get_domain')) {
			return;
		}
		$name = (string) $item->get_domain();
		$row  = self::row($name);
		echo '<div class="closte-native-um-box" data-closte-domain="' . esc_attr($name) . '">';
		if (null === $row) {
			echo '<p>' . esc_html__('This name is not in the Closte Domains list yet.', 'closte-native') . '</p>';
		} else {
			echo '<p>' . self::summary($name) . '</p>'; // phpcs:ignore WordPress.Security.EscapeOutput -- escaped in summary()
			echo '<dl class="closte-native-um-details">';
			foreach (self::details($row) as $label => $value) {
				printf('<dt>%s</dt><dd>%s</dd>', esc_html($label), esc_html($value));
			}
			echo '</dl>';
			if (! empty($row['attention'])) {
				echo '<ul class="closte-native-um-attention">';
				foreach ((array) $row['attention'] as $code) {
					echo '<li>' . esc_html(Domain_Status::attention_text((string) $code)) . '</li>';
				}
				echo '</ul>';
			}
			echo self::action_links($name, $row); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped in action_links()
		}
		printf('<p><a class="button" href="%s">%s</a></p>', esc_url(self::page_url($name)), esc_html__('Open in Closte Domains', 'closte-native'));
		echo '</div>';
	}

	/**
	 * The row's details, label => text, as the box shows them.
	 *
	 * @param array $row A Domain_Status row.
	 * @return array<string, string>
	 */
	private static function details(array $row): array {

		$none    = __('—', 'closte-native');
		$when    = static fn ($time) => is_int($time) ? wp_date(get_option('date_format') . ' ' . get_option('time_format'), $time) : $none;
		$details = [
			__('Alias on Closte', 'closte-native') => self::alias_text((string) ($row['alias'] ?? 'unknown')),
			__('Added by', 'closte-native')        => self::owner_text((string) ($row['owner'] ?? 'none')),
			__('www twin', 'closte-native')        => isset($row['twin']) ? (string) $row['twin'] : $none,
			__('DNS', 'closte-native')             => self::dns_text($row),
			__('Certificate', 'closte-native')     => self::certificate_text($row),
			__('Issuer', 'closte-native')          => isset($row['issuer']) && '' !== $row['issuer'] ? (string) $row['issuer'] : $none,
			__('Expires', 'closte-native')         => $when($row['expires_at'] ?? null),
			__('Last checked', 'closte-native')    => $when($row['checked_at'] ?? null),
			__('Next', 'closte-native')            => is_array($row['next_action'] ?? null)
				/* translators: 1: what happens next, 2: when */
				? sprintf(__('%1$s at %2$s', 'closte-native'), (string) $row['next_action']['label'], $when($row['next_action']['at'] ?? null))
				: $none,
			__('Last error', 'closte-native')      => isset($row['last_error']) && '' !== $row['last_error'] ? (string) $row['last_error'] : $none,
		];

		return $details;
	}

	/**
	 * The compact state (HTML, escaped): alias mark, certificate state and days left, and the
	 * needs-attention marker.
	 *
	 * @param string $name A domain name.
	 */
	private static function summary(string $name): string {

		$row = self::row($name);
		if (null === $row) {
			return '<span class="closte-native-um-unknown">' . esc_html__('Closte: not listed yet', 'closte-native') . '</span>';
		}
		$alias  = (string) ($row['alias'] ?? 'unknown');
		$mark   = ['yes' => '✓', 'no' => '✗'][ $alias ] ?? '?';
		$parts  = [
			sprintf(
				'<span class="closte-native-um-alias closte-native-um-alias-%1$s">%2$s <span aria-hidden="true">%3$s</span><span class="screen-reader-text">%4$s</span></span>',
				esc_attr($alias),
				esc_html__('Alias', 'closte-native'),
				esc_html($mark),
				esc_html(self::alias_text($alias))
			),
			'<span class="closte-native-um-certificate">' . esc_html(self::certificate_text($row)) . '</span>',
		];
		if (! empty($row['needs_attention'])) {
			$why     = implode(' ', array_map(static fn ($code) => Domain_Status::attention_text((string) $code), (array) ($row['attention'] ?? [])));
			$parts[] = sprintf('<span class="closte-native-um-attention" title="%s">⚠ %s</span>', esc_attr($why), esc_html__('needs attention', 'closte-native'));
		}

		return implode(' · ', $parts);
	}

	private static function alias_text(string $alias): string {

		switch ($alias) {
			case 'yes':
				return __('yes', 'closte-native');
			case 'no':
				return __('no', 'closte-native');
			default:
				return __('unknown (Closte could not be asked)', 'closte-native');
		}
	}

	private static function owner_text(string $owner): string {

		switch ($owner) {
			case 'plugin':
				return __('this plugin', 'closte-native');
			case 'before':
				return __('there before', 'closte-native');
			default:
				return __('—', 'closte-native');
		}
	}

	private static function dns_text(array $row): string {

		$dns  = (string) ($row['dns'] ?? 'unknown');
		$text = 'ready' === $dns ? __('ready', 'closte-native') : ('not_ready' === $dns ? __('not ready', 'closte-native') : __('unknown', 'closte-native'));
		if (! empty($row['dns_reason'])) {
			$text .= ' (' . (string) $row['dns_reason'] . ')';
		}

		return $text;
	}

	/** The certificate's state, and the days left when known: "active, 42 days left". */
	private static function certificate_text(array $row): string {

		$labels = [
			'waiting_dns' => __('waiting for DNS', 'closte-native'),
			'requested'   => __('requested', 'closte-native'),
			'active'      => __('active', 'closte-native'),
			'expiring'    => __('expiring', 'closte-native'),
			'problem'     => __('problem', 'closte-native'),
			'backoff'     => __('retrying', 'closte-native'),
			'held'        => __('held', 'closte-native'),
		];
		$state  = $row['certificate'] ?? null;
		if (null === $state) {
			return __('no certificate yet', 'closte-native');
		}
		/* translators: %s: a certificate state */
		$text = sprintf(__('certificate %s', 'closte-native'), $labels[ $state ] ?? (string) $state);
		if (! empty($row['certificate_status']) && 'problem' === $state) {
			$text .= ' (' . (string) $row['certificate_status'] . ')';
		}
		if (is_int($row['days_left'] ?? null)) {
			/* translators: %d: days until the certificate expires */
			$text .= ', ' . sprintf(_n('%d day left', '%d days left', $row['days_left'], 'closte-native'), $row['days_left']);
		}

		return $text;
	}

	/**
	 * One name's row. Domain_Status::index() (what every row is searched, counted and sorted
	 * on, in bounded memory whatever the number of domains) is read once per request here, and
	 * each row of the screen is then built alone from it with its own records: the list shows a
	 * page of domains, never all of them.
	 *
	 * @param string $name A domain name.
	 */
	private static function row(string $name): ?array {

		$name = Network_Domains::normalise($name);
		if (! array_key_exists($name, self::$rows)) {
			self::$index       ??= Domain_Status::index();
			self::$rows[ $name ] = Domain_Status::rows(['names' => [$name], 'per_page' => 0], self::$index)['rows'][0] ?? null;
		}

		return self::$rows[ $name ];
	}

	/** The Closte Domains page, searched for this name (a plain GET: showing the page needs no nonce). */
	private static function page_url(string $name): string {

		return Domains_Page::url(['s' => $name]);
	}

	/**
	 * The box's action links: the Closte Domains page's own, with the rule of its rows (add the
	 * alias unless Closte lists it), each behind the page's capability and nonce check and
	 * coming back to the page searched for this name, where the result and its log lines show;
	 * and the Sync preview for this name.
	 *
	 * @param string $name A domain name.
	 * @param array  $row  Its Domain_Status row.
	 */
	private static function action_links(string $name, array $row): string {

		$view  = Domains_Page::view_args(['s' => $name]);
		$links = [];
		foreach (Domains_Page::ACTIONS as $do) {
			if ('add_alias' === $do && 'yes' === ($row['alias'] ?? null)) {
				continue;
			}
			$links[] = sprintf('<a class="closte-native-um-action" data-action="%s" href="%s">%s</a>', esc_attr($do), esc_url(Domains_Page::action_url($do, $name, $view)), esc_html(Domains_Page::action_label($do)));
		}
		$links[] = sprintf('<a class="closte-native-um-action" data-action="sync" href="%s">%s</a>', esc_url(Sync_Page::url(['domain' => $name])), esc_html__('Sync preview', 'closte-native'));

		return '<ul class="closte-native-um-actions"><li>' . implode('</li><li>', $links) . '</li></ul>';
	}
}
