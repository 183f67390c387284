<?php
/**
 * The daily drift report: what differs between the network and Closte, and which certificates
 * need the operator, as a network admin notice and, when asked for, one e-mail.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A daily job (Action Scheduler, else WP-Cron; each run queues the next, like Certificate_Watch)
 * makes the Sync page's preview, a DRY RUN (one /getdomains; nothing is ever added or removed by
 * this report), and reads the certificate watch's findings (no handshake of its own). Findings:
 * - no_alias: a name the network serves (domain record, site host, www twin) that Closte lacks;
 * - unused_alias: an alias on Closte that nothing on the network uses, added by this plugin or
 *   not (the finding says which; only Closte Sync removes, and only what the operator confirms);
 * - certificate_problem / certificate_expiring: a certificate visitors do not accept, or that
 *   ends within 14 days;
 * - listing_failed: Closte's list could not be read, so nothing else could be compared.
 * They are stored (network option) and shown in a network admin notice, each dismissible on its
 * own per user until it changes (its fingerprint), with a link to the Closte Domains page. The
 * certificate findings are already listed, with "Retry now", by Certificate_Notice: this notice
 * only counts them and links there, so nothing is said twice. When the operator turned it on
 * (network option closte_native_drift_email, on the Closte Domains page) one e-mail per run goes
 * to the network admin address, and only when the findings differ from the last e-mail's.
 */
final class Drift_Report {

	/** Action Scheduler hook of the daily run (args []). */
	const HOOK = 'closte_native_drift_report';

	/** Network option: when the next daily run is due. */
	const NEXT_OPTION = 'closte_native_drift_report_next';

	/** Network option: the last run's findings {at, findings: id => finding}. */
	const FINDINGS_OPTION = 'closte_native_drift_findings';

	/** Network option (the Closte Domains page's checkbox): e-mail the findings. */
	const EMAIL_OPTION = 'closte_native_drift_email';

	/** Network option: the fingerprint of the findings last e-mailed. */
	const MAILED_OPTION = 'closte_native_drift_mailed';

	/** User meta: dismissed finding id => its fingerprint when dismissed. */
	const DISMISSED_META = 'closte_native_drift_dismissed';

	/** admin-post action dismissing one finding. */
	const DISMISS_ACTION = 'closte_native_drift_dismiss';

	/** Codes Certificate_Notice already lists, name by name. */
	const CERTIFICATE_CODES = ['certificate_problem', 'certificate_expiring'];

	public static function register(): void {

		add_action(self::HOOK, [self::class, 'run']);
		add_action('admin_init', [self::class, 'ensure_scheduled']);
		add_action('network_admin_notices', [self::class, 'render']);
		add_action('admin_post_' . self::DISMISS_ACTION, [self::class, 'dismiss']);
	}

	/** Queues the daily run unless one is due within the day. */
	public static function ensure_scheduled(): void {

		if ((int) get_site_option(self::NEXT_OPTION, 0) > time() - HOUR_IN_SECONDS) {
			return;
		}
		self::schedule_next(HOUR_IN_SECONDS);
	}

	private static function schedule_next(int $delay): void {

		Background_Jobs::unschedule(self::HOOK, []);
		Background_Jobs::schedule(self::HOOK, $delay, []);
		update_site_option(self::NEXT_OPTION, time() + $delay);
	}

	/** Action Scheduler callback: the daily run. */
	public static function run(): void {

		self::schedule_next(DAY_IN_SECONDS);
		if (! function_exists('closte_sync')) {
			Logger::log('drift report skipped: no closte implementation is loaded', 'warning');
			return;
		}
		try {
			$findings = self::collect();
		} catch (\Throwable $e) {
			Logger::log(sprintf('drift report failed: %s: %s', get_class($e), $e->getMessage()), 'error');
			return;
		}
		update_site_option(self::FINDINGS_OPTION, ['at' => time(), 'findings' => $findings]);
		Logger::log(sprintf('drift report: %d finding(s)%s', count($findings), [] === $findings ? '' : ': ' . implode(', ', array_keys($findings))), [] === $findings ? 'info' : 'warning');
		self::maybe_mail($findings);
	}

	/**
	 * The findings now: the sync preview (dry run) and the certificate watch's findings.
	 *
	 * @return array<string, array{id: string, code: string, name: string, owned: ?bool, text: string, fingerprint: string}> by id
	 */
	public static function collect(): array {

		$findings = [];
		$plan     = Sync_Plan::preview(true); // a dry run: closte_sync with dry_run, nothing changes
		if (! $plan['listing_ok']) {
			$findings[] = self::finding('listing_failed', '', null, sprintf(__('Closte\'s list of aliases could not be read, so nothing could be compared: %s', 'closte-native'), (string) $plan['listing']), (string) $plan['listing']);
		}
		foreach ($plan['to_add'] as $name => $reason) {
			/* translators: 1: domain name, 2: where the network uses it */
			$findings[] = self::finding('no_alias', (string) $name, null, sprintf(__('%1$s is served by the network (%2$s) but has no alias on Closte.', 'closte-native'), $name, Sync_Messages::text($reason)), Sync_Messages::text($reason));
		}
		foreach ($plan['to_remove'] as $name => $reason) {
			/* translators: %s: domain name */
			$findings[] = self::finding('unused_alias', (string) $name, true, sprintf(__('%s is an alias on Closte that this plugin added and nothing on the network uses any more.', 'closte-native'), $name), 'owned');
		}
		foreach ($plan['unowned'] as $name => $reason) {
			/* translators: %s: domain name */
			$findings[] = self::finding('unused_alias', (string) $name, false, sprintf(__('%s is an alias on Closte that nothing on the network uses; this plugin did not add it.', 'closte-native'), $name), 'unowned');
		}
		foreach (Certificate_Watch::findings() as $name => $finding) {
			$record = (array) $finding['record'];
			if ('expiring' === $finding['kind']) {
				$findings[] = self::finding('certificate_expiring', (string) $name, null, Certificate_Notice::text($finding), (string) ($record['certificate']['not_after'] ?? ''));
			} elseif (in_array($finding['kind'], ['critical', 'unchecked'], true)) {
				$findings[] = self::finding('certificate_problem', (string) $name, null, Certificate_Notice::text($finding), (string) ($record['certificate']['status'] ?? ''));
			}
		}

		return array_column($findings, null, 'id');
	}

	private static function finding(string $code, string $name, ?bool $owned, string $text, string $detail): array {

		return [
			'id'          => $code . ':' . $name,
			'code'        => $code,
			'name'        => $name,
			'owned'       => $owned,
			'text'        => $text,
			// What must change for a dismissed finding to come back.
			'fingerprint' => md5($code . "\n" . $name . "\n" . $detail),
		];
	}

	/** The last run's findings (by id) and when it ran (0: never). */
	public static function stored(): array {

		$stored = get_site_option(self::FINDINGS_OPTION);

		return is_array($stored) && isset($stored['findings']) ? $stored : ['at' => 0, 'findings' => []];
	}

	/** A fingerprint of a set of findings: a new e-mail only when it changes. */
	public static function signature(array $findings): string {

		$prints = array_column($findings, 'fingerprint');
		sort($prints, SORT_STRING);

		return [] === $prints ? '' : md5(implode("\n", $prints));
	}

	private static function email_on(): bool {

		$value = get_site_option(self::EMAIL_OPTION, '0');

		return is_bool($value) ? $value : in_array(strtolower(trim((string) $value)), ['1', 'on', 'yes', 'true'], true);
	}

	/** One e-mail to the network admin address, when turned on and the findings changed. */
	private static function maybe_mail(array $findings): void {

		$signature = self::signature($findings);
		if ('' === $signature) {
			update_site_option(self::MAILED_OPTION, ''); // the next finding is news again
			return;
		}
		if (! self::email_on() || get_site_option(self::MAILED_OPTION, '') === $signature) {
			return;
		}
		$to = (string) get_site_option('admin_email');
		if (! is_email($to)) {
			Logger::log('drift report: no e-mail sent, the network admin address is not an e-mail address', 'warning');
			return;
		}
		$lines = array_map(static fn (array $f) => '- ' . $f['text'], $findings);
		$body  = sprintf(
			/* translators: 1: network name, 2: number of findings, 3: the findings, 4: link */
			__("The daily Closte drift report of %1\$s found %2\$d thing(s) to look at. Nothing was added to or removed from Closte by this report.\n\n%3\$s\n\nEvery domain's state, with actions: %4\$s\n", 'closte-native'),
			get_network()->site_name ?? get_network()->domain,
			count($findings),
			implode("\n", $lines),
			self::page_url()
		);
		/* translators: %d: number of findings */
		$subject = sprintf(__('Closte drift report: %d finding(s)', 'closte-native'), count($findings));
		if (wp_mail($to, $subject, $body)) {
			update_site_option(self::MAILED_OPTION, $signature);
			Logger::log(sprintf('drift report: e-mailed %d finding(s) to the network admin address', count($findings)));
		} else {
			Logger::log('drift report: the e-mail to the network admin address could not be sent (wp_mail failed); tried again after the next run', 'warning');
		}
	}

	/** The Closte Domains page, filtered to what needs attention. */
	public static function page_url(): string {

		return class_exists(Domains_Page::class) ? Domains_Page::url(['status' => 'needs_attention']) : network_admin_url('settings.php?page=closte-native-domains&status=needs_attention');
	}

	/** The nonce action of one finding's dismissal. */
	public static function nonce_action(string $id): string {

		return self::DISMISS_ACTION . '_' . $id;
	}

	/** The findings $user_id has not dismissed (or that changed since). */
	public static function visible(int $user_id): array {

		$dismissed = get_user_meta($user_id, self::DISMISSED_META, true);
		$dismissed = is_array($dismissed) ? $dismissed : [];

		return array_filter(self::stored()['findings'], static fn (array $f) => ($dismissed[ $f['id'] ] ?? null) !== $f['fingerprint']);
	}

	/** network_admin_notices: the drift findings, each with its own "Dismiss". */
	public static function render(): void {

		if (! current_user_can('manage_network_options')) {
			return;
		}
		$findings     = self::visible(get_current_user_id());
		$certificates = array_filter($findings, static fn (array $f) => in_array($f['code'], self::CERTIFICATE_CODES, true));
		$others       = array_diff_key($findings, $certificates);
		if ([] === $others) {
			return; // certificate findings alone: Certificate_Notice lists them
		}
		$items = '';
		foreach ($others as $finding) {
			$url    = add_query_arg(['action' => self::DISMISS_ACTION, 'finding' => rawurlencode($finding['id']), '_wpnonce' => wp_create_nonce(self::nonce_action($finding['id']))], admin_url('admin-post.php'));
			$items .= sprintf(
				'<li data-finding="%s">%s <a href="%s" class="closte-native-drift-dismiss">%s</a></li>',
				esc_attr($finding['id']),
				esc_html($finding['text']),
				esc_url($url),
				esc_html__('Dismiss', 'closte-native')
			);
		}
		$more = '';
		if ([] !== $certificates) {
			/* translators: %d: number of certificate findings */
			$more = ' ' . sprintf(esc_html(_n('%d certificate finding is in the certificate notice.', '%d certificate findings are in the certificate notice.', count($certificates), 'closte-native')), count($certificates));
		}
		printf(
			'<div class="notice notice-warning closte-native-drift"><p><strong>%s</strong> %s</p><ul>%s</ul><p><a href="%s">%s</a>%s</p></div>',
			esc_html__('Closte drift report:', 'closte-native'),
			esc_html__('the network and Closte differ. Nothing was added or removed automatically.', 'closte-native'),
			$items, // escaped above
			esc_url(self::page_url()),
			esc_html__('See every domain on the Closte Domains page', 'closte-native'),
			$more // escaped above
		);
	}

	/** admin-post: dismisses one finding for the current user (capability and its nonce). */
	public static function dismiss(): void {

		if (! current_user_can('manage_network_options')) {
			wp_die(esc_html__('Sorry, you are not allowed to do that.', 'closte-native'), 403);
		}
		$id = sanitize_text_field(wp_unslash((string) ($_REQUEST['finding'] ?? ''))); // phpcs:ignore WordPress.Security.NonceVerification -- checked next, for this finding
		if ('' === $id || ! wp_verify_nonce(sanitize_text_field(wp_unslash((string) ($_REQUEST['_wpnonce'] ?? ''))), self::nonce_action($id))) {
			wp_die(esc_html__('The link you followed has expired or is not for this finding. Reload the page and use its "Dismiss" link.', 'closte-native'), 403);
		}
		$finding = self::stored()['findings'][ $id ] ?? null;
		if (null !== $finding) {
			$dismissed        = get_user_meta(get_current_user_id(), self::DISMISSED_META, true);
			$dismissed        = is_array($dismissed) ? $dismissed : [];
			$dismissed[ $id ] = $finding['fingerprint'];
			// Only findings that still exist are kept, so the meta does not grow for ever.
			update_user_meta(get_current_user_id(), self::DISMISSED_META, array_intersect_key($dismissed, self::stored()['findings']));
		}
		wp_safe_redirect(wp_get_referer() ? wp_get_referer() : network_admin_url());
		exit;
	}
}
