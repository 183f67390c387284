<?php
/**
 * The version of the API this implementation provides: the extension's crate version, checked
 * equal by the test suite (`closte_version()` of the PHP implementation adds "+php").
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Version
{
    public const VERSION = '0.1.0';
    public const IMPLEMENTATION = 'php';
}
