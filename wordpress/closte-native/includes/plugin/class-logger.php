<?php
/**
 * One line per operation, through Ultimate Multisite's logger (or PHP's error log without it).
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Writes `{uploads}/wu-logs/integration-closte.log` (and `integration-closte-ssl.log`) through
 * wu_log_add(). The API key is scrubbed from every line, whatever produced it.
 */
final class Logger {

	const HANDLE     = 'integration-closte';
	const SSL_HANDLE = 'integration-closte-ssl';

	/**
	 * @param string $message The line.
	 * @param string $level   PSR-3 level: info, warning, error.
	 * @param string $handle  Log handle.
	 */
	public static function log(string $message, string $level = 'info', string $handle = self::HANDLE): void {

		$message = self::scrub($message);
		// The Closte Domains page shows the lines an action wrote beside its result.
		do_action('closte_native_logged', $message, $level, $handle);

		if (function_exists('wu_log_add')) {
			wu_log_add($handle, $message, $level);
			return;
		}

		error_log(sprintf('[closte-native] [%s] [%s] %s', $handle, $level, $message)); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
	}

	/**
	 * The log line for one result array of the extension.
	 *
	 * @param array  $result  Result of closte_add_domain() and friends.
	 * @param string $context Where it came from, e.g. "wu_add_domain, attempt 2/6".
	 */
	public static function describe(array $result, string $context): string {

		$line = sprintf(
			'%s %s%s: %s state=%s status=%d attempts=%d %.1f ms (%s)',
			$result['operation'] ?? '?',
			$result['domain'] ?? '-',
			isset($result['site_id']) ? sprintf(' (site %d)', $result['site_id']) : '',
			! empty($result['ok']) ? 'OK' : 'FAILED',
			$result['state'] ?? '?',
			$result['status'] ?? 0,
			$result['attempts'] ?? 0,
			$result['elapsed_ms'] ?? 0.0,
			$context
		);

		if (empty($result['ok'])) {
			$line .= sprintf(' error_kind=%s retryable=%s error="%s"', $result['error_kind'] ?? '?', ! empty($result['retryable']) ? 'yes' : 'no', $result['error'] ?? '');
		}

		if (isset($result['ssl']) && is_array($result['ssl'])) {
			$ssl   = $result['ssl'];
			$line .= sprintf('; SSL: %s state=%s', ! empty($ssl['ok']) ? 'OK' : 'FAILED', $ssl['state'] ?? '?');
			if (empty($ssl['ok'])) {
				$line .= sprintf(' error="%s"', $ssl['error'] ?? '');
			}
		}

		return $line;
	}

	/**
	 * A log line's text: the key removed (redact()), then made one harmless line (one_line()).
	 */
	public static function scrub(string $text): string {

		return self::one_line(self::redact($text));
	}

	/**
	 * Removes the API key from a text: every key the implementation in force could hold, wherever
	 * it was set. The constant; the extension's INI setting (ini_get() also sees a key handed over
	 * with ini_set() from Ultimate Multisite's credential store); php.ini's closte.api_key
	 * (get_cfg_var(): the PHP implementation has no INI entries, so ini_get() knows nothing); and
	 * the PHP implementation's own setting (Settings::set(), its ini_set()).
	 */
	public static function redact(string $text): string {

		$secrets = [];
		if (defined('CLOSTE_CLIENT_API_KEY') && is_scalar(CLOSTE_CLIENT_API_KEY)) {
			$secrets[] = (string) CLOSTE_CLIENT_API_KEY;
		}
		$secrets[] = ini_get('closte.api_key');
		$secrets[] = get_cfg_var('closte.api_key');
		if (class_exists('Closte\\Compat\\Settings', false)) {
			$secrets = array_merge($secrets, \Closte\Compat\Settings::secrets());
		}
		$secrets = array_unique(array_filter(array_map(static fn ($secret) => is_string($secret) ? trim($secret) : '', $secrets), 'strlen'));
		// The longest first: a key that contains another is removed whole.
		usort($secrets, static fn (string $a, string $b): int => strlen($b) <=> strlen($a));

		foreach ($secrets as $secret) {
			$text = str_replace($secret, '[redacted]', $text);
		}

		return $text;
	}

	/**
	 * One log entry per line, readable as plain text and harmless in a log viewer: every
	 * control character (C0, DEL, C1), the Unicode line and paragraph separators and the
	 * angle brackets of markup are written as escapes, so a text from Closte can neither forge
	 * another log line nor inject markup. Invalid UTF-8 is replaced, not passed through.
	 */
	public static function one_line(string $text): string {

		if (! preg_match('//u', $text)) {
			$text = function_exists('mb_scrub') ? mb_scrub($text, 'UTF-8') : wp_check_invalid_utf8($text, true);
		}

		$escaped = preg_replace_callback(
			'/[\x00-\x1F\x7F<>]|\xC2[\x80-\x9F]|\xE2\x80[\xA8\xA9]/',
			static function (array $match): string {
				$char = $match[0];
				if ("\n" === $char) {
					return '\\n';
				}
				if ("\r" === $char) {
					return '\\r';
				}
				if ("\t" === $char) {
					return '\\t';
				}
				if (1 === strlen($char)) {
					return sprintf('\\x%02x', ord($char));
				}
				// Two bytes: C1 control U+0080..U+009F; three: U+2028 or U+2029.
				$code = 2 === strlen($char) ? ord($char[1]) : 0x2000 + ord($char[2]) - 0x80;
				return sprintf('\\u%04x', $code);
			},
			$text
		);

		return is_string($escaped) ? $escaped : '';
	}
}
