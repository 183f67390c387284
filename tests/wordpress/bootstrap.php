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

require_once __DIR__ . '/cli-request.php';
closte_e2e_state('tests/wordpress/bootstrap.php', true);
if ('php' === CLOSTE_E2E_IMPL ? extension_loaded('closte') || ! extension_loaded('curl') : ! extension_loaded('closte')) {
	fwrite(STDERR, 'The e2e suite runs on the ' . CLOSTE_E2E_IMPL . " implementation: load the extension, or (php) curl without it.\n");
	exit(1);
}

closte_e2e_cli_request(CLOSTE_E2E_NETWORK);

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
