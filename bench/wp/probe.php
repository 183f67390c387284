<?php
/**
 * Prepended (auto_prepend_file) to a PHP process the WordPress-side benchmark times from inside,
 * e.g. `wp.php cli closte sync --dry-run`: at shutdown it appends one JSON line to the file named
 * by CLOSTE_BENCH_PROBE: wall seconds since the process started, peak memory
 * (memory_get_peak_usage(true), what memory_limit is checked against, and the allocator's own
 * peak), the database queries WordPress made ($wpdb->num_queries), memory_limit, and the fatal
 * error the process died of, if any.
 */

if ('' !== (string) getenv('CLOSTE_BENCH_PROBE')) {
	register_shutdown_function(
		static function (): void {
			$error = error_get_last();
			$fatal = null !== $error && in_array($error['type'], [E_ERROR, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR], true);
			file_put_contents(
				(string) getenv('CLOSTE_BENCH_PROBE'),
				json_encode(
					[
						'seconds'      => round(microtime(true) - $_SERVER['REQUEST_TIME_FLOAT'], 3),
						'peak_bytes'   => memory_get_peak_usage(true),
						'peak_alloc'   => memory_get_peak_usage(false),
						'queries'      => isset($GLOBALS['wpdb']) ? (int) $GLOBALS['wpdb']->num_queries : null,
						'memory_limit' => ini_get('memory_limit'),
						'error'        => $fatal ? $error['message'] : null,
					]
				) . "\n",
				FILE_APPEND | LOCK_EX
			);
		}
	);
}
