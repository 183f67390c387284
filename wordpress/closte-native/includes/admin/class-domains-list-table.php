<?php
/**
 * The table of the Closte Domains page: WordPress's own list table, fed by Domain_Status.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * WordPress's list table markup (sortable headers, pagination, search box, views, bulk
 * actions, the primary column with its toggle on narrow screens) over Domain_Status::rows().
 * Loaded only after wp-admin/includes/class-wp-list-table.php (Domains_Page::table()).
 *
 * The bulk-action selects are named bulk_action / bulk_action2 instead of WordPress's
 * action / action2: the form posts to admin-post.php, which routes on `action`.
 */
final class Domains_List_Table extends \WP_List_Table {

	/** @var array{all: int, needs_attention: int} */
	private array $counts = ['all' => 0, 'needs_attention' => 0];

	/** @var array{ok: bool, domains: string[], error: ?string, fetched_at: int}|array */
	private array $listing = [];

	/** @var array{search: string, status: string, orderby: string, order: string, page: int} */
	private array $view;

	/** How many bulk-action selects were printed (the second one is the bottom's). */
	private int $bulk_selects = 0;

	/**
	 * @param array $view Domains_Page::view_args().
	 */
	public function __construct(array $view) {

		$this->view = $view;
		parent::__construct(
			[
				'singular' => 'closte-domain',
				'plural'   => 'closte-domains',
				'ajax'     => false,
				'screen'   => Domains_Page::SCREEN,
			]
		);
	}

	public function prepare_items(): void {

		$result = Domain_Status::rows(
			[
				'search'   => $this->view['search'],
				'status'   => $this->view['status'],
				'orderby'  => $this->view['orderby'],
				'order'    => $this->view['order'],
				'page'     => $this->view['page'],
				'per_page' => Domains_Page::PER_PAGE,
			]
		);

		$this->items   = $result['rows'];
		$this->counts  = $result['counts'];
		$this->listing = (array) $result['listing'];
		$this->set_pagination_args(
			[
				'total_items' => (int) $result['total'],
				'per_page'    => Domains_Page::PER_PAGE,
				'total_pages' => (int) ceil($result['total'] / Domains_Page::PER_PAGE),
			]
		);
	}

	/** @return array{ok: bool, domains: string[], error: ?string, fetched_at: int}|array */
	public function listing(): array {

		return $this->listing;
	}

	/** @return array{all: int, needs_attention: int} */
	public function counts(): array {

		return $this->counts;
	}

	public function get_columns(): array {

		return [
			'cb'          => '<input type="checkbox">',
			'name'        => __('Domain', 'closte-native'),
			'site'        => __('Site', 'closte-native'),
			'alias'       => __('Alias on Closte', 'closte-native'),
			'twin'        => __('Twin', 'closte-native'),
			'dns'         => __('DNS', 'closte-native'),
			'certificate' => __('Certificate', 'closte-native'),
			'expires'     => __('Expires', 'closte-native'),
			'next'        => __('Next action', 'closte-native'),
			'error'       => __('Last error', 'closte-native'),
		];
	}

	protected function get_sortable_columns(): array {

		$sortable = [];
		foreach (Domains_Page::ORDERBY as $column) {
			$sortable[ $column ] = [$column, false];
		}

		return $sortable;
	}

	protected function get_primary_column_name(): string {

		return 'name';
	}

	public function get_bulk_actions(): array {

		return Domains_Page::bulk_labels();
	}

	/**
	 * WordPress's bulk-action markup, with selects named bulk_action / bulk_action2.
	 *
	 * @param string $which top|bottom.
	 */
	protected function bulk_actions($which = ''): void {

		$actions = $this->get_bulk_actions();
		$two     = $this->bulk_selects++ > 0 ? '2' : '';
		printf('<label for="bulk-action-selector-%s" class="screen-reader-text">%s</label>', esc_attr($which), esc_html__('Select bulk action', 'closte-native'));
		printf('<select name="bulk_action%s" id="bulk-action-selector-%s">', esc_attr($two), esc_attr($which));
		echo '<option value="-1">' . esc_html__('Bulk actions', 'closte-native') . '</option>';
		foreach ($actions as $key => $label) {
			printf('<option value="%s">%s</option>', esc_attr($key), esc_html($label));
		}
		echo '</select>';
		submit_button(__('Apply', 'closte-native'), 'action', '', false, ['id' => 'doaction' . $two]);
	}

	protected function get_views(): array {

		$views = [];
		$links = [
			''                => __('All', 'closte-native'),
			'needs_attention' => __('Needs attention', 'closte-native'),
		];
		foreach ($links as $status => $label) {
			$count   = '' === $status ? $this->counts['all'] : $this->counts['needs_attention'];
			$current = $status === $this->view['status'];
			$views[ '' === $status ? 'all' : $status ] = sprintf(
				'<a href="%s"%s>%s <span class="count">(<span class="closte-native-count" data-view="%s">%d</span>)</span></a>',
				esc_url(Domains_Page::url(['status' => $status, 's' => $this->view['search']])),
				$current ? ' class="current" aria-current="page"' : '',
				esc_html($label),
				esc_attr('' === $status ? 'all' : $status),
				$count
			);
		}

		return $views;
	}

	public function no_items(): void {

		if ('' !== $this->view['search']) {
			/* translators: %s: the search text */
			printf(esc_html__('No domain matches "%s".', 'closte-native'), esc_html($this->view['search']));
		} elseif ('needs_attention' === $this->view['status']) {
			esc_html_e('No domain needs attention.', 'closte-native');
		} else {
			esc_html_e('No site or mapped domain on this network.', 'closte-native');
		}
	}

	/**
	 * One row, with the name as data attribute and a stable id for the script's refresh.
	 *
	 * @param array $item A Domain_Status row.
	 */
	public function single_row($item): void {

		printf(
			'<tr id="%s" data-name="%s" class="%s">',
			esc_attr(Domains_Page::row_id((string) $item['name'])),
			esc_attr((string) $item['name']),
			! empty($item['needs_attention']) ? 'closte-native-needs-attention' : ''
		);
		$this->single_row_columns($item);
		echo '</tr>';
	}

	/** @param array $item A Domain_Status row. */
	protected function column_cb($item): string {

		$id = 'cb-' . Domains_Page::row_id((string) $item['name']);

		return sprintf(
			'<label class="screen-reader-text" for="%1$s">%2$s</label><input type="checkbox" id="%1$s" name="domains[]" value="%3$s">',
			esc_attr($id),
			/* translators: %s: domain name */
			esc_html(sprintf(__('Select %s', 'closte-native'), $item['name'])),
			esc_attr((string) $item['name'])
		);
	}

	/** @param array $item A Domain_Status row. */
	protected function column_name($item): string {

		$kinds = [
			'site'   => __('site address', 'closte-native'),
			'domain' => __('mapped domain', 'closte-native'),
			'twin'   => __('www twin', 'closte-native'),
		];
		$html  = '<strong class="closte-native-name"><code>' . Domains_Page::name_html((string) $item['name']) . '</code></strong>';
		$html .= ' <span class="closte-native-kind">' . esc_html($kinds[ $item['kind'] ] ?? (string) $item['kind']) . '</span>';
		if (! empty($item['needs_attention'])) {
			$html .= '<span class="closte-native-attention">' . esc_html__('Needs attention', 'closte-native') . '</span><ul class="closte-native-attention-list">';
			foreach ((array) $item['attention'] as $code) {
				$html .= '<li data-code="' . esc_attr((string) $code) . '">' . esc_html(Domain_Status::attention_text((string) $code)) . '</li>';
			}
			$html .= '</ul>';
		}

		return $html;
	}

	/**
	 * The row's actions: links to admin-post.php (no JavaScript) that the script runs through
	 * admin-ajax in place; always visible, so they are reachable by keyboard and on a phone.
	 *
	 * @param array  $item        A Domain_Status row.
	 * @param string $column_name The column.
	 * @param string $primary     The primary column.
	 */
	protected function handle_row_actions($item, $column_name, $primary): string {

		if ($column_name !== $primary) {
			return '';
		}
		$name     = (string) $item['name'];
		$wildcard = str_starts_with($name, '*.');
		$actions  = [];
		foreach (Domains_Page::ACTIONS as $do) {
			if ('add_alias' === $do && 'yes' === $item['alias']) {
				continue;
			}
			if ('add_alias' !== $do && $wildcard) {
				continue; // Closte issues wildcard certificates itself; no request or handshake here
			}
			$actions[ $do ] = sprintf(
				'<a href="%s" class="closte-native-run" data-action="%s" data-name="%s">%s<span class="screen-reader-text"> %s</span></a>',
				esc_url(Domains_Page::action_url($do, $name, $this->view)),
				esc_attr($do),
				esc_attr($name),
				esc_html(Domains_Page::action_label($do)),
				esc_html($name)
			);
		}
		$actions['sync'] = sprintf(
			'<a href="%s" class="closte-native-sync-link">%s<span class="screen-reader-text"> %s</span></a>',
			esc_url(Sync_Page::url(['domain' => $name])),
			esc_html__('Sync preview', 'closte-native'),
			esc_html($name)
		);

		return $this->row_actions($actions, true);
	}

	/** @param array $item A Domain_Status row. */
	protected function column_site($item): string {

		$site_id = (int) $item['site_id'];
		if ($site_id <= 0) {
			return '&mdash;';
		}

		return sprintf(
			'<a href="%s">%s</a>',
			esc_url(network_admin_url('site-info.php?id=' . $site_id)),
			/* translators: %d: site id */
			esc_html(sprintf(__('Site %d', 'closte-native'), $site_id))
		);
	}

	/** @param array $item A Domain_Status row. */
	protected function column_alias($item): string {

		$alias = [
			'yes'     => __('Yes', 'closte-native'),
			'no'      => __('No', 'closte-native'),
			'unknown' => __('Unknown', 'closte-native'),
		];
		$owner = [
			'plugin' => __('added by this plugin', 'closte-native'),
			'before' => __('there before (not added by this plugin)', 'closte-native'),
		];
		$html = sprintf('<span class="closte-native-alias closte-native-alias-%s">%s</span>', esc_attr((string) $item['alias']), esc_html($alias[ $item['alias'] ] ?? (string) $item['alias']));
		if ('yes' === $item['alias'] && isset($owner[ $item['owner'] ])) {
			$html .= '<br><span class="closte-native-owner">' . esc_html($owner[ $item['owner'] ]) . '</span>';
		}

		return $html;
	}

	/** @param array $item A Domain_Status row. */
	protected function column_twin($item): string {

		return null === $item['twin'] ? '&mdash;' : '<code>' . Domains_Page::name_html((string) $item['twin']) . '</code>';
	}

	/** @param array $item A Domain_Status row. */
	protected function column_dns($item): string {

		$labels = [
			'ready'     => __('Ready', 'closte-native'),
			'not_ready' => __('Not ready', 'closte-native'),
			'unknown'   => __('Not checked', 'closte-native'),
		];
		$html   = sprintf('<span class="closte-native-dns-%s">%s</span>', esc_attr((string) $item['dns']), esc_html($labels[ $item['dns'] ] ?? (string) $item['dns']));
		if (null !== $item['dns_reason'] && '' !== (string) $item['dns_reason']) {
			$html .= '<br><span class="description">' . esc_html((string) $item['dns_reason']) . '</span>';
		}

		return $html;
	}

	/** @param array $item A Domain_Status row. */
	protected function column_certificate($item): string {

		if (null === $item['certificate']) {
			return '<span class="closte-native-certificate-none">' . esc_html__('Not followed', 'closte-native') . '</span>';
		}
		$html = sprintf('<span class="closte-native-certificate-state" data-state="%s">%s</span>', esc_attr((string) $item['certificate']), esc_html(Domains_Page::state_label((string) $item['certificate'])));
		if (null !== $item['certificate_status'] && $item['certificate_status'] !== $item['certificate']) {
			$html .= ' <span class="closte-native-certificate-status">(' . esc_html((string) $item['certificate_status']) . ')</span>';
		}
		if (null !== $item['issuer'] && '' !== (string) $item['issuer']) {
			/* translators: %s: certificate issuer */
			$html .= '<br>' . esc_html(sprintf(__('Issuer: %s', 'closte-native'), $item['issuer']));
		}
		if (null !== $item['checked_at']) {
			/* translators: %s: how long ago, e.g. "5 mins" */
			$html .= '<br><span class="description">' . esc_html(sprintf(__('Checked %s ago', 'closte-native'), human_time_diff((int) $item['checked_at']))) . '</span>';
		}

		return $html;
	}

	/** @param array $item A Domain_Status row. */
	protected function column_expires($item): string {

		if (null === $item['expires_at']) {
			return '&mdash;';
		}
		$days = (int) $item['days_left'];

		return esc_html(
			$days < 0
				/* translators: 1: date, 2: days */
				? sprintf(_n('Expired %1$s (%2$d day ago)', 'Expired %1$s (%2$d days ago)', -$days, 'closte-native'), gmdate('Y-m-d', (int) $item['expires_at']), -$days)
				/* translators: 1: days, 2: date */
				: sprintf(_n('In %1$d day (%2$s)', 'In %1$d days (%2$s)', $days, 'closte-native'), $days, gmdate('Y-m-d', (int) $item['expires_at']))
		);
	}

	/** @param array $item A Domain_Status row. */
	protected function column_next($item): string {

		$next = $item['next_action'];
		if (! is_array($next)) {
			return '&mdash;';
		}
		$at = (int) $next['at'];

		return esc_html((string) $next['label']) . '<br><span class="description">' . esc_html(
			$at <= time()
				? __('due now', 'closte-native')
				/* translators: %s: how long from now, e.g. "5 mins" */
				: sprintf(__('in %s', 'closte-native'), human_time_diff(time(), $at))
		) . '</span>';
	}

	/** @param array $item A Domain_Status row. */
	protected function column_error($item): string {

		return null === $item['last_error'] || '' === (string) $item['last_error'] ? '&mdash;' : '<span class="closte-native-error">' . esc_html((string) $item['last_error']) . '</span>';
	}
}
