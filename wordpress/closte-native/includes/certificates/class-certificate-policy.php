<?php
/**
 * The timings and limits of a certificate's lifecycle, as pure functions of times and counts.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Let's Encrypt's integration guide asks clients to back off 1 min, 10 min, 100 min, then daily,
 * and its limits allow 5 certificates per exact set of names per 7 days (no override), so this
 * integration holds a name at 4 requests in any 7 days: one request is left for the operator.
 * DNS is checked on Ultimate Multisite's own pace (dns_check_interval) for the first hour or so,
 * then hourly for a day, then daily. No WordPress function is used here.
 */
final class Certificate_Policy {

	/** The rolling window of the request count, in seconds. */
	const WINDOW = 7 * 86400;

	/** Requests in WINDOW at which further requests for the same name are held. */
	const HOLD_AT = 4;

	/** Seconds to wait after the 1st, 2nd and 3rd failure; from the 4th on, DAILY. */
	const DELAYS = [60, 600, 6000];

	const DAILY = 86400;

	/** DNS checks at Ultimate Multisite's interval before the hourly ones. */
	const DNS_FAST_CHECKS = 12;

	const HOURLY = 3600;

	/**
	 * Seconds before the next request or verification after $failures failures in a row (0 and
	 * 1: a minute).
	 */
	public static function retry_delay(int $failures): int {

		if ($failures <= 1) {
			return self::DELAYS[0];
		}

		return self::DELAYS[ $failures - 1 ] ?? self::DAILY;
	}

	/**
	 * The request times still inside the rolling window ending at $now, oldest first.
	 *
	 * @param int[] $times Unix times of requests.
	 * @return int[]
	 */
	public static function requests_in_window(array $times, int $now): array {

		$recent = array_values(array_filter(array_map('intval', $times), static fn (int $at) => $at > $now - self::WINDOW && $at <= $now));
		sort($recent);

		return $recent;
	}

	/**
	 * When the next request may be sent, if the name is held now (HOLD_AT requests in the
	 * window): the oldest of them leaves the window then. Null when a request may go now.
	 *
	 * @param int[] $times Unix times of requests.
	 */
	public static function held_until(array $times, int $now): ?int {

		$recent = self::requests_in_window($times, $now);
		if (count($recent) < self::HOLD_AT) {
			return null;
		}

		// With more than HOLD_AT in the window (none are sent past the hold, but records may
		// have been written otherwise), the request that must leave is the one that brings the
		// count under HOLD_AT.
		return $recent[ count($recent) - self::HOLD_AT ] + self::WINDOW;
	}

	/**
	 * Seconds until the next DNS check after $checks checks, the first at $first_checked_at:
	 * Ultimate Multisite's interval (clamped to 10..300 like Ultimate Multisite does) for the
	 * first DNS_FAST_CHECKS, then hourly until a day after the first, then daily.
	 */
	public static function dns_delay(int $checks, int $first_checked_at, int $now, int $interval): int {

		if ($checks <= self::DNS_FAST_CHECKS) {
			return max(10, min(300, $interval));
		}
		if ($now < $first_checked_at + self::DAILY) {
			return self::HOURLY;
		}

		return self::DAILY;
	}
}
