<?php
/**
 * The daily certificate watch: every followed name's certificate checked by a TLS handshake,
 * as a visitor sees it, until it expires.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A daily job (Action Scheduler, else WP-Cron; each run queues the next) checks every name whose
 * certificate was good (state active, expiring or problem in Certificate_Records) and was not
 * checked in the last 20 hours: at most one handshake per name per day, whoever made it (the
 * lifecycle's own checks count). Names go 50 at a time through closte_enqueue('verify_certificate')
 * and closte_wait, so the API's concurrency limit bounds the connections; a continuation job
 * takes the rest. Only names the network uses are checked (a mapped domain, a site host, or the
 * www twin of one): the connection goes where a customer's DNS points.
 *
 * Each result goes to Certificate_Lifecycle::apply_verification(.., 'watch'). Findings: a
 * certificate within 14 days of its end is a warning; an expired one, one for other names, an
 * untrusted or a not yet valid one is critical (state problem), logged with what to do. The
 * network admin notice (Certificate_Notice) and Site Health show findings().
 */
final class Certificate_Watch {

	/** Action Scheduler hook of the daily run (args []) and of its continuations (args [batch number]). */
	const HOOK = 'closte_native_certificate_watch';

	/** Names per batch (their handshakes go out together, up to closte.concurrency at a time). */
	const BATCH = 50;

	/**
	 * A job starts batches for this long (filter closte_native_watch_batch_seconds), then leaves
	 * the rest to a continuation: Action Scheduler gives a batch of jobs 30 s.
	 */
	const JOB_SECONDS = 20;

	/** A certificate checked more recently than this is not checked again (one handshake a day). */
	const RECHECK_AFTER = 20 * HOUR_IN_SECONDS;

	/** A certificate with this many days left or fewer is a warning. */
	const EXPIRING_DAYS = 14;

	/** The record states the watch checks: certificates that were good once. */
	const WATCHED_STATES = ['active', 'expiring', 'problem'];

	/** Handshake statuses that are critical: visitors see a security warning. */
	const CRITICAL = ['expired', 'name_mismatch', 'untrusted', 'not_yet_valid'];

	/** Network option: when the next daily run is due (so the job is queued once, not per request). */
	const NEXT_OPTION = 'closte_native_certificate_watch_next';

	/** A name waiting for DNS longer than this is a finding. */
	const DNS_WAIT_FINDING = DAY_IN_SECONDS;

	/**
	 * findings(), kept for FINDINGS_TTL seconds (every network admin page shows them, and a
	 * network of 100,000 followed names takes over a second to read), unless it holds more than
	 * FINDINGS_CACHED_MAX findings (a cache that size costs more to load than it saves).
	 */
	const FINDINGS_TRANSIENT  = 'closte_native_cert_findings';
	const FINDINGS_TTL        = 300;
	const FINDINGS_CACHED_MAX = 2000;

	public static function register(): void {

		add_action(self::HOOK, [self::class, 'run']);
		// The daily job is queued on the first network admin page or alias after activation, and
		// again if it was lost (each run queues the next).
		add_action('admin_init', [self::class, 'ensure_scheduled']);
		add_action('closte_native_alias_added', [self::class, 'ensure_scheduled'], 20, 0);
	}

	/** Queues the daily run unless one is due within the day. */
	public static function ensure_scheduled(): void {

		$next = (int) get_site_option(self::NEXT_OPTION, 0);
		if ($next > time() - HOUR_IN_SECONDS) {
			return;
		}
		self::schedule_next(HOUR_IN_SECONDS);
	}

	private static function schedule_next(int $delay): void {

		Background_Jobs::unschedule(self::HOOK, []);
		Background_Jobs::schedule(self::HOOK, $delay, []);
		update_site_option(self::NEXT_OPTION, time() + $delay);
	}

	/**
	 * Action Scheduler callback: the daily run (no argument) or a continuation (its batch number).
	 *
	 * @param mixed $batch 0 or absent for the daily run, else the continuation's number.
	 */
	public static function run($batch = 0): void {

		$batch = max(0, (int) $batch);
		if (0 === $batch) {
			self::schedule_next(DAY_IN_SECONDS);
		}
		if (! function_exists('closte_enqueue') || ! function_exists('closte_verify_certificate')) {
			Logger::log('certificate watch skipped: the closte implementation has no closte_verify_certificate', 'warning', Logger::SSL_HANDLE);
			return;
		}

		$due = self::due(time());
		if ([] === $due) {
			if (0 === $batch) {
				Logger::log('certificate watch: no certificate due for a check', 'info', Logger::SSL_HANDLE);
			}
			return;
		}
		// Batches of BATCH names until the job's time is up: the list of names due is read once
		// per job (at 100,000 names that read is seconds), not once per 50 names.
		$budget  = (float) apply_filters('closte_native_watch_batch_seconds', self::JOB_SECONDS);
		$started = microtime(true);
		$checked = 0;
		do {
			$names = array_slice($due, $checked, self::BATCH);
			self::check($names);
			$checked += count($names);
		} while ($checked < count($due) && microtime(true) - $started < $budget);

		$rest = count($due) - $checked;
		if ($rest > 0) {
			// Every name checked now has a check time within the day (check() makes sure), so
			// the next job's names are other names.
			Logger::log(sprintf('certificate watch: %d checked, %d left for the next batch', $checked, $rest), 'info', Logger::SSL_HANDLE);
			Background_Jobs::schedule(self::HOOK, 0, [$batch + 1]);
		}
	}

	/**
	 * The names due for a check at $now: followed, in a watched state, not checked in the last
	 * 20 hours, and used on the network; the least recently checked first.
	 *
	 * @return string[]
	 */
	public static function due(int $now): array {

		$network = null;
		$due     = [];
		$followed = [];
		foreach (Certificate_Records::each() as $name => $record) {
			$followed[ (string) $name ] = true;
			if (! in_array($record['state'] ?? '', self::WATCHED_STATES, true) || null === ($record['alias_at'] ?? null)) {
				continue;
			}
			$checked_at = (int) ($record['certificate']['checked_at'] ?? 0);
			if ($checked_at > $now - self::RECHECK_AFTER) {
				continue;
			}
			$network ??= Sync_Network::collect();
			if (! self::used($network, (string) $name)) {
				continue;
			}
			$due[ (string) $name ] = $checked_at;
		}
		// Mapped domains (Ultimate Multisite's domain records) that have no record yet, mapped
		// before this integration followed certificates, are due as never checked; their record
		// is made when the result comes (Certificate_Lifecycle::apply_verification). Site hosts
		// are the network's own names (Closte's certificate of the app); wildcards have no
		// address to check; a name that cannot be normalised is not connected to.
		$network ??= Sync_Network::collect();
		foreach ($network['domains'] as $name => $source) {
			$name = (string) $name;
			if ('record' !== Sync_Network::source_of($source)['code'] || isset($followed[ $name ]) || isset($network['invalid'][ $name ]) || str_starts_with($name, '*.')) {
				continue;
			}
			$due[ $name ] = 0;
		}
		asort($due);

		return array_map('strval', array_keys($due));
	}

	/** True when $name is a host the network serves: itself, or the www. form of one. */
	private static function used(array $network, string $name): bool {

		if (isset($network['domains'][ $name ])) {
			return true;
		}

		return str_starts_with($name, 'www.') && isset($network['domains'][ substr($name, 4) ]);
	}

	/**
	 * One batch: the handshakes through the API's job queue, each result to the lifecycle, each
	 * finding logged.
	 *
	 * @param string[] $names
	 */
	private static function check(array $names): void {

		$jobs = [];
		foreach ($names as $name) {
			try {
				$jobs[ closte_enqueue('verify_certificate', $name) ] = $name;
			} catch (\Throwable $e) {
				self::not_checked($name, get_class($e) . ': ' . $e->getMessage());
			}
		}
		if ([] === $jobs) {
			return;
		}

		$timeout = (float) apply_filters('closte_native_certificate_watch_wait', 120.0);
		try {
			$results = closte_wait(array_keys($jobs), max(1.0, min(3600.0, $timeout)));
		} catch (\Throwable $e) {
			foreach ($jobs as $name) {
				self::not_checked($name, get_class($e) . ': ' . $e->getMessage());
			}
			return;
		}

		foreach ($jobs as $id => $name) {
			$result = $results[ $id ] ?? null;
			if (! is_array($result) || in_array($result['state'] ?? '', ['pending', 'unknown'], true)) {
				self::not_checked($name, sprintf('the check did not finish within %d s', (int) $timeout));
				continue;
			}
			Certificate_Lifecycle::apply_verification($name, $result, 'watch');
			self::log_finding($name);
		}
	}

	/**
	 * A name whose check could not run: logged, and its check time moved on (status kept) so the
	 * next batch is other names and tomorrow's run tries again.
	 */
	private static function not_checked(string $name, string $why): void {

		Logger::log(sprintf('certificate watch: %s not checked: %s; tried again tomorrow', $name, $why), 'warning', Logger::SSL_HANDLE);
		$record = Certificate_Records::get($name);
		if (null === $record) {
			return;
		}
		$certificate               = is_array($record['certificate']) ? $record['certificate'] : ['status' => null];
		$certificate['checked_at'] = time();
		$record['certificate']     = $certificate;
		Certificate_Records::put($record);
	}

	/** The log line of a checked name's finding, with what to do; nothing for a good certificate. */
	private static function log_finding(string $name): void {

		$record = Certificate_Records::get($name);
		if (null === $record) {
			return;
		}
		$finding = self::finding($record, time());
		if (null === $finding || ! in_array($finding['kind'], ['critical', 'expiring', 'unchecked'], true)) {
			return;
		}
		$certificate = (array) $record['certificate'];
		$detail      = (string) ($certificate['detail'] ?? '');
		if ('expiring' === $finding['kind']) {
			Logger::log(
				sprintf(
					'certificate watch: WARNING: the certificate of %s expires in %d days (%s, issuer %s). Closte renews certificates by itself before they end; if this one is not renewed within a few days, check that %s still points at this network and use "Retry now" in the network admin',
					$name,
					(int) ($certificate['days_left'] ?? 0),
					isset($certificate['not_after']) ? gmdate('Y-m-d', (int) $certificate['not_after']) : '?',
					(string) ($certificate['issuer'] ?? $certificate['issuer_organization'] ?? 'unknown'),
					$name
				),
				'warning',
				Logger::SSL_HANDLE
			);
			return;
		}
		if ('critical' === $finding['kind']) {
			Logger::log(sprintf('certificate watch: CRITICAL: %s: %s. Visitors of %s see a security warning. What to do: %s', $name, $detail, $name, self::advice((string) $certificate['status'], $name)), 'error', Logger::SSL_HANDLE);
			return;
		}
		Logger::log(sprintf('certificate watch: WARNING: the certificate of %s could not be checked (%s): %s. What to do: %s', $name, (string) ($certificate['status'] ?? '?'), $detail, self::advice((string) ($certificate['status'] ?? ''), $name)), 'warning', Logger::SSL_HANDLE);
	}

	/** What an operator does about a handshake status, for log lines (English, like the log). */
	public static function advice(string $status, string $name): string {

		switch ($status) {
			case 'expired':
				return sprintf('check that the DNS of %s points at this network, then use "Retry now" in the network admin to request a new certificate', $name);
			case 'name_mismatch':
				return sprintf('the server answering for %s presents a certificate for other names: check that %s is still an alias of the Closte app (Closte Sync) and that its DNS points at this network, then use "Retry now"', $name, $name);
			case 'untrusted':
				return sprintf('the certificate does not chain to a trusted root: check that the DNS of %s points at this network and not at another server or proxy, then use "Retry now"', $name);
			case 'not_yet_valid':
				return sprintf('the certificate is not valid yet: check the clock of the server answering for %s; it becomes valid by itself at its start date', $name);
			case 'no_address':
				return sprintf('%s has no DNS address: the customer must point it at this network again, or unmap it', $name);
			case 'refused_address':
				return sprintf('%s resolves to a private or reserved address, which is never connected to: check its DNS', $name);
			default:
				return sprintf('check that %s resolves to this network and that Closte serves HTTPS for it; the check runs again tomorrow', $name);
		}
	}

	/**
	 * What the operator should know about one record at $now, or null (nothing to do):
	 * kind critical (a certificate that was good is now expired, for other names, untrusted or
	 * not yet valid), expiring, unchecked (the watch could not check it), held (4 requests in 7
	 * days) or dns (waiting for DNS for more than a day).
	 *
	 * @return array{name: string, kind: string, severity: string}|null severity critical|warning
	 */
	public static function finding(array $record, int $now): ?array {

		$name   = (string) $record['name'];
		$state  = (string) ($record['state'] ?? '');
		$status = (string) ($record['certificate']['status'] ?? '');
		if ('problem' === $state) {
			return in_array($status, self::CRITICAL, true)
				? ['name' => $name, 'kind' => 'critical', 'severity' => 'critical']
				: ['name' => $name, 'kind' => 'unchecked', 'severity' => 'warning'];
		}
		if ('expiring' === $state || ('active' === $state && null !== ($record['certificate']['days_left'] ?? null) && (int) $record['certificate']['days_left'] <= self::EXPIRING_DAYS)) {
			return ['name' => $name, 'kind' => 'expiring', 'severity' => 'warning'];
		}
		if ('held' === $state) {
			return ['name' => $name, 'kind' => 'held', 'severity' => 'warning'];
		}
		if ('waiting_dns' === $state && null !== ($record['alias_at'] ?? null)) {
			$since = (int) ($record['dns_first_at'] ?? 0) ?: (int) $record['alias_at'];
			if ($since > 0 && $since < $now - self::DNS_WAIT_FINDING) {
				return ['name' => $name, 'kind' => 'dns', 'severity' => 'warning'];
			}
		}

		return null;
	}

	/**
	 * Every finding on the network, critical first, then by name. Records are read a page at a
	 * time and each finding keeps only what its sentence needs (slim()), so a network of 100,000
	 * followed names costs a few MB here, not the 250 MB of every record at once.
	 *
	 * @return array<string, array{name: string, kind: string, severity: string, record: array}> by name
	 */
	public static function findings(): array {

		$cached = get_site_transient(self::FINDINGS_TRANSIENT);
		if (is_array($cached) && isset($cached['findings']) && is_array($cached['findings'])) {
			return $cached['findings'];
		}
		$now      = time();
		$findings = [];
		foreach (Certificate_Records::each() as $name => $record) {
			$finding = self::finding($record, $now);
			if (null !== $finding) {
				$findings[ (string) $name ] = $finding + ['record' => self::slim($record)];
			}
		}
		uksort(
			$findings,
			static fn ($a, $b) => [('critical' === $findings[ $a ]['severity'] ? 0 : 1), (string) $a] <=> [('critical' === $findings[ $b ]['severity'] ? 0 : 1), (string) $b]
		);
		if (count($findings) <= self::FINDINGS_CACHED_MAX) {
			set_site_transient(self::FINDINGS_TRANSIENT, ['findings' => $findings], self::FINDINGS_TTL);
		}

		return $findings;
	}

	/**
	 * Certificate_Records calls this before a record is written ($new) or deleted (null): when
	 * what findings() says of the name changes, its cached answer goes. Findings that only time
	 * makes (a day of waiting for DNS) appear within FINDINGS_TTL.
	 *
	 * @param array|null $old The record as stored, or null.
	 * @param array|null $new The record to be stored, or null.
	 */
	public static function record_changed(?array $old, ?array $new): void {

		$now    = time();
		$before = null === $old ? null : self::finding($old, $now);
		$after  = null === $new ? null : self::finding($new, $now);
		if (null === $before && null === $after) {
			return;
		}
		if (null === $before || null === $after || $before !== $after || self::slim($old) !== self::slim($new)) {
			delete_site_transient(self::FINDINGS_TRANSIENT);
		}
	}

	/** The fields of a record a finding is told with (Certificate_Notice::text(), the drift report). */
	private static function slim(array $record): array {

		$certificate = is_array($record['certificate'] ?? null) ? $record['certificate'] : null;

		return [
			'name'        => (string) $record['name'],
			'state'       => (string) ($record['state'] ?? ''),
			'next_at'     => (int) ($record['next_at'] ?? 0),
			'certificate' => null === $certificate ? null : array_intersect_key($certificate, array_flip(['status', 'detail', 'days_left', 'not_after'])),
		];
	}
}
