<?php
/**
 * Plugin Name:       Closte Native for Ultimate Multisite
 * Plugin URI:        https://github.com/closte-native/closte
 * Description:       Maps Ultimate Multisite domains on Closte: domain aliases, Let's Encrypt certificates, retries through Action Scheduler, clear logs. Uses the native `closte` PHP extension when it is loaded, its built-in PHP implementation otherwise.
 * Version:           0.3.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * Network:           true
 * License:           GPL-2.0-or-later
 * Text Domain:       closte-native
 * Domain Path:       /languages
 *
 * No "Requires Plugins" header here: WordPress 6.5+ enforces it by the dependency's folder name,
 * and Ultimate Multisite installed under another folder (from GitHub, or the older
 * wp-multisite-waas) would block activation. readme.txt states the dependency.
 *
 * Works as a network-activated plugin or as a must-use plugin (copy this folder into
 * wp-content/mu-plugins/ and require closte-native/closte-native.php from a loader file).
 *
 * @package Closte_Native
 */

defined('ABSPATH') || exit;

if (defined('CLOSTE_NATIVE_VERSION')) {
	return; // Loaded twice (plugin and mu-plugin): the first copy wins.
}

define('CLOSTE_NATIVE_VERSION', '0.3.0');
define('CLOSTE_NATIVE_DIR', __DIR__);

// The closte API: the extension when loaded (the fast path), otherwise the PHP implementation
// shipped here (needs curl). The bootstrap defines nothing when the extension is there.
require_once __DIR__ . '/compat/bootstrap.php';

// Every class of the plugin loads on first use from includes/<role>/ (see the autoloader).
require_once __DIR__ . '/includes/class-autoloader.php';
\Closte_Native\Autoloader::register();

\Closte_Native\Plugin::boot();
