<?php
/**
 * PluginZipTest's steps, each in a process of its own as WordPress runs them in requests of
 * their own (booted as wp.php boots: a request to the network's main host):
 *
 *   php ... plugin-zip.php install ZIP   what Network Admin > Plugins > Add New > Upload Plugin does
 *                                        with the uploaded file: Plugin_Upgrader::install(ZIP), as
 *                                        the super admin, with the direct filesystem; JSON
 *   php ... plugin-zip.php activate      what "Network Activate" does: activate_plugin(..., true)
 *   php ... plugin-zip.php smoke         JSON: which copy of the plugin this request loaded, its
 *                                        version, implementation, network activation, the hooks
 *                                        it registered
 */

$command = $argv[1] ?? '';
require_once dirname(__DIR__) . '/cli-request.php';
closte_e2e_cli_request('closte-e2e.test');
// The harness runs as root and owns the files: WordPress would otherwise ask for FTP credentials.
define('FS_METHOD', 'direct');

$GLOBALS['e2e_done'] = false;
register_shutdown_function(
	static function (): void {
		if (! $GLOBALS['e2e_done']) {
			fwrite(STDERR, "plugin-zip.php: WordPress exited before the command finished\n");
			exit(3);
		}
	}
);

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';

const E2E_PLUGIN = 'closte-native/closte-native.php';

/** Ends the command: prints $out as JSON, exits with $status. */
function e2e_finish(array $out, int $status = 0): void {
	echo wp_json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
	$GLOBALS['e2e_done'] = true;
	exit($status);
}

wp_set_current_user(1);
switch ($command) {
	case 'install':
		// The Upload screen's checks first: the capability (super admins only on a network).
		if (! current_user_can('install_plugins')) {
			e2e_finish(['error' => 'the super admin may not install plugins'], 1);
		}
		$skin     = new Automatic_Upgrader_Skin();
		$upgrader = new Plugin_Upgrader($skin);
		$result   = $upgrader->install($argv[2]);
		$errors   = is_wp_error($result) ? $result->get_error_messages() : [];
		if ($skin->result instanceof WP_Error) {
			$errors = array_merge($errors, $skin->result->get_error_messages());
		}
		e2e_finish(
			[
				'result'      => true === $result,
				'plugin'      => $upgrader->plugin_info(),
				'destination' => $upgrader->result['destination'] ?? null,
				'errors'      => $errors,
				'messages'    => $skin->get_upgrade_messages(),
			],
			true === $result ? 0 : 1
		);

	case 'activate':
		$result = activate_plugin(E2E_PLUGIN, '', true);
		e2e_finish(
			[
				'error'              => is_wp_error($result) ? $result->get_error_message() : null,
				'active_for_network' => is_plugin_active_for_network(E2E_PLUGIN),
			],
			null === $result ? 0 : 1
		);

	case 'smoke':
		$loaded = defined('CLOSTE_NATIVE_VERSION');
		$hooks  = [];
		if ($loaded) {
			foreach (array_merge(\Closte_Native\Certificate_Lifecycle::HOOKS, [\Closte_Native\Certificate_Watch::HOOK]) as $hook) {
				$hooks[ $hook ] = false !== has_action($hook);
			}
		}
		$installed = get_plugins()[ E2E_PLUGIN ] ?? null;
		e2e_finish(
			[
				'loaded'             => $loaded,
				'version'            => $loaded ? CLOSTE_NATIVE_VERSION : null,
				'dir'                => $loaded ? CLOSTE_NATIVE_DIR : null,
				'plugin_class_file'  => $loaded ? (new ReflectionClass(\Closte_Native\Plugin::class))->getFileName() : null,
				'implementation'     => $loaded ? \Closte_Native\Implementation::current() : null,
				'installed'          => $installed ? ['Name' => $installed['Name'], 'Version' => $installed['Version'], 'Network' => $installed['Network']] : null,
				'active_for_network' => is_plugin_active_for_network(E2E_PLUGIN),
				'certificate_hooks'  => $hooks,
			]
		);

	default:
		fwrite(STDERR, "unknown command: $command\n");
		$GLOBALS['e2e_done'] = true;
		exit(2);
}
