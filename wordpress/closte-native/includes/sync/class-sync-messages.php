<?php
/**
 * Why a name is where it is in a sync plan or report, stored as a code and translated when shown.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * A plan is stored in a network option and read later, possibly by an operator with another
 * language: its reasons are codes with arguments (`['code' => 'twin', 'args' => ['a.com']]`),
 * and text() puts them into words in the language of whoever reads them. The refusals of a
 * request, failures, and a plan's one-line summary are put into words here too.
 */
final class Sync_Messages {

	/**
	 * A stored reason.
	 *
	 * @param string $code One of the codes text() knows.
	 * @param mixed  ...$args Its arguments (scalars, lists of scalars, or nested reasons).
	 * @return array{code: string, args: array}
	 */
	public static function reason(string $code, ...$args): array {

		return ['code' => $code, 'args' => $args];
	}

	/**
	 * A reason as one short string, for the long lists of a stored plan: a JSON object of 30-odd
	 * bytes where an array costs about 500 in memory (100,000 names in a plan).
	 *
	 * @param array{code: string, args: array} $reason
	 */
	public static function pack(array $reason): string {

		return (string) wp_json_encode(['code' => (string) $reason['code'], 'args' => array_values((array) ($reason['args'] ?? []))], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
	}

	/**
	 * A reason from pack(), or a reason() as it is; a plain string (a plan stored before 0.4) is
	 * a custom reason.
	 *
	 * @param array|string $reason
	 * @return array{code: string, args: array}
	 */
	public static function unpack($reason): array {

		if (is_array($reason)) {
			return $reason;
		}
		if (str_starts_with((string) $reason, '{"code":')) {
			$decoded = json_decode((string) $reason, true);
			if (is_array($decoded) && isset($decoded['code'])) {
				return ['code' => (string) $decoded['code'], 'args' => (array) ($decoded['args'] ?? [])];
			}
		}

		return self::reason('custom', (string) $reason);
	}

	/**
	 * A reason in words. A packed reason (pack()) is put into words like its array; a plain
	 * string (a plan stored before 0.4) is shown as it is.
	 *
	 * @param array|string $reason A reason() or pack().
	 */
	public static function text($reason): string {

		if (is_string($reason) && str_starts_with($reason, '{"code":')) {
			$reason = self::unpack($reason);
		}
		if (! is_array($reason)) {
			return (string) $reason;
		}
		$args = array_values((array) ($reason['args'] ?? []));
		$arg  = static function (int $i) use ($args) {
			$value = $args[ $i ] ?? '';
			if (is_array($value) && isset($value['code'])) {
				return self::text($value);
			}
			return is_array($value) ? implode(', ', array_map('strval', $value)) : $value;
		};

		switch ($reason['code'] ?? '') {
			// Where a name the network uses comes from.
			case 'site':
				/* translators: %d: site id */
				return sprintf(__('site %d', 'closte-native'), (int) $arg(0));
			case 'record':
				/* translators: %d: site id */
				return sprintf(__('domain record of site %d', 'closte-native'), (int) $arg(0));
			case 'filter':
				return __('filter closte_native_sync_domains', 'closte-native');
			case 'custom':
				return (string) $arg(0);
			case 'www_twin':
				/* translators: %s: the bare name, e.g. example.com */
				return sprintf(__('www form of %s: Ultimate Multisite serves both forms', 'closte-native'), (string) $arg(0));
			case 'subdomain':
				return __('a site\'s subdomain, served through a wildcard alias (the filter closte_native_sync_subdomains is off): kept, not added', 'closte-native');

			// Removals.
			case 'owned_unused':
				/* translators: 1: site id, 2: date */
				return sprintf(__('added by this plugin for site %1$d on %2$s; nothing on the network uses it or its www./bare form', 'closte-native'), (int) $arg(0), (string) $arg(1));
			case 'unowned_unused':
				return __('not added by this plugin: left alone. Nothing on the network uses it; it was on Closte before, or added by hand or by other software. It is removed only when named one by one.', 'closte-native');

			// Kept.
			case 'wildcard':
				return __('wildcard alias: never removed by a sync', 'closte-native');
			case 'protected':
				return __('the network\'s own domain, its www. form, or protected by the filter closte_native_protected_aliases', 'closte-native');
			case 'twin':
				$used = (string) $arg(0);
				return str_starts_with($used, 'www.')
					/* translators: %s: the www. name in use */
					? sprintf(__('bare form of %s, served by Ultimate Multisite', 'closte-native'), $used)
					/* translators: %s: the name in use */
					: sprintf(__('www form of %s, served by Ultimate Multisite', 'closte-native'), $used);
			case 'now_used':
				/* translators: %s: what uses it, e.g. "site 8" */
				return sprintf(__('confirmed, but kept: now used by %s', 'closte-native'), (string) $arg(0));
			case 'no_longer_owned':
				return __('confirmed, but kept: this plugin no longer holds an ownership record of it (it was removed or re-added meanwhile)', 'closte-native');
			case 'list_incomplete':
				/* translators: %s: what is missing */
				return sprintf(__('confirmed, but kept: the network\'s list could not be read completely just before the removal (%s)', 'closte-native'), (string) $arg(0));

			// Skipped.
			case 'invalid_name':
				/* translators: 1: where the name comes from, 2: why it is invalid */
				return sprintf(__('cannot be compared with Closte\'s aliases (%1$s): %2$s', 'closte-native'), (string) $arg(0), (string) $arg(1));
			case 'not_host':
				return __('not a host name this integration can act on', 'closte-native');
			case 'not_confirmed':
				return __('not removed: it was not in the confirmed preview', 'closte-native');

			// What is missing from the network's list (each blocks removals).
			case 'sites_unreadable':
				/* translators: %s: database error */
				return sprintf(__('the list of sites could not be read from the database (%s)', 'closte-native'), (string) $arg(0));
			case 'um_missing':
				return __('Ultimate Multisite is not loaded, so its mapped domains are unknown', 'closte-native');
			case 'records_failed':
				/* translators: %s: error message */
				return sprintf(__('reading Ultimate Multisite\'s mapped domains failed: %s', 'closte-native'), (string) $arg(0));
			case 'networks_unreadable':
				/* translators: %s: database error */
				return sprintf(__('the network\'s own domains (wp_site) could not be read, so its protected names are unknown (%s)', 'closte-native'), (string) $arg(0));
			case 'invalid_names':
				/* translators: 1: how many, 2: up to five of them */
				return sprintf(__('%1$d of the network\'s names cannot be normalised, so they cannot be compared with Closte\'s aliases (%2$s); correct them, or leave them out with the filter closte_native_sync_domains', 'closte-native'), (int) $arg(0), (string) $arg(1));
			case 'empty':
				return __('the list of the network\'s domains is empty', 'closte-native');
		}

		return (string) ($reason['code'] ?? '');
	}

	/**
	 * Several reasons in one line.
	 *
	 * @param list<array|string> $reasons
	 */
	public static function join(array $reasons): string {

		return implode('; ', array_map([self::class, 'text'], $reasons));
	}

	/**
	 * Why a sync request was refused, in the words the page and the command show.
	 *
	 * @param string $code    closte-sync-busy|stale|mismatch|typed|unowned-typed|unowned-unknown|not-queued.
	 * @param array  $context phrase: the phrase to type; names: the names not in the plan.
	 */
	public static function refusal(string $code, array $context = []): \WP_Error {

		switch ($code) {
			case 'closte-sync-busy':
				$message = __('A sync is already queued or running; its progress is shown on this page.', 'closte-native');
				break;
			case 'closte-sync-stale':
				$message = __('This preview is no longer current. Make a new preview and confirm that one.', 'closte-native');
				break;
			case 'closte-sync-mismatch':
				$message = __('The confirmed removals differ from the preview. Nothing was changed; make a new preview.', 'closte-native');
				break;
			case 'closte-sync-typed':
				/* translators: %s: the phrase to type, e.g. "remove 37" */
				$message = sprintf(__('This sync removes many aliases. Type "%s" to confirm. Nothing was changed.', 'closte-native'), (string) ($context['phrase'] ?? ''));
				break;
			case 'closte-sync-unowned-typed':
				/* translators: %s: the phrase to type, e.g. "remove 2 unowned" */
				$message = sprintf(__('You ticked aliases this plugin did not add. Type "%s" to confirm their removal. Nothing was changed.', 'closte-native'), (string) ($context['phrase'] ?? ''));
				break;
			case 'closte-sync-unowned-unknown':
				/* translators: %s: alias names */
				$message = sprintf(__('Only aliases the preview lists as not added by this plugin can be ticked for removal (not: %s). Nothing was changed.', 'closte-native'), implode(', ', array_map([Logger::class, 'one_line'], (array) ($context['names'] ?? []))));
				break;
			case 'closte-sync-not-queued':
				$message = __('Only a sync that is still waiting in the queue, or a run between two batches, can be cancelled; this one is running now or has ended.', 'closte-native');
				break;
			default:
				$message = __('The request was not accepted.', 'closte-native');
		}

		return new \WP_Error($code, $message);
	}

	/** A plan in one line, as the page and `wp closte sync` show it. */
	public static function plan_summary(array $plan): string {

		return sprintf(
			/* translators: 1: to add, 2: to remove, 3: not added by this plugin, 4: unchanged, 5: aliases on Closte */
			__('%1$d to add, %2$d to remove, %3$d not added by this plugin (left alone), %4$d already on Closte (Closte lists %5$d aliases).', 'closte-native'),
			Sync_State::count_of($plan, 'to_add'),
			Sync_State::count_of($plan, 'to_remove'),
			Sync_State::count_of($plan, 'unowned'),
			$plan['unchanged'],
			$plan['listed']
		);
	}

	/** A failed result in words an operator can act on. */
	public static function explain_failure(array $result): string {

		$text = sprintf('%s (%s, HTTP %d)', (string) ($result['error'] ?? ''), (string) ($result['error_kind'] ?? '?'), (int) ($result['status'] ?? 0));
		if ('auth' === ($result['error_kind'] ?? '')) {
			$text .= ' ' . __('Closte refused the API key. The key is the constant CLOSTE_CLIENT_API_KEY in wp-config.php (on Closte it is set from the Closte dashboard); check it there.', 'closte-native');
		} elseif (! empty($result['retryable'])) {
			$text .= ' ' . __('This may pass: try again in a few minutes.', 'closte-native');
		}

		return Logger::redact($text);
	}

	/**
	 * Why a sync job ended without a result, and what to do.
	 *
	 * @param string $mode  preview|apply.
	 * @param string $error The fatal error its shutdown function recorded; '' when the job just
	 *                      stopped giving signs of life.
	 */
	public static function died(string $mode, string $error): string {

		$what  = 'apply' === $mode ? __('The sync run', 'closte-native') : __('The sync preview', 'closte-native');
		$after = 'apply' === $mode
			? __('What was added or removed before it stopped is on Closte and recorded; make a new preview to see what is left.', 'closte-native')
			: __('Then make a new preview.', 'closte-native');
		if ('' === $error) {
			/* translators: %s: "The sync preview" or "The sync run" */
			$text = sprintf(__('%s stopped: its background job gave no sign of life for over a minute (the PHP process was killed, ran past its time limit, or ended with an error that could not be recorded). Check the PHP error log and Tools > Scheduled Actions (group closte).', 'closte-native'), $what);
		} elseif (false !== stripos($error, 'Allowed memory size')) {
			/* translators: 1: "The sync preview" or "The sync run", 2: PHP's error message */
			$text = sprintf(__('%1$s stopped: PHP ran out of memory (%2$s). Raise WP_MEMORY_LIMIT in wp-config.php, e.g. define( \'WP_MEMORY_LIMIT\', \'256M\' );, or PHP\'s memory_limit.', 'closte-native'), $what, $error);
		} elseif (false !== stripos($error, 'Maximum execution time')) {
			/* translators: 1: "The sync preview" or "The sync run", 2: PHP's error message */
			$text = sprintf(__('%1$s stopped: PHP\'s time limit ended it (%2$s). Raise max_execution_time for the background queue (WP-Cron or wp action-scheduler run).', 'closte-native'), $what, $error);
		} else {
			/* translators: 1: "The sync preview" or "The sync run", 2: PHP's error message */
			$text = sprintf(__('%1$s stopped with a PHP fatal error: %2$s. Check the PHP error log.', 'closte-native'), $what, $error);
		}

		return Logger::redact($text . ' ' . $after);
	}

	public static function explain_exception(\Throwable $e): string {

		if ($e instanceof \Closte\ConfigurationException) {
			/* translators: %s: the extension's message */
			return sprintf(__('The closte extension is not configured: %s. On Closte the key is the constant CLOSTE_CLIENT_API_KEY in wp-config.php, set from the Closte dashboard.', 'closte-native'), $e->getMessage());
		}

		if ($e instanceof Sync_Stopped) {
			return $e->getMessage(); // written for the operator, translated
		}

		return get_class($e) . ': ' . $e->getMessage();
	}
}
