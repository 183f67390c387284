<?php
/**
 * closte.resolve: names answered from the setting instead of DNS by closte_check_dns and
 * closte_verify_certificate (closte-core net/dns.rs Overrides), so tests and staging can point
 * names at loopback. Entries `pattern=address[,address...]` separated by `;`; the pattern is an
 * exact name, `*.suffix` (any name under suffix) or `*` (every other name); an empty address
 * list means the name does not resolve. Precedence: the exact name, the longest matching
 * `*.suffix`, then `*`; no entry applying leaves the name to the system resolver.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\ConfigurationException;

final class ResolveOverrides
{
    /**
     * @param string $text the setting as given (trimmed), for display
     * @param array<string, list<string>> $entries pattern (lower case) => canonical addresses
     */
    private function __construct(public readonly string $text, private readonly array $entries)
    {
    }

    /** @throws ConfigurationException (code 2) naming the entry that is wrong */
    public static function parse(string $setting): self
    {
        $entries = [];
        foreach (explode(';', $setting) as $entry) {
            $entry = Utf8::trim($entry); // Rust's str::trim, as in net/dns.rs
            if ($entry === '') {
                continue;
            }
            $shown = Escape::debug($entry);
            $equals = strpos($entry, '=');
            if ($equals === false) {
                throw new ConfigurationException("closte.resolve: entry \"$shown\" has no \"=\" (expected name=address[,address...])", 2);
            }
            $pattern = strtolower(Utf8::trim(substr($entry, 0, $equals)));
            if ($pattern === '') {
                throw new ConfigurationException("closte.resolve: entry \"$shown\": the name is empty", 2);
            }
            $addresses = [];
            $list = Utf8::trim(substr($entry, $equals + 1));
            if ($list !== '') {
                foreach (explode(',', $list) as $text) {
                    $text = Utf8::trim($text);
                    $canonical = AddressPolicy::canonical($text);
                    if ($canonical === null) {
                        throw new ConfigurationException(sprintf('closte.resolve: entry "%s": "%s" is not an IP address', $shown, Escape::debug($text)), 2);
                    }
                    $addresses[$canonical] = true;
                }
            }
            if (array_key_exists($pattern, $entries)) {
                throw new ConfigurationException(sprintf('closte.resolve: "%s" is given twice', Escape::debug($pattern)), 2);
            }
            $entries[$pattern] = array_map('strval', array_keys($addresses));
        }
        return new self(Utf8::trim($setting), $entries);
    }

    /**
     * The addresses $name (normalised) resolves to by the setting, or null when no entry applies
     * and the system resolver answers.
     *
     * @return list<string>|null
     */
    public function lookup(string $name): ?array
    {
        $name = strtolower(rtrim($name, '.'));
        if (array_key_exists($name, $this->entries)) {
            return $this->entries[$name];
        }
        $best = null;
        foreach ($this->entries as $pattern => $addresses) {
            $pattern = (string) $pattern;
            if (!str_starts_with($pattern, '*.')) {
                continue;
            }
            $suffix = substr($pattern, 1); // ".suffix"
            if (str_ends_with($name, $suffix) && strlen($name) > strlen($suffix)
                && ($best === null || strlen($pattern) > strlen($best))) {
                $best = $pattern;
            }
        }
        if ($best !== null) {
            return $this->entries[$best];
        }
        return $this->entries['*'] ?? null;
    }
}
