<?php
/**
 * Why a sync cannot go on, in words for the operator.
 *
 * @package Closte_Native
 */

namespace Closte_Native;

defined('ABSPATH') || exit;

/**
 * Thrown when a sync preview or run must stop for a reason the operator can act on (its stored
 * queue or removal list can no longer be read). The message is already translated and says what
 * to do, so the Sync page, the log and `wp closte sync` show it as it is
 * (Sync_Messages::explain_exception()), without a class name in front of it; any other
 * exception keeps its class name, which is what a developer reading the log needs.
 */
final class Sync_Stopped extends \RuntimeException {
}
