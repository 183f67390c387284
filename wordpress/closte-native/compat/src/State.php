<?php
/**
 * What happened, in words a log line can carry: `state` in every result array (State in the
 * extension's client/outcome.rs, mapped to the same strings).
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

enum State: string
{
    case Added = 'added';
    case AlreadyExists = 'already_exists';
    case Removed = 'removed';
    case NotPresent = 'not_present';
    case Requested = 'requested';
    case NoEndpoint = 'no_endpoint';
    case Checked = 'checked';
    case Listed = 'listed';
    case Authorized = 'authorized';
    case DnsReady = 'dns_ready';
    case DnsNotReady = 'dns_not_ready';
    case Verified = 'verified';
    case Failed = 'failed';
}
