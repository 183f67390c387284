<?php
/**
 * The network admin notice of certificates that need the operator, with a "Retry now" per name.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Lists Certificate_Watch::findings() (critical, expiring, not checked, held, waiting for DNS for
 * more than a day) to users who may manage the network. Each name has a "Retry now" link
 * (admin-post, a nonce per name, the capability checked again) that runs
 * Certificate_Lifecycle::retry_now and comes back with its result shown once. Dismissing the
 * notice hides it until the set of findings changes.
 */
final class Certificate_Notice {

	/** admin-post action of "Retry now": args domain, _wpnonce (action RETRY_ACTION . '_' . domain). */
	const RETRY_ACTION = 'closte_native_certificate_retry';

	/** admin-post action that dismisses the notice for the current findings. */
	const DISMISS_ACTION = 'closte_native_certificate_notice_dismiss';

	/**
	 * The findings listed by name; the rest are counted, with a link to the Closte Domains page
	 * (a network where thousands of names wait for DNS gets a notice, not a page of them).
	 */
	const SHOWN = 20;

	/** User meta: the signature of the findings the user dismissed. */
	const DISMISSED_META = 'closte_native_certificate_notice_dismissed';

	/** Per-user site transient holding the result of the last "Retry now" until it is shown. */
	const FLASH = 'closte_native_certificate_flash_';

	public static function register(): void {

		add_action('network_admin_notices', [self::class, 'render']);
		add_action('admin_post_' . self::RETRY_ACTION, [self::class, 'retry']);
		add_action('admin_post_' . self::DISMISS_ACTION, [self::class, 'dismiss']);
	}

	/** The nonce action of "Retry now" for one name. */
	public static function nonce_action(string $name): string {

		return self::RETRY_ACTION . '_' . $name;
	}

	/** The "Retry now" link of one name. */
	public static function retry_url(string $name): string {

		return add_query_arg(
			['action' => self::RETRY_ACTION, 'domain' => rawurlencode($name), '_wpnonce' => wp_create_nonce(self::nonce_action($name))],
			admin_url('admin-post.php')
		);
	}

	/**
	 * Identifies a set of findings: the notice comes back when a name, or what is wrong with it,
	 * changes.
	 */
	public static function signature(array $findings): string {

		$set = [];
		foreach ($findings as $name => $finding) {
			$set[] = $name . ':' . $finding['kind'];
		}
		sort($set, SORT_STRING);

		return md5(implode("\n", $set));
	}

	public static function render(): void {

		if (! current_user_can('manage_network_options')) {
			return;
		}
		self::render_flash();

		$findings = Certificate_Watch::findings();
		if ([] === $findings || self::signature($findings) === get_user_meta(get_current_user_id(), self::DISMISSED_META, true)) {
			return;
		}
		$critical = [] !== array_filter($findings, static fn (array $f) => 'critical' === $f['severity']);
		$items    = '';
		foreach (array_slice($findings, 0, self::SHOWN, true) as $name => $finding) {
			$items .= sprintf(
				'<li data-domain="%s" data-kind="%s">%s <a href="%s">%s</a></li>',
				esc_attr($name),
				esc_attr($finding['kind']),
				esc_html(self::text($finding)),
				esc_url(self::retry_url($name)),
				esc_html__('Retry now', 'closte-native')
			);
		}
		if (count($findings) > self::SHOWN) {
			$items .= sprintf(
				'<li class="closte-native-more">%s <a href="%s">%s</a></li>',
				/* translators: %d: number of further domains */
				esc_html(sprintf(_n('and %d more domain.', 'and %d more domains.', count($findings) - self::SHOWN, 'closte-native'), count($findings) - self::SHOWN)),
				esc_url(network_admin_url('settings.php?page=' . Domains_Page::SLUG)),
				esc_html__('Every domain and its certificate: Closte Domains', 'closte-native')
			);
		}
		$nonce   = wp_create_nonce(self::DISMISS_ACTION);
		$dismiss = add_query_arg(['action' => self::DISMISS_ACTION, '_wpnonce' => $nonce], admin_url('admin-post.php'));
		printf(
			'<div class="notice %s is-dismissible closte-native-certificates"><p><strong>%s</strong></p><ul>%s</ul><p>%s <a href="%s">%s</a></p></div>',
			$critical ? 'notice-error' : 'notice-warning',
			esc_html__('Closte: certificates that need your attention', 'closte-native'),
			$items, // escaped above
			esc_html__('Details are in the log integration-closte-ssl.', 'closte-native'),
			esc_url($dismiss),
			esc_html__('Hide until something changes', 'closte-native')
		);
		// The X is added by WordPress's common.js after the page loads: listen on the document.
		wp_print_inline_script_tag(
			sprintf(
				'document.addEventListener("click",function(e){if(!e.target.closest(".closte-native-certificates .notice-dismiss")){return;}var f=new FormData(),d=%s;Object.keys(d).forEach(function(k){f.append(k,d[k]);});fetch(%s,{method:"POST",body:f,credentials:"same-origin",redirect:"manual"});});',
				wp_json_encode(['action' => self::DISMISS_ACTION, '_wpnonce' => $nonce]),
				wp_json_encode(admin_url('admin-post.php'))
			)
		);
	}

	/** One finding in the operator's words. */
	public static function text(array $finding): string {

		$record      = (array) ($finding['record'] ?? []);
		$certificate = (array) ($record['certificate'] ?? []);
		$name        = (string) $finding['name'];
		$detail      = (string) ($certificate['detail'] ?? '');
		switch ($finding['kind']) {
			case 'critical':
				/* translators: 1: domain name, 2: what is wrong with its certificate */
				return sprintf(__('%1$s: visitors see a security warning: %2$s. Check that its DNS points at this network and that it is an alias of the Closte app, then retry.', 'closte-native'), $name, $detail);
			case 'expiring':
				/* translators: 1: domain name, 2: days left, 3: date */
				return sprintf(__('%1$s: the certificate expires in %2$d days (%3$s). Closte renews it by itself; if it is not renewed soon, check the DNS and retry.', 'closte-native'), $name, (int) ($certificate['days_left'] ?? 0), isset($certificate['not_after']) ? gmdate('Y-m-d', (int) $certificate['not_after']) : '?');
			case 'unchecked':
				/* translators: 1: domain name, 2: why */
				return sprintf(__('%1$s: the certificate could not be checked: %2$s', 'closte-native'), $name, $detail);
			case 'held':
				/* translators: 1: domain name, 2: date and time */
				return sprintf(__('%1$s: certificate requests are held until %2$s (4 requests in 7 days; Let\'s Encrypt issues at most 5 per name per week).', 'closte-native'), $name, gmdate('Y-m-d H:i', (int) ($record['next_at'] ?? 0)) . ' UTC');
			default:
				/* translators: %s: domain name */
				return sprintf(__('%s: its DNS has not pointed at this network for more than a day, so no certificate was requested yet.', 'closte-native'), $name);
		}
	}

	/** admin-post: "Retry now" for one name (capability and that name's nonce required). */
	public static function retry(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		$name = Network_Domains::normalise(sanitize_text_field(wp_unslash((string) ($_REQUEST['domain'] ?? '')))); // phpcs:ignore WordPress.Security.NonceVerification -- checked next, for this name
		if ('' === $name || ! wp_verify_nonce(sanitize_text_field(wp_unslash((string) ($_REQUEST['_wpnonce'] ?? ''))), self::nonce_action($name))) {
			wp_die(esc_html__('The link you followed has expired or is not for this domain. Reload the page and use its "Retry now" link.', 'closte-native'), 403);
		}
		$outcome = Certificate_Lifecycle::retry_now($name);
		Logger::log(sprintf('certificate for %s: "Retry now" by user %d: %s', $name, get_current_user_id(), $outcome['message']), 'info', Logger::SSL_HANDLE);
		set_site_transient(self::FLASH . get_current_user_id(), ['ok' => (bool) $outcome['ok'], 'message' => (string) $outcome['message']], 5 * MINUTE_IN_SECONDS);
		wp_safe_redirect(wp_get_referer() ? wp_get_referer() : network_admin_url());
		exit;
	}

	public static function dismiss(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		check_admin_referer(self::DISMISS_ACTION);
		update_user_meta(get_current_user_id(), self::DISMISSED_META, self::signature(Certificate_Watch::findings()));
		wp_safe_redirect(wp_get_referer() ? wp_get_referer() : network_admin_url());
		exit;
	}

	/** The result of the last "Retry now", once. */
	private static function render_flash(): void {

		$key   = self::FLASH . get_current_user_id();
		$flash = get_site_transient($key);
		if (! is_array($flash) || ! isset($flash['message'])) {
			return;
		}
		delete_site_transient($key);
		printf(
			'<div class="notice %s closte-native-certificate-retry" role="status"><p>%s</p></div>',
			! empty($flash['ok']) ? 'notice-success' : 'notice-error',
			esc_html((string) $flash['message'])
		);
	}
}
