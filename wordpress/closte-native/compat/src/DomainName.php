<?php
/**
 * Domain-name validation and normalisation, the same rules as the extension's DomainName:
 * lower case, IDN as punycode, no trailing dot, `*.` wildcard, look-alikes refused, and every
 * refusal naming the part that is wrong.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

use Closte\InvalidDomainException;

final class DomainName
{
    public const MAX_LABEL_LEN = 63;
    public const MAX_NAME_LEN = 253;
    private const MAX_INPUT_LEN = 1024;
    /** See alreadyNormal(): labels of [a-z0-9-], not starting or ending with "-", none "xn--". */
    private const ALREADY_NORMAL = '/\A(?:\*\.)?(?:(?!xn--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?!xn--)(?=[a-z0-9-]*[a-z-])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\z/';
    private const DOTS = ['.', '。', '．', '｡'];

    /**
     * [closte.api_url, its host in normal form or null] of the last refuseApiHost: a sync's list
     * checks every name against the same URL, and parsing its host again for each name (an IP
     * address is a refused parse, so an exception each time) doubled the time spent before the
     * first request.
     *
     * @var array{0: string, 1: ?string}|null
     */
    private static ?array $apiHost = null;

    private function __construct(public readonly string $name, public readonly bool $wildcard)
    {
    }

    /** Validates and normalises raw bytes, or throws InvalidDomainException (code 1). */
    public static function parse(string $input): self
    {
        $normal = self::alreadyNormal($input);
        if ($normal !== null) {
            return $normal;
        }
        $problem = null;
        $valid = Utf8::validPrefix($input);
        if ($valid < strlen($input)) {
            $problem = "not valid UTF-8 (bad byte at offset $valid)";
        } else {
            try {
                return self::parseText($input);
            } catch (Problem $p) {
                $problem = $p->getMessage();
            }
        }
        $shown = Utf8::truncate(Escape::debug($input), 80);
        throw new InvalidDomainException("invalid domain \"$shown\": $problem", 1);
    }

    /**
     * A name already in normal form whose checks are all structural: lower-case letters,
     * digits and inner hyphens, 1 to 63 per label, at least two labels, no `xn--` label (its
     * punycode and scripts are checked below), a top-level label that is not all digits (so
     * not an IPv4 address), an optional leading `*.`, at most MAX_NAME_LEN in all. parseText()
     * accepts each such input as it is; this says so in one regular expression (0.14 µs
     * against 14 µs), which matters when a network of 100,000 names is read. Anything else,
     * valid or not, goes the long way. PhpImplementationTest checks the two agree.
     */
    private static function alreadyNormal(string $input): ?self
    {
        if (strlen($input) > self::MAX_NAME_LEN || preg_match(self::ALREADY_NORMAL, $input) !== 1) {
            return null;
        }
        return new self($input, str_starts_with($input, '*.'));
    }

    /** The normal form of $input, or null when it is not a valid name. */
    public static function tryParse(string $input): ?self
    {
        try {
            return self::parse($input);
        } catch (InvalidDomainException) {
            return null;
        }
    }

    /** The name without a leading `*.`. */
    public function base(): string
    {
        return $this->wildcard ? substr($this->name, 2) : $this->name;
    }

    /**
     * Refuses the host of $apiUrl (closte.api_url, the Closte API itself) as an alias: it is
     * never a site's domain (domain.rs's refuse_api_host). Compared in normal form.
     */
    public function refuseApiHost(string $apiUrl): self
    {
        if (self::$apiHost === null || self::$apiHost[0] !== $apiUrl) {
            $host = parse_url($apiUrl, PHP_URL_HOST);
            self::$apiHost = [$apiUrl, is_string($host) && $host !== '' ? self::tryParse($host)?->name : null];
        }
        if (self::$apiHost[1] === $this->name) {
            throw new InvalidDomainException(
                "invalid domain \"{$this->name}\": it is the host of the Closte API itself (closte.api_url), not a site's domain",
                1
            );
        }
        return $this;
    }

    private static function parseText(string $input): self
    {
        if ($input === '') {
            throw new Problem('the domain is empty');
        }
        if (strlen($input) > self::MAX_INPUT_LEN) {
            throw new Problem(sprintf('the input is %d bytes long, far beyond a host name', strlen($input)));
        }
        // Structural checks on the raw text, so the message points at what the operator typed.
        $chars = Utf8::chars($input);
        foreach ($chars as $position => $char) {
            $point = Utf8::codePoint($char);
            if ($point <= 0x1F || ($point >= 0x7F && $point <= 0x9F) || self::isInvisible($point)) {
                throw new Problem("control character at position $position");
            }
            if (self::isWhitespace($point)) {
                throw new Problem("whitespace at position $position");
            }
            if ($point >= 0xFF01 && $point <= 0xFF5E) {
                throw new Problem(sprintf(
                    'contains the full-width character %s (a look-alike of ASCII); type the ASCII character',
                    self::describe($char)
                ));
            }
        }
        $scheme = strpos($input, '://');
        if ($scheme !== false) {
            throw new Problem(sprintf(
                'it is a URL with scheme "%s://"; give the bare host name',
                Utf8::truncate(substr($input, 0, $scheme), 16)
            ));
        }
        foreach ($chars as $position => $char) {
            if (in_array($char, ['/', '\\', '?', '#'], true)) {
                throw new Problem("path, query or fragment starting at position $position; give the bare host name");
            }
        }
        if (str_contains($input, '@')) {
            throw new Problem('contains "@" (an e-mail address or URL credentials)');
        }
        $bracketless = rtrim(ltrim($input, '['), ']');
        if (filter_var($bracketless, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) !== false) {
            throw new Problem("\"$bracketless\" is an IP address, not a domain name");
        }
        $colon = strrpos($input, ':');
        if ($colon !== false) {
            $host = substr($input, 0, $colon);
            if (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false) {
                throw new Problem("\"$host\" is an IP address, not a domain name");
            }
            throw new Problem(sprintf('contains a port (":%s"); give the host name', Utf8::truncate(substr($input, $colon + 1), 8)));
        }
        $withoutRoot = str_ends_with($input, '.') ? substr($input, 0, -1) : $input;
        if (filter_var($withoutRoot, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false) {
            throw new Problem("\"$withoutRoot\" is an IP address, not a domain name");
        }
        $wildcard = str_starts_with($withoutRoot, '*.');
        $rest = $wildcard ? substr($withoutRoot, 2) : $withoutRoot;
        if (str_contains($rest, '*') || (!$wildcard && $withoutRoot === '*')) {
            throw new Problem('"*" is only allowed as the whole first label ("*.")');
        }
        if ($rest === '' || in_array('', explode('.', $rest), true)) {
            throw new Problem('empty label (two dots in a row or a leading dot)');
        }
        $ascii = self::toAscii($rest);
        $labels = explode('.', $ascii);
        foreach ($labels as $label) {
            self::checkLabel($label);
        }
        $last = $labels[count($labels) - 1];
        if (count($labels) === 1) {
            throw new Problem($wildcard
                ? 'a wildcard needs at least two labels after "*." (like *.example.com)'
                : "\"$last\" has a single label; a mapped domain needs a dot (like example.com)");
        }
        if (Ascii::isDigits($last)) {
            throw new Problem("top-level label \"$last\" is all digits");
        }
        $name = $wildcard ? "*.$ascii" : $ascii;
        if (strlen($name) > self::MAX_NAME_LEN) {
            throw new Problem(sprintf('the name is %d characters long (at most %d)', strlen($name), self::MAX_NAME_LEN));
        }
        return new self($name, $wildcard);
    }

    /**
     * ASCII names are lower-cased; anything else goes through UTS 46 (intl). The look-alike
     * check runs on the Unicode form, so a label typed as punycode is judged by its characters.
     */
    private static function toAscii(string $name): string
    {
        if (preg_match('/[^\x00-\x7F]/', $name) !== 1) {
            $ascii = strtolower($name);
            foreach (explode('.', $ascii) as $label) {
                if (str_starts_with($label, 'xn--') && self::unicodeOfAceLabel($label) === null) {
                    throw new Problem(sprintf('label "%s" is not a valid internationalised name (IDNA/UTS 46)', Utf8::truncate($label, 40)));
                }
            }
        } else {
            if (!function_exists('idn_to_ascii')) {
                throw new Problem('it is an internationalised name, which the PHP implementation of closte converts to punycode only with PHP\'s intl extension; enable intl, or give the name in punycode (xn--...)');
            }
            $converted = self::uts46ToAscii($name);
            if ($converted === null) {
                throw new Problem(sprintf('label "%s" is not a valid internationalised name (IDNA/UTS 46)', self::firstBadIdnaLabel($name)));
            }
            // UTS 46 maps full-width and ideographic dots to '.': a root dot and empty labels
            // may appear only now.
            $ascii = str_ends_with($converted, '.') ? substr($converted, 0, -1) : $converted;
            if (in_array('', explode('.', $ascii), true)) {
                throw new Problem('empty label (two dots in a row or a leading dot)');
            }
        }
        $unicode = [];
        $hasAce = false;
        foreach (explode('.', $ascii) as $label) {
            if (str_starts_with($label, 'xn--')) {
                $hasAce = true;
                $unicode[] = self::unicodeOfAceLabel($label) ?? $label;
            } else {
                $unicode[] = $label;
            }
        }
        if ($hasAce) {
            self::checkScripts(implode('.', $unicode));
        }
        return $ascii;
    }

    private static function uts46ToAscii(string $name): ?string
    {
        $flags = IDNA_NONTRANSITIONAL_TO_ASCII | IDNA_USE_STD3_RULES | IDNA_CHECK_BIDI | IDNA_CHECK_CONTEXTJ;
        $info = [];
        idn_to_ascii($name, $flags, INTL_IDNA_VARIANT_UTS46, $info);
        if (!isset($info['result']) || ($info['errors'] & ~self::ignoredIdnaErrors()) !== 0 || $info['result'] === '') {
            return null;
        }
        return $info['result'];
    }

    /** The characters an `xn--` label stands for, or null when it is not valid IDNA. */
    private static function unicodeOfAceLabel(string $label): ?string
    {
        if (function_exists('idn_to_utf8')) {
            if (self::uts46ToAscii($label) === null) {
                return null;
            }
            $info = [];
            idn_to_utf8($label, IDNA_NONTRANSITIONAL_TO_UNICODE | IDNA_USE_STD3_RULES, INTL_IDNA_VARIANT_UTS46, $info);
            return isset($info['result']) && ($info['errors'] & ~self::ignoredIdnaErrors()) === 0 ? $info['result'] : null;
        }
        return Punycode::decode(substr($label, 4));
    }

    private static function firstBadIdnaLabel(string $name): string
    {
        $labels = preg_split('/[.。．｡]/u', $name) ?: [$name];
        foreach ($labels as $label) {
            if (self::uts46ToAscii($label) === null) {
                return Utf8::truncate($label, 40);
            }
        }
        return Utf8::truncate($name, 40);
    }

    private static function checkLabel(string $label): void
    {
        if ($label === '') {
            throw new Problem('empty label (two dots in a row or a leading dot)');
        }
        if (preg_match('/[^a-zA-Z0-9-]/u', $label, $bad) === 1) {
            throw new Problem(sprintf(
                'label "%s" contains %s (allowed: letters, digits, hyphen)',
                Utf8::truncate($label, 40),
                self::describe($bad[0])
            ));
        }
        if (strlen($label) > self::MAX_LABEL_LEN) {
            throw new Problem(sprintf('label "%s" is %d characters long (at most %d)', Utf8::truncate($label, 20), strlen($label), self::MAX_LABEL_LEN));
        }
        if ($label[0] === '-' || $label[strlen($label) - 1] === '-') {
            throw new Problem("label \"$label\" starts or ends with a hyphen");
        }
    }

    /** Alphabets whose letters imitate each other; a label mixing two is a homograph. */
    private static function scriptOf(int $point): ?string
    {
        return match (true) {
            ($point >= 0x41 && $point <= 0x5A) || ($point >= 0x61 && $point <= 0x7A) => 'Latin',
            (($point >= 0xC0 && $point <= 0x24F) || ($point >= 0x1E00 && $point <= 0x1EFF)) && $point !== 0xD7 && $point !== 0xF7 => 'Latin',
            ($point >= 0x370 && $point <= 0x3FF) || ($point >= 0x1F00 && $point <= 0x1FFF) => 'Greek',
            ($point >= 0x400 && $point <= 0x52F) || ($point >= 0x2DE0 && $point <= 0x2DFF) || ($point >= 0xA640 && $point <= 0xA69F) => 'Cyrillic',
            $point >= 0x530 && $point <= 0x58F => 'Armenian',
            ($point >= 0x13A0 && $point <= 0x13FF) || ($point >= 0xAB70 && $point <= 0xABBF) => 'Cherokee',
            default => null,
        };
    }

    private static function checkScripts(string $name): void
    {
        foreach (preg_split('/[.。．｡]/u', $name) ?: [] as $label) {
            $seen = [];
            foreach (Utf8::chars($label) as $char) {
                $script = self::scriptOf(Utf8::codePoint($char));
                if ($script !== null && !in_array($script, $seen, true)) {
                    $seen[] = $script;
                }
            }
            if (count($seen) > 1) {
                throw new Problem(sprintf(
                    'label "%s" mixes %s letters (a look-alike of another name)',
                    Utf8::truncate($label, 40),
                    implode(' and ', $seen)
                ));
            }
        }
    }

    /** Zero-width and bidi-control characters hide text in logs. */
    private static function isInvisible(int $point): bool
    {
        return ($point >= 0x200B && $point <= 0x200F) || ($point >= 0x202A && $point <= 0x202E)
            || ($point >= 0x2060 && $point <= 0x2064) || $point === 0xFEFF;
    }

    /** Unicode White_Space (what Rust's char::is_whitespace tests), controls excluded. */
    private static function isWhitespace(int $point): bool
    {
        return $point === 0x20 || $point === 0xA0 || $point === 0x1680 || ($point >= 0x2000 && $point <= 0x200A)
            || $point === 0x2028 || $point === 0x2029 || $point === 0x202F || $point === 0x205F || $point === 0x3000;
    }

    private static function describe(string $char): string
    {
        $point = Utf8::codePoint($char);
        return $point > 0x20 && $point < 0x7F ? "'$char'" : sprintf('U+%04X', $point);
    }

    /**
     * UTS 46 errors the extension's IDNA settings do not apply (hyphens and DNS lengths are
     * checked apart). A method, not a constant: intl defines these names, and a class constant
     * naming them would fail the whole class on a server without intl.
     */
    private static function ignoredIdnaErrors(): int
    {
        return IDNA_ERROR_EMPTY_LABEL | IDNA_ERROR_LABEL_TOO_LONG | IDNA_ERROR_DOMAIN_NAME_TOO_LONG
            | IDNA_ERROR_LEADING_HYPHEN | IDNA_ERROR_TRAILING_HYPHEN | IDNA_ERROR_HYPHEN_3_4;
    }
}

/** Why an input is not a usable name (internal: becomes the InvalidDomainException's text). */
final class Problem extends \Exception
{
}
