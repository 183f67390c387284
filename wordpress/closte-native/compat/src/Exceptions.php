<?php
/**
 * The extension's exception tree, for the PHP implementation: same classes, same codes.
 *
 * Codes: 1 invalid domain, 2 configuration, 3 runtime, 4 a bad argument of the call itself.
 * Remote failures are never thrown; they come back as result arrays.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte;

if (!class_exists(Exception::class, false)) {
    /** Base class of every exception closte throws. */
    class Exception extends \Exception
    {
    }

    /** The domain is not a host name Closte can serve; thrown before any request. Code 1. */
    class InvalidDomainException extends Exception
    {
    }

    /** No API key, or an unusable setting; thrown before any request. Code 2. */
    class ConfigurationException extends Exception
    {
    }
}
