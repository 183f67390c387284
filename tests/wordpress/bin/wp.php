<?php
/**
 * The e2e harness's WordPress command line (there is no wp-cli here): boots WordPress exactly as
 * a request to the network's main host would, then runs one command.
 *
 *   php ... wp.php install                  single site, then a subdomain network
 *   php ... wp.php activate                 network-activate closte-native, enable Closte
 *   php ... wp.php run-queue [now-offset]   run due Action Scheduler (stand-in) jobs
 *   php ... wp.php notices                  print network admin notices as a super admin
 *   php ... wp.php fire HOOK DOMAIN SITE    do_action(HOOK, DOMAIN, SITE) with string args
 *   php ... wp.php map DOMAIN SITE          create a domain record (as Ultimate Multisite would, in this request)
 *   php ... wp.php registry-status          JSON: what the 2.5+ registry holds for closte, and the key the extension sees
 *   php ... wp.php cookies [USER_ID]        auth cookies of a user (default 1, the super admin), as a Cookie header
 *   php ... wp.php cli closte SUB [ARGS]    the plugin's WP-CLI command through the WP-CLI stand-in
 *                                           (fixtures/wp-cli-standin.php); exits with its exit code
 *   php ... wp.php uninstall                delete the plugin the way WordPress does (runs uninstall.php)
 *   php ... wp.php site-health-connection   the REST route of the async connection test, as JSON
 *   php ... wp.php site-health-info         our section of Site Health's Info tab (debug_information), as JSON
 *   php ... wp.php log MESSAGE              one line through the plugin's Logger (the key scrubbed)
 *   php ... wp.php admin-post FIELDS_JSON   a POST to admin-post.php with these fields, as the super admin
 *                                           (prints "redirect: URL" when the handler redirects)
 *   php ... wp.php browser-reset            what each PHPUnit test starts from (no domain records, jobs,
 *                                           plugin options or sync state); for the browser test
 *   php ... wp.php browser-record DOMAIN SITE   a domain record, inserted without its hooks (no add job)
 *   php ... wp.php browser-own DOMAIN SITE  an ownership record: this plugin added DOMAIN for SITE
 *   php ... wp.php browser-user LOGIN       id of a site administrator who is not a super admin (created once)
 *   php ... wp.php browser-sync-status      the status of Closte Sync (idle, queued, planned, ...)
 */

$command = $argv[1] ?? '';
require_once dirname(__DIR__) . '/cli-request.php';
closte_e2e_cli_request(getenv('CLOSTE_E2E_HOST') ?: 'closte-e2e.test');
if ('install' === $command) {
	define('WP_INSTALLING', true);
}

// WordPress exit()s with status 0 on an unknown host or a redirect: make that a failure.
$GLOBALS['e2e_done'] = false;
register_shutdown_function(
	static function (): void {
		if (! $GLOBALS['e2e_done']) {
			fwrite(STDERR, "wp.php: WordPress exited before the command finished\n");
			exit(3);
		}
	}
);

if ('cli' === $command) {
	require dirname(__DIR__) . '/fixtures/wp-cli-standin.php'; // before WordPress, as WP-CLI loads itself
}

require '/usr/share/wordpress/wp-load.php';

/** The classes (or "closure") of every callback on $hook. */
function e2e_hook_owners(string $hook): array {
	$owners = [];
	foreach ($GLOBALS['wp_filter'][ $hook ]->callbacks ?? [] as $callbacks) {
		foreach ($callbacks as $callback) {
			$owners[] = is_array($callback['function']) ? get_class($callback['function'][0]) : 'closure';
		}
	}
	return $owners;
}

switch ($command) {
	case 'install':
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		require_once ABSPATH . 'wp-admin/includes/network.php';
		$host = $_SERVER['HTTP_HOST'];
		add_filter('pre_wp_mail', '__return_true'); // no MTA here
		wp_install('Closte e2e network', 'admin', "admin@$host", true, '', wp_generate_password(24));
		update_option('siteurl', "http://$host");
		update_option('home', "http://$host");
		foreach ($wpdb->tables('ms_global') as $table => $prefixed) {
			$wpdb->$table = $prefixed;
		}
		install_network();
		// populate_network() probes a random subdomain over HTTP: answer it locally.
		add_filter('pre_http_request', static fn () => ['headers' => [], 'body' => '', 'response' => ['code' => 200, 'message' => 'OK'], 'cookies' => []]);
		$result = populate_network(1, $host, "admin@$host", 'Closte e2e network', '/', true);
		if (is_wp_error($result)) {
			fwrite(STDERR, $result->get_error_message() . "\n");
			exit(1);
		}
		echo "installed\n";
		break;

	case 'activate':
		update_site_option('active_sitewide_plugins', ['closte-native/closte-native.php' => time()]);
		update_site_option('wu_host_integrations_enabled', ['closte' => true]);
		update_site_option('wu_settings', ['dns_check_interval' => 300]);
		grant_super_admin(1);
		echo "activated\n";
		break;

	case 'run-queue':
		if (getenv('CLOSTE_SYNC_CONCURRENCY')) { // a test's way to make a sync slow enough to interrupt
			add_filter('closte_native_sync_concurrency', static fn () => (int) getenv('CLOSTE_SYNC_CONCURRENCY'));
		}
		// One batch, then the alias-queue drains it queued (E2eTestCase::runQueue()).
		$e2e_offset = (int) ($argv[2] ?? 0);
		$ran        = standin_as_run_queue(time() + $e2e_offset);
		for ($e2e_i = 0; $e2e_i < 20; $e2e_i++) {
			// The bound is taken again each time: a drain queued by the batch just run is due at
			// that batch's clock, which may be a second past the clock the batch started with.
			$e2e_until = time() + $e2e_offset;
			$e2e_due   = array_filter(standin_as_jobs('closte_native_alias_queue', 'pending'), static fn ($job) => (int) $job['scheduled_at'] <= $e2e_until);
			if ([] === $e2e_due) {
				break;
			}
			$ran += standin_as_run_queue($e2e_until, 1000, ['closte_native_alias_queue']);
		}
		echo "ran $ran\n";
		break;

	case 'notices':
		wp_set_current_user(1);
		do_action('network_admin_notices');
		$owners = e2e_hook_owners('wu_add_domain');
		echo "\nhooks:", json_encode(
			[
				'wu_add_domain'       => $owners,
				'closte_native_retry' => has_action('closte_native_retry'),
				'extension'           => extension_loaded('closte'),
				'implementation'      => \Closte_Native\Implementation::current(),
			]
		), "\n";
		break;

	case 'site-health':
		wp_set_current_user(1);
		$tests = apply_filters('site_status_tests', []);
		$out   = ['description' => \Closte_Native\Domain_Hooks::description()];
		foreach (['closte_native_implementation', 'closte_native_api_key'] as $name) {
			$result       = call_user_func($tests['direct'][ $name ]['test']);
			$out[ $name ] = [$result['status'], $result['label'], wp_strip_all_tags($result['description'])];
		}
		$async = $tests['async']['closte_native_connection'] ?? null;
		if (null !== $async) {
			$result                            = call_user_func($async['async_direct_test']);
			$out['closte_native_connection']   = [$result['status'], $result['label'], wp_strip_all_tags($result['description'])];
			$out['closte_native_connection'][] = ['test' => $async['test'], 'has_rest' => $async['has_rest']];
		}
		echo json_encode($out), "\n";
		break;

	case 'fire':
		do_action($argv[2], $argv[3], $argv[4]);
		echo "fired\n";
		break;

	case 'map':
		echo Standin_Domain_Manager::create_domain($argv[2], (int) $argv[3]), "\n";
		break;

	case 'registry-status':
		$registry    = \WP_Ultimo\Integrations\Integration_Registry::get_instance();
		$integration = $registry->get('closte');
		$owners      = e2e_hook_owners('wu_add_domain');
		echo json_encode(
			[
				'integration'   => $integration ? get_class($integration) : null,
				'is_setup'      => $integration ? $integration->is_setup() : null,
				'detect'        => $integration ? $integration->detect() : null,
				'missing'       => $integration ? $integration->get_missing_constants() : null,
				'closte_detect' => function_exists('closte_detect') ? closte_detect() : null,
				'key_source'    => function_exists('closte_stats') ? closte_stats()['key_source'] : null,
				'wu_add_domain' => $owners,
			]
		), "\n";
		break;

	case 'cookies':
		$expire = time() + HOUR_IN_SECONDS;
		$user   = (int) ($argv[2] ?? 1);
		printf(
			"%s=%s; %s=%s\n",
			AUTH_COOKIE,
			rawurlencode(wp_generate_auth_cookie($user, $expire, 'auth')),
			LOGGED_IN_COOKIE,
			rawurlencode(wp_generate_auth_cookie($user, $expire, 'logged_in'))
		);
		break;

	case 'cli':
		$GLOBALS['e2e_done'] = true;
		exit(\WP_CLI\standin_run(array_slice($argv, 2)));

	case 'site-health-connection':
		wp_set_current_user(1);
		$response = rest_do_request(new WP_REST_Request('GET', '/closte-native/v1/site-health/connection'));
		echo wp_json_encode($response->get_data()), "\n";
		break;

	case 'site-health-info':
		wp_set_current_user(1);
		echo wp_json_encode(apply_filters('debug_information', [])['closte_native'] ?? null), "\n";
		break;

	case 'log':
		\Closte_Native\Logger::log($argv[2]);
		echo "logged\n";
		break;

	case 'admin-post':
		wp_set_current_user(1);
		$_POST                     = json_decode($argv[2], true);
		$_REQUEST                  = $_POST;
		$_SERVER['REQUEST_METHOD'] = 'POST';
		add_filter(
			'wp_redirect',
			static function ($location) {
				echo 'redirect: ', $location, "\n";
				return $location;
			}
		);
		$GLOBALS['e2e_done'] = true; // handlers exit after their redirect
		do_action('admin_post_' . $_REQUEST['action']);
		echo "no redirect\n";
		break;

	case 'uninstall':
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		uninstall_plugin('closte-native/closte-native.php');
		echo "uninstalled\n";
		break;

	// The browser test's arrangements (tests/wordpress/browser/); the same clean slate as E2eTestCase::setUp.
	case 'browser-reset':
		$wpdb->query('TRUNCATE ' . standin_as_table());
		$wpdb->query('TRUNCATE ' . Standin_Domain_Manager::table());
		$wpdb->query("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE 'closte\\_native\\_%' OR meta_key LIKE '\\_site\\_transient%closte\\_native\\_%' OR meta_key IN ('standin_stock_closte_calls', 'standin_domain_query_fails')");
		$wpdb->query("DELETE FROM {$wpdb->usermeta} WHERE meta_key LIKE 'closte\\_native\\_%'");
		// As E2eTestCase::setUp: no www twins.
		update_site_option('wu_settings', ['dns_check_interval' => 300, 'auto_create_www_subdomain' => 'never']);
		update_site_option('closte_native_www_twin', '0');
		echo "reset\n";
		break;

	case 'browser-record':
		$wpdb->insert(Standin_Domain_Manager::table(), ['blog_id' => (int) $argv[3], 'domain' => $argv[2]]);
		echo $wpdb->insert_id, "\n";
		break;

	case 'browser-own':
		\Closte_Native\Alias_Registry::record($argv[2], (int) $argv[3], 'browser-test');
		echo "owned\n";
		break;

	case 'browser-sync-status':
		echo \Closte_Native\Sync_State::get()['status'], "\n";
		break;

	case 'browser-user':
		$user = get_user_by('login', $argv[2]);
		$id   = $user ? $user->ID : wp_insert_user(['user_login' => $argv[2], 'user_pass' => wp_generate_password(24), 'user_email' => $argv[2] . '@' . $_SERVER['HTTP_HOST'], 'role' => 'administrator']);
		if (is_wp_error($id)) {
			fwrite(STDERR, $id->get_error_message() . "\n");
			exit(1);
		}
		echo $id, "\n";
		break;

	default:
		fwrite(STDERR, "unknown command: $command\n");
		exit(2);
}

$GLOBALS['e2e_done'] = true;
