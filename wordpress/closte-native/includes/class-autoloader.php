<?php
/**
 * Loads the plugin's classes on first use, from the folder of their role.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Closte_Native\Foo_Bar lives in includes/<role>/class-foo-bar.php, <role> one of ROLES. Loading
 * on first use matters for the adapters that extend Ultimate Multisite's classes
 * (Host_Provider, Registry_Integration, Registry_Domain_Mapping): they are first named inside
 * the hooks where their parent classes exist, so they are never loaded before them.
 */
final class Autoloader {

	const PREFIX = __NAMESPACE__ . '\\';

	/** The role folders under includes/, searched in this order. */
	const ROLES = ['plugin', 'ultimate-multisite', 'domains', 'certificates', 'sync', 'admin', 'reports', 'cli'];

	public static function register(): void {

		spl_autoload_register([self::class, 'load']);
	}

	/**
	 * @param string $class A fully qualified class name.
	 */
	public static function load(string $class): void {

		if (! str_starts_with($class, self::PREFIX)) {
			return;
		}
		$file = 'class-' . strtolower(str_replace('_', '-', substr($class, strlen(self::PREFIX)))) . '.php';
		foreach (self::ROLES as $role) {
			$path = __DIR__ . '/' . $role . '/' . $file;
			if (is_file($path)) {
				require $path;
				return;
			}
		}
	}
}
