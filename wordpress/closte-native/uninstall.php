<?php
/**
 * Runs when the plugin is deleted (Network Admin > Plugins > Delete): removes what the plugin
 * stored in WordPress, on every network of the installation:
 * - its network options (alias ownership records, pending-change intents, the sync state) and
 *   its site transients (the PHP implementation's remembered SSL endpoint), each by its exact
 *   prefix: nothing else whose name merely starts with "closte_";
 * - their entries in the object cache, one by one: never a flush of the whole cache of a live
 *   network;
 * - the notice-dismissal flag of every user;
 * - its scheduled jobs: Action Scheduler actions of its group and of each of its hooks (a job
 *   scheduled without the group too), and its hooks in WP-Cron.
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
// includes/domains/class-alias-registry.php (closte_native_alias_), class-change-intents.php
// (closte_native_intent_), includes/sync/class-sync-state.php (closte_native_sync_state), and
// compat/src/SslEndpoints.php (site transient closte_ssl_endpoint_<hash of the API URL>, with its
// timeout).
// includes/reports/class-domain-status.php keeps Closte's listing for a minute in the site
// transient closte_native_listing; includes/certificates/class-certificate-watch.php its
// findings for five minutes in closte_native_cert_findings.
$closte_native_prefixes = ['closte_native_', '_site_transient_closte_ssl_endpoint_', '_site_transient_timeout_closte_ssl_endpoint_', '_site_transient_closte_native_', '_site_transient_timeout_closte_native_'];
foreach ($closte_native_prefixes as $closte_native_prefix) {
	$closte_native_like = $wpdb->esc_like($closte_native_prefix) . '%';
	$closte_native_rows = $wpdb->get_results($wpdb->prepare("SELECT site_id, meta_key FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s", $closte_native_like)); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	$wpdb->query($wpdb->prepare("DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s", $closte_native_like)); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	// The cached copies (get_network_option's cache key is "<network id>:<name>").
	foreach ($closte_native_rows as $closte_native_row) {
		wp_cache_delete($closte_native_row->site_id . ':' . $closte_native_row->meta_key, 'site-options');
		wp_cache_delete($closte_native_row->site_id . ':notoptions', 'site-options');
	}
}
// With a persistent object cache the endpoint transient lives in the cache alone, out of the
// query above: delete it by name for every API URL this process knows (the name rule of
// SslEndpoints::storageKey(), on the URL as Settings::current() returns it). Another URL's
// entry expires within a day (SslEndpoints::REMEMBER_SECS).
$closte_native_urls = ['https://app.closte.com/api/client', ini_get('closte.api_url'), get_cfg_var('closte.api_url')];
if (class_exists('Closte\\Compat\\Settings', false)) {
	$closte_native_urls[] = \Closte\Compat\Settings::raw('closte.api_url');
}
foreach (array_unique(array_filter($closte_native_urls, 'is_string')) as $closte_native_url) {
	delete_site_transient('closte_ssl_endpoint_' . substr(hash('sha256', rtrim(trim($closte_native_url), '/')), 0, 24));
}
delete_site_transient('closte_native_listing');
delete_site_transient('closte_native_cert_findings');
delete_metadata('user', 0, 'closte_native_notice_dismissed', '', true);
delete_metadata('user', 0, 'closte_native_certificate_notice_dismissed', '', true);
delete_metadata('user', 0, 'closte_native_drift_dismissed', '', true);

// Jobs: Action Scheduler (bundled with Ultimate Multisite) by group and by hook, WP-Cron by hook.
// The hooks: Alias_Changes::RETRY_HOOK, Certificate_Watch::HOOK (and closte_native_ssl_check, its
// hook up to 0.3.0), Sync_State::JOB_HOOK, Alias_Changes::RENAMED_HOOK and
// Certificate_Lifecycle::HOOKS, Drift_Report::HOOK, Alias_Queue::DRAIN_HOOK and WATCHDOG_HOOK
// (includes/, every one scheduled through
// Background_Jobs::schedule()).
$closte_native_hooks = ['closte_native_retry', 'closte_native_certificate_watch', 'closte_native_ssl_check', 'closte_native_sync_job', 'closte_native_remove_renamed', 'closte_native_cert_dns', 'closte_native_cert_request', 'closte_native_cert_verify', 'closte_native_drift_report', 'closte_native_alias_queue', 'closte_native_alias_queue_watchdog'];
if (function_exists('as_unschedule_all_actions')) {
	as_unschedule_all_actions('', [], 'closte');
	foreach ($closte_native_hooks as $closte_native_hook) {
		as_unschedule_all_actions($closte_native_hook);
	}
}
foreach ($closte_native_hooks as $closte_native_hook) {
	wp_unschedule_hook($closte_native_hook);
}

// Alias_Queue's table of queued domain changes (network-wide) and its schema version.
$wpdb->query('DROP TABLE IF EXISTS ' . $wpdb->base_prefix . 'closte_native_alias_queue');
delete_site_option('closte_native_queue_schema');
