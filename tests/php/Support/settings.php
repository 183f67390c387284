<?php
/**
 * Setting a closte.* value the same way under both implementations: ini_set() for the
 * extension, Closte\Compat\Settings::set() for the PHP implementation (which has no INI
 * entries to set). Loaded by the bootstrap and prepended to every PhpProcess script.
 */

declare(strict_types=1);

function closte_test_ini(string $name, string $value): string|false
{
    return extension_loaded('closte') ? ini_set($name, $value) : \Closte\Compat\Settings::set($name, $value);
}

function closte_test_ini_get(string $name): string|false
{
    return extension_loaded('closte') ? ini_get($name) : \Closte\Compat\Settings::raw($name);
}

function closte_test_ini_restore_all(): void
{
    if (extension_loaded('closte')) {
        foreach (array_keys(ini_get_all('closte')) as $name) {
            ini_restore($name);
        }
    } else {
        \Closte\Compat\Settings::restore();
    }
}
