<?php
/**
 * The `www.` twin: Ultimate Multisite serves both `example.com` and `www.example.com` for a
 * mapped domain, so Closte needs an alias (and a certificate) for both.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * After a successful add of N (Alias_Changes fires `closte_native_alias_added`), `www.N` is
 * added through Alias_Changes::add with the source "www twin of N": its own ownership record,
 * its own certificate lifecycle. Whether a twin is wanted follows Ultimate Multisite's
 * `Domain_Manager::should_create_www_subdomain()` (its setting auto_create_www_subdomain:
 * always | main_only | never) where that method exists, else our network option
 * `closte_native_www_twin` (default on); the filter `closte_native_add_www_twin` has the last
 * word. No twin for a wildcard, for a name starting with `www.`, when `www.N` is itself a
 * domain record or a site host (its own hooks add it, and remove it), or for a network's own
 * domain (protected: the operator sets up its aliases).
 *
 * When N is removed (`closte_native_alias_removed`), an owned `www.N` is removed through
 * Alias_Changes::remove under the same rules as any unmapping (ownership, nothing uses it).
 *
 * Alias_Changes only fires the two actions (wired in Plugin), so the calls go one way:
 * Www_Twin -> Alias_Changes.
 */
final class Www_Twin {

	/** Network option: add `www.N` for N when Ultimate Multisite has no setting of its own. */
	const OPTION = 'closte_native_www_twin';

	/** Filter: (bool $add, string $name, string $decided_by) whether www.$name is added. */
	const FILTER = 'closte_native_add_www_twin';

	/** The source (ownership record, log) of a twin's add and removal: "www twin of N". */
	const SOURCE_PREFIX = 'www twin of ';

	/** Ultimate Multisite's class holding should_create_www_subdomain() (2.5 and later). */
	const UM_DOMAIN_MANAGER = 'WP_Ultimo\\Managers\\Domain_Manager';

	public static function register(): void {

		add_action('closte_native_alias_added', [self::class, 'on_added'], 10, 3);
		add_action('closte_native_alias_removed', [self::class, 'on_removed'], 10, 3);
	}

	/** The source naming a twin's add or removal, e.g. "www twin of example.com". */
	public static function source(string $name): string {

		return self::SOURCE_PREFIX . $name;
	}

	/** N when $source is "www twin of N" (the twin's add or removal), else null. */
	public static function bare_of(string $source): ?string {

		return str_starts_with($source, self::SOURCE_PREFIX) ? substr($source, strlen(self::SOURCE_PREFIX)) : null;
	}

	/**
	 * The twin to add after $name was added, or null when none should be.
	 *
	 * @param string     $name    The name that was added.
	 * @param array|null $network A Network_Domains::collect() or Sync_Network::collect() result already at hand (a sync); the rows of these names are read when null.
	 */
	public static function twin_to_add(string $name, ?array $network = null): ?string {

		$name = Network_Domains::normalise($name);
		if ('' === $name || str_starts_with($name, '*.') || str_starts_with($name, 'www.')) {
			return null;
		}
		$twin = 'www.' . $name;
		if (! self::wanted($name)) {
			return null;
		}
		// The rows stored under these two names, not the whole network (at 100,000 names a
		// read of everything for each added name took 6 s and 100 MB). A twin with a record of
		// its own that the lookup misses (stored in a form it does not ask for) is added as a
		// twin too: harmless, since its removal still needs Network_Domains::users_of().
		$network ??= has_filter('closte_native_sync_domains') ? Sync_Network::collect() : Network_Domains::lookup([$name, $twin]);
		if (isset($network['domains'][ $twin ])) {
			// A domain record or site host of its own: its own hooks add it and remove it.
			return null;
		}
		if (isset($network['protected'][ $name ]) || isset($network['protected'][ $twin ])) {
			// A network's own domain: its aliases on Closte are the operator's to set up.
			return null;
		}

		return $twin;
	}

	/**
	 * Whether the settings ask for `www.$name`: Ultimate Multisite's own decision where it has
	 * one, else our network option; then the filter.
	 */
	private static function wanted(string $name): bool {

		$manager = self::UM_DOMAIN_MANAGER;
		if (class_exists($manager) && method_exists($manager, 'get_instance') && method_exists($manager, 'should_create_www_subdomain')) {
			$add        = (bool) $manager::get_instance()->should_create_www_subdomain($name);
			$decided_by = 'ultimate-multisite';
		} else {
			$add        = self::option_on();
			$decided_by = 'closte-native';
		}

		/**
		 * Filters whether the `www.` twin of a name is added to Closte.
		 *
		 * @param bool   $add        The decision so far.
		 * @param string $name       The bare name (normalised).
		 * @param string $decided_by 'ultimate-multisite' (its auto_create_www_subdomain) or 'closte-native' (our option).
		 */
		return (bool) apply_filters(self::FILTER, $add, $name, $decided_by);
	}

	/** Our network option, default on; '0', 'off', 'no', 'false' and '' turn it off. */
	public static function option_on(): bool {

		$value = get_site_option(self::OPTION, '1');
		if (is_bool($value)) {
			return $value;
		}

		return ! in_array(strtolower(trim((string) $value)), ['0', '', 'off', 'no', 'false'], true);
	}

	/**
	 * After a successful add of $name: its twin, when one should exist, through Alias_Changes
	 * (ownership, retries, log, certificate lifecycle like any add).
	 *
	 * @param mixed $name    The added name (normalised by the implementation).
	 * @param mixed $site_id The site it belongs to.
	 * @param mixed $source  What added it.
	 */
	public static function on_added($name, $site_id = 0, $source = ''): void {

		$twin = self::twin_to_add((string) $name);
		if (null === $twin) {
			return;
		}
		$source = self::source(Network_Domains::normalise((string) $name));
		if (Alias_Queue::draining()) {
			// Added by a queued change: the twin joins the queue and goes out with the next round.
			Alias_Queue::append('add', $twin, (int) $site_id, $source);
			return;
		}
		Alias_Changes::add($twin, (int) $site_id, $source);
	}

	/**
	 * After a successful removal of $name: its `www.` twin, when this integration owns it, under
	 * the rules of any removal (Alias_Changes checks ownership and that nothing uses it).
	 *
	 * @param mixed $name    The removed name.
	 * @param mixed $site_id The site it belonged to.
	 * @param mixed $source  What removed it.
	 */
	public static function on_removed($name, $site_id = 0, $source = ''): void {

		$name = Network_Domains::normalise((string) $name);
		if ('' === $name || str_starts_with($name, '*.') || str_starts_with($name, 'www.')) {
			return;
		}
		$twin = 'www.' . $name;
		if (! Alias_Registry::owns(Alias_Registry::get($twin))) {
			// Not ours (on Closte before, or added by hand): never removed by an unmapping.
			return;
		}
		if (Alias_Queue::draining()) {
			Alias_Queue::append('remove', $twin, (int) $site_id, self::source($name));
			return;
		}
		Alias_Changes::remove($twin, (int) $site_id, self::source($name));
	}
}
