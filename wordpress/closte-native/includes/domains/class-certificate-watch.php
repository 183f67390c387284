<?php
/**
 * Certificates: after an alias exists, the SSL log says whether its certificate is pending, active, or late and why.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Follows a certificate every dns_check_interval seconds (Ultimate Multisite's setting) through
 * Action Scheduler, up to `closte_native_ssl_check_max_tries` checks.
 */
final class Certificate_Watch {

	/** Action Scheduler hook of a certificate check: args (domain, site_id, check). */
	const HOOK = 'closte_native_ssl_check';

	/** Certificate states Closte may report for an issued certificate. */
	const ACTIVE_STATES = ['active', 'issued', 'valid', 'installed', 'ok'];

	public static function register(): void {

		add_action(self::HOOK, [self::class, 'check_certificate'], 10, 3);
	}

	/**
	 * After an alias exists: log the certificate request and, when Closte took it, follow the
	 * certificate every dns_check_interval seconds so the log says why it is late.
	 */
	public static function follow(array $result, int $site_id): void {

		$ssl    = $result['ssl'] ?? null;
		$domain = (string) $result['domain'];

		if (! is_array($ssl)) {
			return;
		}

		if ($ssl['ok']) {
			Logger::log(sprintf('certificate for %s requested through %s (site %d)', $domain, $ssl['endpoint'], $site_id), 'info', Logger::SSL_HANDLE);
		} elseif ('no_endpoint' === $ssl['state']) {
			Logger::log(sprintf('no SSL endpoint on Closte for %s: Closte issues the certificate itself once DNS points at the app', $domain), 'info', Logger::SSL_HANDLE);
		} else {
			Logger::log(sprintf('certificate request for %s failed (%s): %s', $domain, $ssl['error_kind'], $ssl['error']), 'warning', Logger::SSL_HANDLE);
		}

		Background_Jobs::schedule(self::HOOK, self::check_interval(), [$domain, $site_id, 1]);
	}

	/**
	 * Action Scheduler callback: asks Closte for the certificate's state.
	 *
	 * @param string $domain  Domain.
	 * @param int    $site_id Site id.
	 * @param int    $check   This check's number.
	 */
	public static function check_certificate($domain, $site_id = 0, $check = 1): void {

		$domain = (string) $domain;
		$check  = (int) $check;
		$max    = max(1, (int) apply_filters('closte_native_ssl_check_max_tries', 20));

		if (! Ultimate_Multisite::integration_enabled()) {
			Logger::log(sprintf('certificate check for %s dropped: the Closte integration is disabled in Ultimate Multisite', $domain), 'info', Logger::SSL_HANDLE);
			return;
		}

		try {
			$result = closte_ssl_status($domain);
		} catch (\Throwable $e) {
			Logger::log(sprintf('certificate check for %s: %s', $domain, $e->getMessage()), 'error', Logger::SSL_HANDLE);
			return;
		}

		if ($result['ok']) {
			$status = (string) ($result['response']['status'] ?? $result['response']['ssl_status'] ?? 'unknown');
			if (in_array(strtolower($status), self::ACTIVE_STATES, true)) {
				Logger::log(sprintf('certificate for %s is %s (check %d)', $domain, $status, $check), 'info', Logger::SSL_HANDLE);
				return;
			}
			$reason = sprintf('status %s', $status);
		} elseif ('not_found' === $result['error_kind'] && in_array($result['status'], [404, 405], true)) {
			Logger::log(sprintf('Closte has no certificate status endpoint; Ultimate Multisite\'s own SSL check will confirm %s', $domain), 'info', Logger::SSL_HANDLE);
			return;
		} elseif ($result['retryable']) {
			$reason = sprintf('status unknown, %s: %s', $result['error_kind'], $result['error']);
		} else {
			Logger::log(sprintf('certificate check for %s failed (%s): %s', $domain, $result['error_kind'], $result['error']), 'warning', Logger::SSL_HANDLE);
			return;
		}

		if ($check >= $max) {
			Logger::log(sprintf('certificate for %s still not active after %d checks (%s): check that the DNS of %s points at the Closte app', $domain, $check, $reason, $domain), 'warning', Logger::SSL_HANDLE);
			return;
		}

		$interval = self::check_interval();
		Logger::log(sprintf('certificate for %s not active yet (%s, check %d/%d); next check in %d s', $domain, $reason, $check, $max, $interval), 'info', Logger::SSL_HANDLE);
		Background_Jobs::schedule(self::HOOK, $interval, [$domain, (int) $site_id, $check + 1]);
	}

	/**
	 * Ultimate Multisite's DNS check interval setting (default 300 s, clamped to 10..300).
	 */
	public static function check_interval(): int {

		$interval = function_exists('wu_get_setting') ? (int) wu_get_setting('dns_check_interval', 300) : 300;

		return max(10, min(300, $interval));
	}
}
