<?php
/**
 * `wp closte`: the plugin from the command line, for network operators and their scripts.
 * A thin shell: the work is done by Status_Report, Connection_Test, Sync_Service and
 * Domain_Status, which the admin pages and the tests use too; this class only parses options,
 * prints and chooses the exit code. Registered only when WP-CLI runs.
 *
 * Exit codes (scripts can trust them):
 *   0  done
 *   1  failed, and it will not pass by itself: the key was refused, the plugin is not
 *      configured, no closte implementation is loaded, a domain failed for good
 *   2  refused before changing anything: a bad option, a sync already running, a prune whose
 *      list of the network's domains is incomplete, removals not confirmed (or confirmed for a
 *      set that has changed since)
 *   3  failed, and it may pass: Closte could not be reached or answered with a temporary error
 *      (try again later; nothing is lost)
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Closte for Ultimate Multisite: status, connection test, sync and the domain list.
 */
final class Cli_Command {

	const OK          = 0;
	const FAILED      = 1;
	const REFUSED     = 2;
	const RETRY_LATER = 3;

	public static function register(): void {

		if (defined('WP_CLI') && WP_CLI && class_exists('WP_CLI')) {
			\WP_CLI::add_command('closte', self::class);
		}
	}

	/**
	 * The exit code for a failed closte result: 3 when it may pass (retryable), else 1.
	 *
	 * @param array $result A closte result array (ok, error_kind, retryable).
	 */
	public static function exit_code_for(array $result): int {

		if (! empty($result['ok'])) {
			return self::OK;
		}

		return ! empty($result['retryable']) ? self::RETRY_LATER : self::FAILED;
	}

	/**
	 * Shows which closte implementation runs, whether the key is there, what is queued and the
	 * state of the last sync. Makes no request to Closte.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : table (default) or json.
	 *
	 * ## EXAMPLES
	 *
	 *     wp closte status
	 *
	 * @param array $args       Positional arguments.
	 * @param array $assoc_args Options.
	 */
	public function status($args, $assoc_args): void {

		$format = self::format($assoc_args, ['table', 'json']);
		$report = Status_Report::collect();
		if ('json' === $format) {
			\WP_CLI::line((string) wp_json_encode($report));
		} else {
			$rows = [];
			foreach ($report as $field => $value) {
				if ('queued' === $field) {
					foreach ($value as $kind => $count) {
						$rows[] = ['field' => "queued $kind", 'value' => (string) $count];
					}
					continue;
				}
				$rows[] = ['field' => $field, 'value' => is_bool($value) ? ($value ? 'yes' : 'no') : (string) ($value ?? '-')];
			}
			\WP_CLI\Utils\format_items('table', $rows, ['field', 'value']);
		}
		if (null === $report['implementation']) {
			\WP_CLI::error(Implementation::note(), self::FAILED);
		}
		if (! $report['key_configured']) {
			\WP_CLI::error(__('No Closte API key is configured: define CLOSTE_CLIENT_API_KEY in wp-config.php (Closte does this for you) or set closte.api_key.', 'closte-native'), self::FAILED);
		}
	}

	/**
	 * Tests the key and the connection to Closte without changing anything.
	 *
	 * ## EXAMPLES
	 *
	 *     wp closte test
	 *
	 * @param array $args       Positional arguments.
	 * @param array $assoc_args Options.
	 */
	public function test($args, $assoc_args): void {

		self::require_implementation();
		$answer = Connection_Test::run();
		if (is_wp_error($answer)) {
			$data = (array) $answer->get_error_data();
			$code = self::exit_code_for(['ok' => false, 'retryable' => ! empty($data['retryable'])]);
			\WP_CLI::error(sprintf('%s (%s)', html_entity_decode(wp_strip_all_tags($answer->get_error_message()), ENT_QUOTES), $answer->get_error_code()), $code);
		}
		/* translators: %s: milliseconds */
		\WP_CLI::success(sprintf(__('Access Authorized: Closte accepted the key (%s ms).', 'closte-native'), number_format_i18n($answer['elapsed_ms'], 0)));
	}

	/**
	 * Adds every domain the network serves that Closte lacks (with its certificate), and with
	 * --prune removes aliases this plugin added that nothing uses, after you confirm exactly
	 * that set.
	 *
	 * A removal needs two runs: `--prune --dry-run` shows what would be removed and why, with a
	 * confirmation code for exactly that set; `--prune --confirm=<code>` removes it, and only if
	 * a fresh preview gives the same set (the code starts with the number of removals).
	 *
	 * Aliases this plugin did not add (there before, added by hand or by other software) are
	 * listed as "unowned" and left alone. To remove some of them anyway, name each one with
	 * --remove-unowned and confirm that exact set with the code --dry-run prints for it
	 * (--confirm-unowned). Wildcard aliases, the network's own domains, every name in use and
	 * its www./bare twin are never removed, and nothing is removed when the network's list of
	 * domains is incomplete. Runs under the same lock as the Closte Sync page.
	 *
	 * ## OPTIONS
	 *
	 * [--prune]
	 * : Also remove aliases this plugin added that no site, domain record or protected name uses.
	 *
	 * [--dry-run]
	 * : Show what would change, change nothing.
	 *
	 * [--confirm=<code>]
	 * : The confirmation code a --prune --dry-run printed for its removals.
	 *
	 * [--remove-unowned=<names>]
	 * : Comma-separated aliases, each listed as unowned by the preview, to remove as well.
	 *
	 * [--confirm-unowned=<code>]
	 * : The confirmation code a --dry-run printed for exactly the --remove-unowned names.
	 *
	 * [--concurrency=<n>]
	 * : Requests at a time, 1 to 256 (default: the closte.concurrency setting).
	 *
	 * ## EXAMPLES
	 *
	 *     wp closte sync
	 *     wp closte sync --prune --dry-run
	 *     wp closte sync --prune --confirm=3-5f0c1d2e9a7b
	 *     wp closte sync --prune --remove-unowned=old.example.com --dry-run
	 *
	 * @param array $args       Positional arguments.
	 * @param array $assoc_args Options.
	 */
	public function sync($args, $assoc_args): void {

		$prune           = (bool) \WP_CLI\Utils\get_flag_value($assoc_args, 'prune', false);
		$dry_run         = (bool) \WP_CLI\Utils\get_flag_value($assoc_args, 'dry-run', false);
		$confirm         = isset($assoc_args['confirm']) ? trim((string) $assoc_args['confirm']) : null;
		$unowned         = self::name_list($assoc_args, 'remove-unowned');
		$confirm_unowned = isset($assoc_args['confirm-unowned']) ? trim((string) $assoc_args['confirm-unowned']) : null;
		$concurrency     = self::concurrency($assoc_args);
		if ((null !== $confirm || [] !== $unowned || null !== $confirm_unowned) && ! $prune) {
			\WP_CLI::error(__('--confirm, --remove-unowned and --confirm-unowned are about removals, which only --prune makes.', 'closte-native'), self::REFUSED);
		}
		if (null !== $confirm_unowned && [] === $unowned) {
			\WP_CLI::error(__('--confirm-unowned confirms the names given with --remove-unowned; none were given.', 'closte-native'), self::REFUSED);
		}
		self::require_implementation();
		if (Sync_State::is_busy(Sync_State::get())) {
			\WP_CLI::error(__('A sync is already queued or running (Network Admin > Settings > Closte Sync); nothing was changed.', 'closte-native'), self::REFUSED);
		}

		$plan = self::guarded(static fn () => Sync_Plan::preview($prune));
		if (! $plan['listing_ok']) {
			/* translators: %s: why */
			\WP_CLI::error(sprintf(__('Closte\'s alias list could not be read: %s Nothing was changed.', 'closte-native'), $plan['listing']), $plan['listing_may_pass'] ? self::RETRY_LATER : self::FAILED);
		}
		self::print_plan($plan);
		if ($prune && ! $plan['prune']) {
			/* translators: %s: what is missing */
			\WP_CLI::error(sprintf(__('Nothing will be removed: %s.', 'closte-native'), Sync_Messages::join($plan['warnings'])), self::REFUSED);
		}
		$not_unowned = array_diff($unowned, array_keys($plan['unowned']));
		if ([] !== $not_unowned) {
			/* translators: %s: alias names */
			\WP_CLI::error(sprintf(__('--remove-unowned takes only aliases the preview lists as unowned; not: %s. Nothing was changed.', 'closte-native'), implode(', ', array_map([Logger::class, 'one_line'], $not_unowned))), self::REFUSED);
		}
		$token         = Sync_Plan::confirmation_token($plan);
		$unowned_token = [] === $unowned ? null : Sync_Plan::names_token($unowned);
		if ($dry_run) {
			if ($prune && [] !== $plan['to_remove']) {
				/* translators: %s: the confirmation code */
				\WP_CLI::log(sprintf(__('To remove exactly these aliases, run: wp closte sync --prune --confirm=%s', 'closte-native'), $token));
			}
			if (null !== $unowned_token) {
				/* translators: 1: the names, 2: the confirmation code */
				\WP_CLI::log(sprintf(__('To remove the unowned aliases %1$s as well, add: --remove-unowned=%1$s --confirm-unowned=%2$s', 'closte-native'), implode(',', array_map([Logger::class, 'one_line'], $unowned)), $unowned_token));
			}
			\WP_CLI::success(__('Dry run: nothing was changed.', 'closte-native'));
			return;
		}
		if ($prune && [] !== $plan['to_remove'] && $confirm !== $token) {
			\WP_CLI::error(
				null === $confirm
					/* translators: %s: the confirmation code */
					? sprintf(__('Removals must be confirmed: check the list above, then run wp closte sync --prune --confirm=%s. Nothing was changed.', 'closte-native'), $token)
					: __('The confirmation code is not the one for the current set of removals (it changed since your preview). Nothing was changed; run --prune --dry-run again.', 'closte-native'),
				self::REFUSED
			);
		}
		if (null !== $unowned_token && $confirm_unowned !== $unowned_token) {
			\WP_CLI::error(
				null === $confirm_unowned
					? __('Removing aliases this plugin did not add must be confirmed: run the same command with --dry-run, check the list, then add the --confirm-unowned code it prints. Nothing was changed.', 'closte-native')
					: __('The --confirm-unowned code is not the one for these names. Nothing was changed; run with --dry-run again.', 'closte-native'),
				self::REFUSED
			);
		}

		if (null !== $concurrency) {
			add_filter('closte_native_sync_concurrency', static fn () => $concurrency);
		}
		$total  = count($plan['to_add']) + ($plan['prune'] ? count($plan['to_remove']) + count($unowned) : 0);
		$bar    = \WP_CLI\Utils\make_progress_bar(__('Syncing with Closte', 'closte-native'), max($total, 1));
		$shown  = 0;
		$report = self::guarded(
			static function () use ($plan, $unowned, $bar, &$shown) {
				return Sync_Service::apply_now(
					$plan,
					$unowned,
					static function (int $done, int $total) use ($bar, &$shown): void {
						$bar->tick($done - $shown);
						$shown = $done;
					}
				);
			}
		);
		$bar->finish();
		if (is_wp_error($report)) {
			\WP_CLI::error($report->get_error_message(), self::REFUSED);
		}
		if (isset($report['error'])) {
			\WP_CLI::error($report['error'], self::FAILED);
		}

		foreach ($report['added'] as $domain) {
			\WP_CLI::log('added    ' . Logger::one_line($domain));
		}
		foreach ($report['removed'] as $domain) {
			\WP_CLI::log('removed  ' . Logger::one_line($domain));
		}
		foreach ($report['kept'] as $name => $why) {
			\WP_CLI::log('kept     ' . Logger::one_line((string) $name) . ': ' . Logger::one_line(Sync_Messages::text($why)));
		}
		foreach ($report['skipped'] as $name => $why) {
			\WP_CLI::log('skipped  ' . Logger::one_line((string) $name) . ': ' . Logger::one_line(Sync_Messages::text($why)));
		}
		foreach ($report['failed'] as $domain => $why) {
			\WP_CLI::warning(Logger::one_line((string) $domain) . ': ' . Logger::one_line($why));
		}
		// A report keeps the first Sync_State::SHOWN names of each list; the log has every one.
		foreach (Sync_Plan::REPORT_LISTS as $list) {
			$more = Sync_Plan::report_count($report, $list) - count((array) $report[ $list ]);
			if ($more > 0) {
				/* translators: 1: how many more, 2: the list (added, removed, kept, skipped, failed) */
				\WP_CLI::log(sprintf(__('... %1$d more in "%2$s": the log (wu-logs/integration-closte.log) has every one.', 'closte-native'), $more, $list));
			}
		}
		foreach ($report['warnings'] as $warning) {
			\WP_CLI::warning(Logger::one_line(Sync_Messages::text($warning)));
		}
		$summary = sprintf(
			/* translators: 1: added, 2: removed, 3: unchanged, 4: failed */
			__('%1$d added, %2$d removed, %3$d unchanged, %4$d failed.', 'closte-native'),
			Sync_Plan::report_count($report, 'added'),
			Sync_Plan::report_count($report, 'removed'),
			$report['unchanged'],
			Sync_Plan::report_count($report, 'failed')
		);
		if ($report['ok']) {
			\WP_CLI::success($summary);
			return;
		}
		\WP_CLI::error(trim($summary . ' ' . $report['listing']), $report['may_pass'] ? self::RETRY_LATER : self::FAILED);
	}

	/**
	 * A comma-separated option as a list of normalised names (an empty option gives none).
	 *
	 * @return string[]
	 */
	private static function name_list(array $assoc_args, string $option): array {

		$names = [];
		foreach (explode(',', (string) ($assoc_args[ $option ] ?? '')) as $name) {
			if ('' !== trim($name)) {
				$names[] = Network_Domains::normalise($name);
			}
		}
		$names = array_values(array_unique($names));
		sort($names, SORT_STRING);

		return $names;
	}

	/** The fields `wp closte domains` shows unless --fields says otherwise. */
	const DOMAIN_FIELDS = ['name', 'site', 'alias', 'owner', 'twin', 'dns', 'certificate', 'expires', 'checked', 'next', 'error'];

	/** Every field --fields may name: the default ones, then the row's other columns. */
	const DOMAIN_EXTRA_FIELDS = ['kind', 'dns_reason', 'certificate_status', 'issuer', 'expires_at', 'days_left', 'checked_at', 'next_at', 'attention', 'needs_attention'];

	/**
	 * Lists every site host, domain record and www twin with its state on Closte: alias (yes,
	 * no, unknown when Closte's list could not be read), owner (plugin: this integration added
	 * it; before: it was there before), twin, DNS, certificate (state, expiry, last check), the
	 * next scheduled job and the last error. One listing request (reused for a minute), no change.
	 * Exit code 1 when any row listed needs attention (for monitoring), 3 when Closte's list
	 * could not be read and that may pass, 0 otherwise.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : table (default), json, csv, yaml or count.
	 *
	 * [--fields=<fields>]
	 * : Comma-separated fields. Default: name,site,alias,owner,twin,dns,certificate,expires,checked,next,error. Also: kind, dns_reason, certificate_status, issuer, expires_at, days_left, checked_at, next_at, attention, needs_attention.
	 *
	 * [--status=<status>]
	 * : needs-attention: only the rows that need attention.
	 *
	 * [--search=<text>]
	 * : Only names containing this text.
	 *
	 * ## EXAMPLES
	 *
	 *     wp closte domains --status=needs-attention --fields=name,alias,certificate,error
	 *     wp closte domains --format=count --status=needs-attention
	 *
	 * @param array $args       Positional arguments.
	 * @param array $assoc_args Options.
	 */
	public function domains($args, $assoc_args): void {

		$format = self::format($assoc_args, ['table', 'json', 'csv', 'yaml', 'count']);
		$fields = self::DOMAIN_FIELDS;
		if (isset($assoc_args['fields'])) {
			$fields  = array_values(array_filter(array_map('trim', explode(',', (string) $assoc_args['fields'])), 'strlen'));
			$known   = array_merge(self::DOMAIN_FIELDS, self::DOMAIN_EXTRA_FIELDS);
			$unknown = array_diff($fields, $known);
			if ([] === $fields || [] !== $unknown) {
				/* translators: 1: the unknown fields, 2: the known ones */
				\WP_CLI::error(sprintf(__('--fields: unknown field(s) %1$s; known: %2$s.', 'closte-native'), Logger::one_line(implode(', ', $unknown ?: ['(none given)'])), implode(', ', $known)), self::REFUSED);
			}
		}
		$status = (string) ($assoc_args['status'] ?? '');
		if ('' !== $status && 'needs-attention' !== $status) {
			/* translators: %s: the given status */
			\WP_CLI::error(sprintf(__('--status=%s is not one of: needs-attention.', 'closte-native'), Logger::one_line($status)), self::REFUSED);
		}
		self::require_implementation();

		$result = self::guarded(
			static fn () => Domain_Status::rows(
				[
					'search'   => (string) ($assoc_args['search'] ?? ''),
					'status'   => '' === $status ? '' : 'needs_attention',
					'per_page' => 0,
				]
			)
		);
		$items = [];
		foreach ($result['rows'] as $row) {
			$item = self::domain_item($row);
			if ('json' !== $format) {
				foreach ($item as $key => $value) {
					$item[ $key ] = is_string($value) ? Logger::one_line($value) : $value; // names come from the network
				}
			}
			$items[] = $item;
		}
		\WP_CLI\Utils\format_items($format, $items, implode(',', $fields));

		$listing = $result['listing'];
		if (! $listing['ok']) {
			\WP_CLI::warning(Logger::one_line(sprintf(__('Closte\'s alias list could not be read: %s', 'closte-native'), (string) $listing['error'])));
			\WP_CLI::halt(! empty($listing['retryable']) ? self::RETRY_LATER : self::FAILED);
		}
		foreach ($result['rows'] as $row) {
			if ($row['needs_attention']) {
				\WP_CLI::halt(self::FAILED);
			}
		}
	}

	/** A Domain_Status row as the command's fields. */
	private static function domain_item(array $row): array {

		$date = static fn (?int $time, string $format) => null === $time ? null : gmdate($format, $time);
		$next = $row['next_action'];

		return [
			'name'               => $row['name'],
			'site'               => $row['site_id'],
			'alias'              => $row['alias'],
			'owner'              => $row['owner'],
			'twin'               => $row['twin'],
			'dns'                => $row['dns'],
			'certificate'        => $row['certificate'],
			/* translators: 1: date, 2: number of days */
			'expires'            => null === $row['expires_at'] ? null : sprintf(__('%1$s (%2$d days)', 'closte-native'), $date($row['expires_at'], 'Y-m-d'), (int) $row['days_left']),
			'checked'            => $date($row['checked_at'], 'Y-m-d H:i'),
			'next'               => null === $next ? null : $next['label'] . ' ' . $date((int) $next['at'], 'Y-m-d H:i'),
			'error'              => $row['last_error'],
			'kind'               => $row['kind'],
			'dns_reason'         => $row['dns_reason'],
			'certificate_status' => $row['certificate_status'],
			'issuer'             => $row['issuer'],
			'expires_at'         => $row['expires_at'],
			'days_left'          => $row['days_left'],
			'checked_at'         => $row['checked_at'],
			'next_at'            => null === $next ? null : (int) $next['at'],
			'attention'          => $row['attention'],
			'needs_attention'    => $row['needs_attention'],
		];
	}

	private static function require_implementation(): void {

		if (null === Implementation::current()) {
			\WP_CLI::error(Implementation::note(), self::FAILED);
		}
	}

	/**
	 * Runs $work; a closte exception (no key, a bad setting) or a sync that cannot go on
	 * (Sync_Stopped) becomes an error line and exit 1.
	 */
	private static function guarded(callable $work) {

		try {
			return $work();
		} catch (\Closte\Exception $e) {
			\WP_CLI::error(Logger::redact(get_class($e) . ': ' . $e->getMessage()), self::FAILED);
		} catch (Sync_Stopped $e) {
			\WP_CLI::error(Logger::redact($e->getMessage()), self::FAILED); // written for the operator
		}
	}

	/** --format, one of $allowed; anything else is refused before any work. */
	private static function format(array $assoc_args, array $allowed): string {

		$format = (string) ($assoc_args['format'] ?? $allowed[0]);
		if (! in_array($format, $allowed, true)) {
			/* translators: 1: the given format, 2: the allowed ones */
			\WP_CLI::error(sprintf(__('--format=%1$s is not one of: %2$s.', 'closte-native'), $format, implode(', ', $allowed)), self::REFUSED);
		}

		return $format;
	}

	/** --concurrency as an int from 1 to 256, null when not given; anything else is refused. */
	private static function concurrency(array $assoc_args): ?int {

		if (! isset($assoc_args['concurrency'])) {
			return null;
		}
		$value = (string) $assoc_args['concurrency'];
		if (1 !== preg_match('/^[0-9]{1,3}$/', $value) || (int) $value < 1 || (int) $value > 256) {
			/* translators: %s: the given value */
			\WP_CLI::error(sprintf(__('--concurrency must be a whole number from 1 to 256, not "%s". Nothing was changed.', 'closte-native'), $value), self::REFUSED);
		}

		return (int) $value;
	}

	private static function print_plan(array $plan): void {

		$sections = [
			'to add     ' => $plan['to_add'],
			'to remove  ' => $plan['to_remove'],
			'unowned    ' => $plan['unowned'],
			'kept       ' => $plan['kept'],
			'skipped    ' => $plan['skipped'],
		];
		foreach ($sections as $label => $rows) {
			foreach ($rows as $name => $why) {
				\WP_CLI::log($label . Logger::one_line((string) $name) . ': ' . Logger::one_line(Sync_Messages::text($why)));
			}
		}
		foreach ($plan['warnings'] as $warning) {
			/* translators: %s: what is missing */
			\WP_CLI::warning(sprintf(__('The network\'s list is incomplete, so nothing can be removed: %s', 'closte-native'), Logger::one_line(Sync_Messages::text($warning))));
		}
		\WP_CLI::log(Sync_Messages::plan_summary($plan));
	}
}
