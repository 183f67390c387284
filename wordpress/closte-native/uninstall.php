<?php
/**
 * Runs when the plugin is deleted (Network Admin > Plugins > Delete): removes what the plugin
 * stored in WordPress, on every network of the installation:
 * - its network options (alias ownership records, pending-change intents, the sync state) and
 *   site transients (the PHP implementation's remembered SSL endpoint);
 * - the notice-dismissal flag of every user;
 * - its scheduled jobs: Action Scheduler actions of its group and its hooks in WP-Cron.
 *
 * It never asks Closte anything: the aliases stay on Closte and keep serving their domains.
 * Ultimate Multisite's log files (wp-content/uploads/wu-logs/integration-closte*.log) stay too;
 * they belong to Ultimate Multisite's log directory.
 *
 * @package Closte_Native
 */

defined('WP_UNINSTALL_PLUGIN') || exit;

global $wpdb;

// The prefixes of everything the plugin keeps in the network options (wp_sitemeta). Names:
// includes/class-alias-registry.php (closte_native_alias_), class-retry-queue.php
// (closte_native_intent_), class-sync-service.php (closte_native_sync_state), and the PHP
// implementation's endpoint memory (site transient closte_ssl_endpoint_*).
$closte_native_prefixes = ['closte_native_', '_site_transient_closte_', '_site_transient_timeout_closte_'];
foreach ($closte_native_prefixes as $closte_native_prefix) {
	$wpdb->query($wpdb->prepare("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s", $wpdb->esc_like($closte_native_prefix) . '%'));
}
delete_metadata('user', 0, 'closte_native_notice_dismissed', '', true);
wp_cache_flush(); // the deleted options may be cached (site-options group)

// Jobs: Action Scheduler (bundled with Ultimate Multisite) by group, WP-Cron by hook.
if (function_exists('as_unschedule_all_actions')) {
	as_unschedule_all_actions('', [], 'closte');
}
foreach (['closte_native_retry', 'closte_native_ssl_check', 'closte_native_sync_job'] as $closte_native_hook) {
	wp_unschedule_hook($closte_native_hook);
}
