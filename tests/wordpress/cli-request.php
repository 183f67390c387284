<?php
/**
 * What every command-line script on the e2e network does before it loads WordPress: the
 * harness's bin/ scripts, the PHPUnit bootstrap and the WordPress-side benchmarks (bench/wp/,
 * bench/domain_status_queries.php). One copy, so a change to how a script pretends to be a
 * request reaches all of them.
 *
 *   require_once __DIR__ . '/cli-request.php';
 *   $e2e = closte_e2e_state('burst.php', true);   // state.env, as an array and as constants
 *   closte_e2e_cli_request($e2e['CLOSTE_E2E_NETWORK']);
 *   require '/usr/share/wordpress/wp-load.php';  // by the caller, at file scope
 *
 * WordPress is loaded by the caller and not here: wp-config.php and wp-settings.php set their
 * globals ($table_prefix, $wpdb, ...) by plain assignment, so a wp-load.php required from inside
 * a function would leave them local to it.
 */

/**
 * The running e2e network's state.env (written by `tests/wordpress/harness.sh up`: the network's
 * host, the simulator's port, the implementation, the Ultimate Multisite generation, ...), read
 * from $CLOSTE_E2E_DIR (default /tmp/closte-e2e). With $define_constants, each entry also
 * becomes a constant of that name (CLOSTE_E2E_NETWORK, ...), unless already defined. Without a
 * network up, names the script and the file, and exits with status 2.
 *
 * @return array<string, string>
 */
function closte_e2e_state(string $script, bool $define_constants): array {
	$file  = (getenv('CLOSTE_E2E_DIR') ?: '/tmp/closte-e2e') . '/state.env';
	$state = is_file($file) ? parse_ini_file($file) : false;
	if (! is_array($state) || ! isset($state['CLOSTE_E2E_NETWORK'])) {
		fwrite(STDERR, "$script: no e2e network is up ($file is missing or has no CLOSTE_E2E_NETWORK): run `make e2e` or tests/wordpress/harness.sh up first\n");
		exit(2);
	}
	$state = array_map('strval', $state);
	if ($define_constants) {
		foreach ($state as $name => $value) {
			defined($name) || define($name, $value);
		}
	}
	return $state;
}

/**
 * Makes this process look to WordPress like a GET / to $host from the loopback address: the
 * request wp-load.php resolves to a site of the network (ms_load_current_site_and_network()
 * reads HTTP_HOST and REQUEST_URI), under the e2e site's configuration (WORDPRESS_CONFIG picks
 * Debian's /etc/wordpress/config-closte-e2e.php), and without a theme.
 */
function closte_e2e_cli_request(string $host): void {
	$_SERVER['WORDPRESS_CONFIG'] = 'closte-e2e';
	$_SERVER['HTTP_HOST']        = $host;
	$_SERVER['SERVER_NAME']      = $host;
	$_SERVER['REQUEST_URI']      = '/';
	$_SERVER['SERVER_PORT']      = 80;
	$_SERVER['REQUEST_METHOD']   = 'GET';
	$_SERVER['REMOTE_ADDR']      = '127.0.0.1';
	defined('WP_USE_THEMES') || define('WP_USE_THEMES', false);
}
