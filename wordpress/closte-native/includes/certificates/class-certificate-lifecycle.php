<?php
/**
 * A mapped name's certificate: requested when its DNS points here, verified by a TLS handshake
 * as a visitor makes it, backed off and held as Let's Encrypt asks.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * The alias is added at once (without a certificate request); the certificate is requested
 * only once DNS is ready: Ultimate Multisite said so (wu_domain_manager_dns_propagation_finished)
 * or our own check (closte_check_dns against the network's main host) did. A name whose DNS is
 * not ready is never sent to Closte for a certificate: it waits, logged once per reason, checked
 * again on the DNS schedule (Certificate_Policy::dns_delay).
 *
 * After a request the certificate is checked by handshake (closte_verify_certificate); a failed
 * request or check is retried after 1 min, 10 min, 100 min, then daily; at 4 requests in 7 days
 * the name is held until the oldest leaves the window. Every job first checks that the name
 * still has an alias (its record) and is still used on the network; removing the alias ends
 * the jobs at once (alias_removed). Wildcard aliases have no lifecycle: Closte issues their
 * certificates with DNS validation, and a wildcard name has no address to handshake with.
 *
 * Jobs (Action Scheduler, group closte), each with args [name]: DNS_HOOK (a DNS check),
 * REQUEST_HOOK (a request after a backoff or a hold), VERIFY_HOOK (a handshake after a request).
 *
 * A burst of mapped names makes a burst of DNS jobs, due together. The first of them a queue
 * run reaches looks ahead (run_dns_check, prefetch()): the DNS jobs due now (a bounded number,
 * in Action Scheduler's order) have their names looked up on the network together and their
 * DNS checked together (closte_enqueue 'check_dns' + closte_wait); the findings are kept in
 * this process for a short time, each for its own name's job, which uses it once instead of
 * asking again. Every job still runs as its own action, in Action Scheduler's order, with its
 * own record, gate, log and next job; nothing is claimed or run out of turn, and a job another
 * runner takes checks for itself.
 */
final class Certificate_Lifecycle {

	const DNS_HOOK     = 'closte_native_cert_dns';
	const REQUEST_HOOK = 'closte_native_cert_request';
	const VERIFY_HOOK  = 'closte_native_cert_verify';

	/** Every job hook of a name's lifecycle. */
	const HOOKS = [self::DNS_HOOK, self::REQUEST_HOOK, self::VERIFY_HOOK];

	/** Ultimate Multisite's action when its DNS stage passes for a domain record (both generations). */
	const UM_DNS_READY_HOOK = 'wu_domain_manager_dns_propagation_finished';

	/** The handshake statuses of a certificate a visitor accepts. */
	const GOOD = ['active', 'expiring'];

	/** Due DNS jobs looked ahead at, per closte.concurrency. */
	const PREFETCH_PER_SLOT = 4;

	/** How long a DNS finding of the look-ahead stays usable, in seconds (DNS answers live longer). */
	const PREFETCH_DNS_TTL = 60;

	/** How long "this name is used" from the look-ahead stays usable, in seconds. */
	const PREFETCH_USE_TTL = 10;

	/** Longest wait for the look-ahead's DNS checks, in seconds (then each job checks itself). */
	const PREFETCH_WAIT = 30.0;

	/** @var array<string, array{result: ?array, at: float}> the look-ahead's DNS findings (null: none), by name and expected host */
	private static array $prefetched_dns = [];

	/** @var array<string, float> names the look-ahead found used on the network, and when */
	private static array $prefetched_use = [];

	public static function register(): void {

		add_action(self::DNS_HOOK, [self::class, 'run_dns_check']);
		add_action(self::REQUEST_HOOK, [self::class, 'run_request']);
		add_action(self::VERIFY_HOOK, [self::class, 'run_verify']);
	}

	/**
	 * After an alias exists on Closte (added by a hook, a retry, a rename, as a www twin, or by
	 * Closte Sync): its record, then a DNS check now, or the request at once when Ultimate
	 * Multisite has already confirmed DNS for it.
	 *
	 * @param string      $name    The alias.
	 * @param int         $site_id Its site.
	 * @param string      $source  What added it, for the log.
	 * @param string|null $twin_of The bare name when $name is its www twin.
	 */
	public static function alias_added(string $name, int $site_id, string $source, ?string $twin_of = null): void {

		$name = Network_Domains::normalise($name);
		self::forget_prefetched($name);
		if (str_starts_with($name, '*.')) {
			Logger::log(sprintf('certificate for %s: not followed here; Closte issues wildcard certificates with DNS validation, which a handshake cannot check (%s)', $name, $source), 'info', Logger::SSL_HANDLE);
			return;
		}

		// A twin added by Alias_Changes (its source "www twin of N") knows its bare name only
		// from the source; Closte Sync passes it.
		$twin_of ??= Www_Twin::bare_of($source);

		$record = Certificate_Records::get($name);
		if (null !== $record && null !== $record['alias_at'] && 'waiting_dns' !== $record['state']) {
			// Already followed (added again, e.g. "already exists"): its jobs are in place.
			return;
		}
		$record             = $record ?? self::new_record($name, $site_id, $twin_of);
		$record['alias_at'] = time();
		$record['site_id']  = $site_id ?: (int) $record['site_id'];
		$record['twin_of']  = $record['twin_of'] ?? (null === $twin_of ? null : Network_Domains::normalise($twin_of));
		Certificate_Records::put($record);

		if (self::confirmed_by_ultimate_multisite($record)) {
			Logger::log(sprintf('certificate for %s: alias added (%s); Ultimate Multisite already confirmed its DNS', $name, $source), 'info', Logger::SSL_HANDLE);
			self::request($name, false);
			return;
		}
		Logger::log(sprintf('certificate for %s: alias added without a certificate request (%s); requested once its DNS points here', $name, $source), 'info', Logger::SSL_HANDLE);
		self::schedule($name, self::DNS_HOOK, 0);
	}

	/**
	 * After the alias was removed: its jobs go and its record with them, so nothing about the
	 * name reaches Closte or the name's server any more.
	 */
	public static function alias_removed(string $name): void {

		$name = Network_Domains::normalise($name);
		self::forget_prefetched($name);
		self::unschedule_all($name);
		$record = Certificate_Records::get($name);
		if (null !== $record) {
			// Unmapping and mapping again must not reset the count Let's Encrypt keeps.
			Certificate_Records::keep_requests($name, Certificate_Policy::requests_in_window($record['requests'], time()));
			Certificate_Records::delete($name);
			Logger::log(sprintf('certificate for %s: no longer followed, its alias was removed', $name), 'info', Logger::SSL_HANDLE);
		}
	}

	/**
	 * Ultimate Multisite's DNS stage passed for a domain record: request its certificate now
	 * (through the gate), or, when the alias is not there yet, as soon as it is.
	 *
	 * @param mixed $domain The domain model (get_domain(), get_site_id()), or a name.
	 */
	public static function on_dns_propagation_finished($domain): void {

		$name    = is_object($domain) && method_exists($domain, 'get_domain') ? (string) $domain->get_domain() : (is_string($domain) ? $domain : '');
		$site_id = is_object($domain) && method_exists($domain, 'get_site_id') ? (int) $domain->get_site_id() : 0;
		$name    = Network_Domains::normalise($name);
		if ('' === $name || str_starts_with($name, '*.')) {
			return;
		}

		$record        = Certificate_Records::get($name) ?? self::new_record($name, $site_id, null);
		$record['dns'] = ['ready' => true, 'reason' => 'confirmed by Ultimate Multisite', 'checked_at' => time(), 'by' => 'ultimate-multisite', 'unexpected' => []];
		Certificate_Records::put($record);

		if (null === $record['alias_at']) {
			Logger::log(sprintf('certificate for %s: Ultimate Multisite confirmed its DNS; requested as soon as the alias exists', $name), 'info', Logger::SSL_HANDLE);
			return;
		}
		if ('waiting_dns' !== $record['state']) {
			return; // requested already: the verification or the backoff decides what comes next
		}
		Logger::log(sprintf('certificate for %s: Ultimate Multisite confirmed its DNS', $name), 'info', Logger::SSL_HANDLE);
		self::unschedule($name, self::DNS_HOOK);
		self::request($name, false);
	}

	/**
	 * "Retry now" of an administrator: checks DNS now and requests the certificate without
	 * waiting for the backoff. Never past the 7-day hold, which protects Let's Encrypt's limit of
	 * 5 certificates per name per week (no override).
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function retry_now(string $name): array {

		$name   = Network_Domains::normalise($name);
		$record = Certificate_Records::get($name);
		if (null === $record || null === $record['alias_at']) {
			/* translators: %s: domain name */
			return ['ok' => false, 'message' => sprintf(__('%s has no certificate followed by this integration (no alias, or a wildcard).', 'closte-native'), $name)];
		}
		$held = Certificate_Policy::held_until($record['requests'], time());
		if (null !== $held) {
			return [
				'ok'      => false,
				/* translators: 1: domain name, 2: number of requests, 3: date and time */
				'message' => sprintf(__('%1$s is held: %2$d certificate requests in 7 days, and Let\'s Encrypt issues at most 5 per name per week. The next request is possible from %3$s.', 'closte-native'), $name, Certificate_Policy::HOLD_AT, gmdate('Y-m-d H:i', $held) . ' UTC'),
			];
		}

		if (! self::confirmed_by_ultimate_multisite($record)) {
			$dns = self::check_dns($name);
			if (null === $dns) {
				/* translators: %s: domain name */
				return ['ok' => false, 'message' => sprintf(__('%s: the DNS check could not run; see the SSL log.', 'closte-native'), $name)];
			}
			if (! $dns['ready']) {
				/* translators: 1: domain name, 2: why DNS is not ready */
				return ['ok' => false, 'message' => sprintf(__('Certificate for %1$s not requested: DNS not ready: %2$s', 'closte-native'), $name, $dns['text'])];
			}
		}

		$sent = self::request($name, true);

		return [
			'ok'      => $sent,
			'message' => $sent
				/* translators: %s: domain name */
				? sprintf(__('Certificate for %s requested; it is checked by a TLS handshake in a minute.', 'closte-native'), $name)
				/* translators: %s: domain name */
				: sprintf(__('Certificate for %s: the request failed; see the SSL log. It is retried automatically.', 'closte-native'), $name),
		];
	}

	/**
	 * Action Scheduler callback: a DNS check of $name; a certificate request when ready.
	 *
	 * @param string $name The alias.
	 */
	public static function run_dns_check($name): void {

		$name = (string) $name;
		self::prefetch(Network_Domains::normalise($name));
		$record = self::live_record($name, 'DNS check', true);
		if (null === $record) {
			return;
		}
		if ('waiting_dns' !== $record['state']) {
			return; // a request went out since (Ultimate Multisite's hook, Retry now)
		}
		if (self::confirmed_by_ultimate_multisite($record)) {
			self::request($name, false);
			return;
		}

		$dns = self::check_dns($name, true);
		if (null !== $dns && $dns['ready']) {
			self::request($name, false);
			return;
		}

		$record = Certificate_Records::get($name);
		if (null === $record) {
			return;
		}
		$now   = time();
		$delay = Certificate_Policy::dns_delay((int) $record['dns_checks'], (int) $record['dns_first_at'], $now, self::dns_interval());
		$why   = null === $dns ? 'the DNS check could not run' : $dns['text'];
		$key   = 'dns:' . (null === $dns ? 'error' : $dns['key']);
		$record['state']   = 'waiting_dns';
		$record['next_at'] = $now + $delay;
		if ($record['logged'] !== $key) {
			$record['logged'] = $key;
			Logger::log(sprintf('certificate for %s held: DNS not ready: %s; checked again in %s', $name, $why, self::duration($delay)), 'info', Logger::SSL_HANDLE);
		}
		Certificate_Records::put($record);
		self::schedule($name, self::DNS_HOOK, $delay);
	}

	/**
	 * Action Scheduler callback: the request due after a backoff or a hold (this job is the
	 * scheduled time, so the backoff does not stop it; the hold still does).
	 *
	 * @param string $name The alias.
	 */
	public static function run_request($name): void {

		$name = (string) $name;
		if (null !== self::live_record($name, 'certificate request')) {
			self::request($name, true);
		}
	}

	/**
	 * Action Scheduler callback: the handshake after a request.
	 *
	 * @param string $name The alias.
	 */
	public static function run_verify($name): void {

		$name = (string) $name;
		if (null === self::live_record($name, 'certificate check')) {
			return;
		}
		try {
			$result = closte_verify_certificate($name);
		} catch (\Throwable $e) {
			Logger::log(sprintf('certificate check of %s: %s: %s', $name, get_class($e), $e->getMessage()), 'error', Logger::SSL_HANDLE);
			$result = ['ok' => false, 'error' => $e->getMessage(), 'certificate' => null];
		}
		self::apply_verification($name, $result, 'verify');
	}

	/**
	 * Stores what a handshake showed and decides what comes next. A certificate a visitor accepts
	 * (active, expiring) makes the name active; anything else, in the lifecycle (source other
	 * than 'watch'), counts as a failure and the certificate is requested again after the
	 * backoff (through the gate, which may hold). The daily watch (source 'watch') of a
	 * certificate that was good marks it a problem for the operator instead.
	 *
	 * @param string $name   The alias.
	 * @param array  $result A closte_verify_certificate() result.
	 * @param string $source 'verify' (the lifecycle's job), 'watch' (the daily watch), or another caller.
	 */
	public static function apply_verification(string $name, array $result, string $source): void {

		$name   = Network_Domains::normalise($name);
		$record = Certificate_Records::get($name);
		if (null === $record && 'watch' === $source) {
			// A name the network served before this lifecycle existed (mapped with an older
			// version, or added on Closte by hand): followed from its first daily check on.
			$record             = self::new_record($name, 0, null);
			$record['state']    = 'unchecked';
			$record['alias_at'] = time();
			Logger::log(sprintf('certificate for %s: followed by the daily watch from now on (the name was served before this integration followed certificates)', $name), 'info', Logger::SSL_HANDLE);
		}
		if (null === $record) {
			return;
		}
		$certificate = is_array($result['certificate'] ?? null) ? $result['certificate'] : [];
		$status      = (string) ($certificate['status'] ?? 'unreachable');
		$detail      = (string) ($certificate['detail'] ?? $result['error'] ?? 'no certificate check result');
		$record['certificate'] = [
			'status'              => $status,
			'issuer'              => $certificate['issuer'] ?? null,
			'issuer_organization' => $certificate['issuer_organization'] ?? null,
			'not_after'           => isset($certificate['not_after']) ? (int) $certificate['not_after'] : null,
			'days_left'           => isset($certificate['days_left']) ? (int) $certificate['days_left'] : null,
			'checked_at'          => (int) ($certificate['checked_at'] ?? time()),
			'address'             => $certificate['address'] ?? null,
			'detail'              => $detail,
		];

		if (in_array($status, self::GOOD, true)) {
			$changed              = $record['state'] !== $status;
			$record['state']      = $status;
			$record['failures']   = 0;
			$record['next_at']    = 0;
			$record['last_error'] = '';
			$record['logged']     = '';
			Certificate_Records::put($record);
			self::unschedule($name, self::REQUEST_HOOK);
			if ($changed) {
				Logger::log(
					sprintf(
						'certificate for %s is %s: issuer %s, expires %s (%d days)',
						$name,
						$status,
						$record['certificate']['issuer'] ?? $record['certificate']['issuer_organization'] ?? 'unknown',
						null === $record['certificate']['not_after'] ? '?' : gmdate('Y-m-d', $record['certificate']['not_after']),
						(int) $record['certificate']['days_left']
					),
					'expiring' === $status ? 'warning' : 'info',
					Logger::SSL_HANDLE
				);
			}
			return;
		}

		$record['last_error'] = $detail;
		if ('watch' === $source && in_array($record['state'], ['active', 'expiring', 'problem', 'unchecked'], true)) {
			$record['state'] = 'problem';
			Certificate_Records::put($record);
			return; // the watch logs and shows it with what to do
		}

		$record['failures'] = (int) $record['failures'] + 1;
		$delay              = Certificate_Policy::retry_delay($record['failures']);
		$record['state']    = 'backoff';
		$record['next_at']  = time() + $delay;
		Certificate_Records::put($record);
		Logger::log(sprintf('certificate for %s not active yet (%s, failure %d): %s; requested again in %s', $name, $status, $record['failures'], $detail, self::duration($delay)), 'warning', Logger::SSL_HANDLE);
		self::schedule($name, self::REQUEST_HOOK, $delay);
	}

	/**
	 * The gate of every certificate request: held at 4 requests in 7 days; while backing off,
	 * only the scheduled job or an administrator ($forced) sends it. Then the request, and the
	 * handshake after the backoff delay. True when Closte took the request (or issues by itself).
	 */
	private static function request(string $name, bool $forced): bool {

		$record = Certificate_Records::get($name);
		if (null === $record || null === $record['alias_at']) {
			return false;
		}
		$now  = time();
		$held = Certificate_Policy::held_until($record['requests'], $now);
		if (null !== $held) {
			self::hold($record, $held);
			return false;
		}
		if (! $forced && 'backoff' === $record['state'] && (int) $record['next_at'] > $now) {
			return false; // the job at next_at sends it
		}

		try {
			$result = closte_request_ssl($name);
		} catch (\Throwable $e) {
			$result = ['ok' => false, 'state' => 'failed', 'status' => 0, 'error_kind' => 'invalid_domain', 'error' => get_class($e) . ': ' . $e->getMessage()];
		}
		$no_endpoint = 'no_endpoint' === ($result['state'] ?? '');
		// A request counts against the window when it reached Closte's certificate endpoint. Where
		// Closte has none (it issues by itself once DNS points here), nothing was ordered.
		if (! empty($result['ok']) || ((int) ($result['status'] ?? 0) > 0 && ! $no_endpoint)) {
			$record['requests'][] = $now;
		}
		$record['requests'] = Certificate_Policy::requests_in_window($record['requests'], $now);
		self::unschedule($name, self::DNS_HOOK);
		self::unschedule($name, self::REQUEST_HOOK);

		if (! empty($result['ok']) || $no_endpoint) {
			$delay             = Certificate_Policy::retry_delay((int) $record['failures']);
			$record['state']   = 'requested';
			$record['next_at'] = $now + $delay;
			$record['logged']  = '';
			Certificate_Records::put($record);
			Logger::log(
				$no_endpoint
					? sprintf('certificate for %s: no SSL endpoint on Closte, which issues it by itself now that DNS points here; checked by handshake in %s', $name, self::duration($delay))
					: sprintf('certificate for %s requested (%d in 7 days); checked by handshake in %s', $name, count($record['requests']), self::duration($delay)),
				'info',
				Logger::SSL_HANDLE
			);
			self::schedule($name, self::VERIFY_HOOK, $delay);
			return true;
		}

		$record['failures']   = (int) $record['failures'] + 1;
		$delay                = Certificate_Policy::retry_delay($record['failures']);
		$record['state']      = 'backoff';
		$record['next_at']    = $now + $delay;
		$record['last_error'] = sprintf('(%s) %s', $result['error_kind'] ?? '?', $result['error'] ?? '');
		Certificate_Records::put($record);
		Logger::log(sprintf('certificate request for %s failed %s; requested again in %s', $name, $record['last_error'], self::duration($delay)), 'warning', Logger::SSL_HANDLE);
		self::schedule($name, self::REQUEST_HOOK, $delay);

		return false;
	}

	/**
	 * Holds $record until $until: logged once per hold; one request job at its end (replacing a
	 * pending one, so a job run early never leaves the name without one).
	 */
	private static function hold(array $record, int $until): void {

		$name = $record['name'];
		$key  = 'held:' . $until;
		$record['state']   = 'held';
		$record['next_at'] = $until;
		self::unschedule($name, self::DNS_HOOK);
		if ($record['logged'] !== $key) {
			$record['logged'] = $key;
			Logger::log(sprintf('certificate for %s held: %d certificate requests in 7 days (Let\'s Encrypt allows 5 per name per week, with no override); no request before %s', $name, Certificate_Policy::HOLD_AT, gmdate('Y-m-d H:i', $until) . ' UTC'), 'warning', Logger::SSL_HANDLE);
		}
		Certificate_Records::put($record);
		self::schedule($name, self::REQUEST_HOOK, max(0, $until - time()));
	}

	/**
	 * Our own DNS check of $name against the network's main host, stored in the record. Null
	 * when the check could not run at all (logged). $prefetched: a DNS job may use the finding
	 * the look-ahead made for it (once); Retry now always checks anew.
	 *
	 * @return array{ready: bool, key: string, text: string}|null
	 */
	private static function check_dns(string $name, bool $prefetched = false): ?array {

		$main   = (string) get_network()->domain;
		$result = $prefetched ? self::take_prefetched_dns($name, $main) : null;
		try {
			$result ??= closte_check_dns($name, $main);
		} catch (\Throwable $e) {
			Logger::log(sprintf('DNS check of %s: %s: %s', $name, get_class($e), $e->getMessage()), 'error', Logger::SSL_HANDLE);
			return null;
		}

		$record = Certificate_Records::get($name);
		if (null === $record) {
			return null;
		}
		$now = time();
		$record['dns_checks']   = (int) $record['dns_checks'] + 1;
		$record['dns_first_at'] = (int) $record['dns_first_at'] ?: $now;
		$dns                    = is_array($result['dns'] ?? null) ? $result['dns'] : null;
		if (null === $dns) {
			$text          = sprintf('the lookup failed (%s): %s', $result['error_kind'] ?? '?', $result['error'] ?? '');
			$record['dns'] = ['ready' => false, 'reason' => 'failed', 'checked_at' => $now, 'by' => 'closte', 'unexpected' => []];
			Certificate_Records::put($record);
			return ['ready' => false, 'key' => 'failed:' . ($result['error_kind'] ?? ''), 'text' => $text];
		}

		$ready         = ! empty($dns['ready']);
		$reason        = (string) ($dns['reason'] ?? '');
		$record['dns'] = ['ready' => $ready, 'reason' => $reason, 'checked_at' => $now, 'by' => 'closte', 'unexpected' => array_values((array) ($dns['unexpected'] ?? []))];
		Certificate_Records::put($record);

		$addresses = implode(', ', array_map('strval', (array) ($dns['addresses'] ?? [])));
		$expected  = implode(', ', array_map('strval', (array) ($dns['expected_addresses'] ?? [])));
		$host      = (string) ($dns['expected'] ?? $main);
		switch ($reason) {
			case 'ready':
				$text = sprintf('%s resolves to %s', $name, $addresses);
				break;
			case 'no_address':
				$text = sprintf('%s has no address (no A or AAAA record)', $name);
				break;
			case 'expected_unresolved':
				$text = sprintf('this network\'s main host %s has no address to compare %s with', $host, $name);
				break;
			default:
				$text = sprintf('%s resolves to %s, not to this network\'s %s (%s)', $name, $addresses, $expected, $host);
		}

		return ['ready' => $ready, 'key' => $reason . ':' . $addresses, 'text' => $text];
	}

	/**
	 * The record of a job's name, or null when the job must stop: the alias was removed (no
	 * record), or the name is no longer used on the network (record deleted here). $prefetched:
	 * a DNS job may take "used" from the look-ahead (once, PREFETCH_USE_TTL); a name the
	 * look-ahead did not find used is always asked of Network_Domains::users_of(), the only
	 * answer that may drop it.
	 */
	private static function live_record(string $name, string $job, bool $prefetched = false): ?array {

		$name   = Network_Domains::normalise($name);
		$record = Certificate_Records::get($name);
		if (null === $record || null === $record['alias_at']) {
			return null;
		}
		if ($prefetched && self::take_prefetched_use($name)) {
			return $record;
		}
		$users = Network_Domains::users_of($name);
		if ($users['complete'] && [] === $users['users']) {
			self::unschedule_all($name);
			Certificate_Records::delete($name);
			Logger::log(sprintf('certificate for %s: %s dropped, nothing on the network uses the name any more', $name, $job), 'info', Logger::SSL_HANDLE);
			return null;
		}

		return $record;
	}

	/**
	 * The look-ahead of a DNS job whose finding is not kept yet: the DNS jobs due now (this one
	 * first, then Action Scheduler's order, at most PREFETCH_PER_SLOT x closte.concurrency),
	 * their names looked up on the network together (Network_Domains::lookup(), the indexed
	 * first step of users_of(); only "used" is kept from it) and their DNS checked together
	 * (closte_enqueue 'check_dns', closte_wait). Read-only: no record, job or log changes here.
	 * Anything that fails leaves the jobs to check for themselves, as without it.
	 */
	private static function prefetch(string $name): void {

		$main = (string) get_network()->domain;
		$now  = microtime(true);
		self::expire_prefetched($now);
		if (isset(self::$prefetched_dns[ self::prefetch_key($name, $main) ])) {
			return;
		}
		$names = array_values(array_unique(array_merge([$name], self::due_dns_names(self::PREFETCH_PER_SLOT * Implementation::concurrency()))));
		$names = array_values(array_filter($names, static fn (string $n) => '' !== $n && ! str_starts_with($n, '*.') && ! isset(self::$prefetched_dns[ self::prefetch_key($n, $main) ])));
		if (count($names) < 2) {
			return; // a job alone checks for itself, as it always did
		}

		if (! has_filter('closte_native_sync_domains')) {
			// users_of()'s first step for all of them at once; what it shows used is used. The
			// names only, not their twins (lookup() reads each form on its own): a name used only
			// through its twin is found by its job's own users_of().
			$network = Network_Domains::lookup($names);
			foreach ($names as $n) {
				if ([] !== Network_Domains::uses($network, $n)) {
					self::$prefetched_use[ $n ] = $now;
				}
			}
		}

		// Every name of this look-ahead is marked, found or not, so that the jobs that follow do
		// not look ahead again for it; a name without a finding checks for itself.
		foreach ($names as $n) {
			self::$prefetched_dns[ self::prefetch_key($n, $main) ] = ['result' => null, 'at' => $now];
		}
		if (! function_exists('closte_enqueue') || ! function_exists('closte_wait')) {
			return;
		}
		$jobs = [];
		foreach ($names as $n) {
			try {
				$jobs[ closte_enqueue('check_dns', $n, 0, ['expected_host' => $main]) ] = $n;
			} catch (\Closte\InvalidDomainException $e) {
				continue; // that name's job checks itself and logs why it cannot
			} catch (\Throwable $e) {
				// An extension without the operation, a setting in error: each job checks itself
				// (and logs what is wrong, as before).
				break;
			}
		}
		if ([] === $jobs) {
			return;
		}
		try {
			$results = closte_wait(array_keys($jobs), self::PREFETCH_WAIT);
		} catch (\Throwable $e) {
			return;
		}
		$at = microtime(true);
		foreach ($results as $id => $result) {
			if (isset($jobs[ $id ]) && is_array($result) && 'pending' !== ($result['state'] ?? 'pending') && 'unknown' !== ($result['state'] ?? '')) {
				self::$prefetched_dns[ self::prefetch_key($jobs[ $id ], $main) ] = ['result' => $result, 'at' => $at];
			}
		}
	}

	/**
	 * The names of the DNS jobs due now, at most $limit, by scheduled time (as_get_scheduled_actions;
	 * a queue runner claims by attempts first, so the look-ahead may pick others than it runs
	 * next: a name not looked ahead at checks for itself).
	 *
	 * @return list<string>
	 */
	private static function due_dns_names(int $limit): array {

		// Action Scheduler's public query only: a query of its tables here would be code that no
		// test runs (the e2e network runs a stand-in of Action Scheduler, not its database store).
		$args = [];
		if (function_exists('as_get_scheduled_actions')) {
			$actions = as_get_scheduled_actions(['hook' => self::DNS_HOOK, 'group' => Background_Jobs::GROUP, 'status' => 'pending', 'date' => time(), 'date_compare' => '<=', 'orderby' => 'date', 'order' => 'ASC', 'per_page' => $limit], OBJECT);
			foreach ((array) $actions as $action) {
				if (is_object($action) && method_exists($action, 'get_args')) {
					$args[] = $action->get_args(); // ActionScheduler_Action
				}
			}
		}

		$names = [];
		foreach ($args as $arg) {
			if (is_array($arg) && isset($arg[0]) && is_string($arg[0])) {
				$names[] = Network_Domains::normalise($arg[0]);
			}
		}

		return array_slice($names, 0, $limit);
	}

	/** The look-ahead's DNS finding of $name (used once), or null. */
	private static function take_prefetched_dns(string $name, string $main): ?array {

		$key   = self::prefetch_key(Network_Domains::normalise($name), $main);
		$found = self::$prefetched_dns[ $key ] ?? null;
		unset(self::$prefetched_dns[ $key ]);

		return null !== $found && microtime(true) - $found['at'] <= self::PREFETCH_DNS_TTL ? $found['result'] : null;
	}

	/** Whether the look-ahead found $name used a moment ago (used once). */
	private static function take_prefetched_use(string $name): bool {

		$at = self::$prefetched_use[ $name ] ?? null;
		unset(self::$prefetched_use[ $name ]);

		return null !== $at && microtime(true) - $at <= self::PREFETCH_USE_TTL;
	}

	/** A name mapped or unmapped again starts from a fresh look. */
	private static function forget_prefetched(string $name): void {

		unset(self::$prefetched_use[ $name ]);
		foreach (array_keys(self::$prefetched_dns) as $key) {
			if (str_starts_with($key, $name . ' ')) {
				unset(self::$prefetched_dns[ $key ]);
			}
		}
	}

	private static function expire_prefetched(float $now): void {

		self::$prefetched_dns = array_filter(self::$prefetched_dns, static fn (array $found) => $now - $found['at'] <= self::PREFETCH_DNS_TTL);
		self::$prefetched_use = array_filter(self::$prefetched_use, static fn (float $at) => $now - $at <= self::PREFETCH_USE_TTL);
	}

	private static function prefetch_key(string $name, string $main): string {

		return $name . ' ' . strtolower($main);
	}

	/** A fresh record that carries the requests of the name's earlier alias still in the window. */
	private static function new_record(string $name, int $site_id, ?string $twin_of): array {

		$record             = Certificate_Records::fresh($name, $site_id, $twin_of);
		$record['requests'] = Certificate_Policy::requests_in_window(Certificate_Records::kept_requests($name), time());

		return $record;
	}

	private static function confirmed_by_ultimate_multisite(array $record): bool {

		return ! empty($record['dns']['ready']) && 'ultimate-multisite' === $record['dns']['by'];
	}

	/** One job of $hook for $name: a pending one is replaced. */
	private static function schedule(string $name, string $hook, int $delay): void {

		Background_Jobs::unschedule($hook, [$name]);
		Background_Jobs::schedule($hook, $delay, [$name]);
	}

	private static function unschedule(string $name, string $hook): void {

		Background_Jobs::unschedule($hook, [$name]);
	}

	private static function unschedule_all(string $name): void {

		foreach (self::HOOKS as $hook) {
			Background_Jobs::unschedule($hook, [$name]);
		}
	}

	/** Ultimate Multisite's DNS check interval (default 300 s). */
	private static function dns_interval(): int {

		return function_exists('wu_get_setting') ? (int) wu_get_setting('dns_check_interval', 300) : 300;
	}

	/** "45 s", "5 min", "2 h", "1 day" for log lines. */
	private static function duration(int $seconds): string {

		if ($seconds < 60) {
			return $seconds . ' s';
		}
		if ($seconds < 3600) {
			return round($seconds / 60) . ' min';
		}
		if ($seconds < 86400) {
			return round($seconds / 3600) . ' h';
		}
		$days = (int) round($seconds / 86400);

		return 1 === $days ? '1 day' : $days . ' days';
	}
}
