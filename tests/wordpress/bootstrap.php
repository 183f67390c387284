<?php
/**
 * Boots the e2e WordPress network (set up by harness.sh) inside PHPUnit, with the real
 * closte-native plugin on the implementation the harness chose (CLOSTE_E2E_IMPL: the real
 * extension, or the plugin's PHP implementation), and the simulator as Closte.
 */

// PHPUnit includes this file inside a method: keep WordPress's globals global.
global $wpdb, $table_prefix, $current_site, $current_blog, $wp_rewrite, $wp, $wp_query, $wp_the_query,
	$wp_roles, $wp_locale, $wp_version, $wp_db_version, $blog_id, $shortcode_tags, $wp_filter, $wp_actions,
	$wp_current_filter, $wp_object_cache, $current_user, $pagenow;

$state_file = (getenv('CLOSTE_E2E_DIR') ?: '/tmp/closte-e2e') . '/state.env';
if (! is_file($state_file)) {
	fwrite(STDERR, "No e2e network: run `make e2e` (tests/wordpress/harness.sh up).\n");
	exit(1);
}
foreach (parse_ini_file($state_file) as $name => $value) {
	define($name, (string) $value);
}
if ('php' === CLOSTE_E2E_IMPL ? extension_loaded('closte') || ! extension_loaded('curl') : ! extension_loaded('closte')) {
	fwrite(STDERR, 'The e2e suite runs on the ' . CLOSTE_E2E_IMPL . " implementation: load the extension, or (php) curl without it.\n");
	exit(1);
}

$_SERVER['WORDPRESS_CONFIG'] = 'closte-e2e';
$_SERVER['HTTP_HOST']        = $_SERVER['SERVER_NAME'] = CLOSTE_E2E_NETWORK;
$_SERVER['REQUEST_URI']      = '/';
$_SERVER['SERVER_PORT']      = 80;
$_SERVER['REQUEST_METHOD']   = 'GET';
$_SERVER['REMOTE_ADDR']      = '127.0.0.1';
define('WP_USE_THEMES', false);

$GLOBALS['e2e_booted'] = false;
register_shutdown_function(
	static function (): void {
		if (! $GLOBALS['e2e_booted']) {
			fwrite(STDERR, "WordPress exited during bootstrap\n");
			exit(3);
		}
	}
);
require '/usr/share/wordpress/wp-load.php';
$GLOBALS['e2e_booted'] = true;

require __DIR__ . '/../php/Support/Simulator.php';
require __DIR__ . '/tests/E2eTestCase.php';
