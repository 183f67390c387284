<?php
/**
 * Decoding Closte's answers: {"success": true, ...} or {"success": false, "error": "..."}.
 * Lenient where Closte's format is loose (`success` as bool, number or string; `error`,
 * `message` or `msg`), strict where it matters: a body that is not a JSON object is a
 * decode failure, never a silent success.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

final class Answer
{
    /** Longest error text kept from a body (a proxy may send a whole page). */
    public const MAX_MESSAGE_CHARS = 500;
    /** Most JSON values an answer may hold outside its `domains` list. */
    public const MAX_ANSWER_VALUES = 10000;
    /** Most aliases a listing may name. */
    public const MAX_LISTED_DOMAINS = 100000;
    /** serde_json's nesting limit. */
    private const MAX_DEPTH = 128;

    /** The reason phrases of Rust's http crate (StatusCode::canonical_reason), every one. */
    private const REASONS = [
        100 => 'Continue', 101 => 'Switching Protocols', 102 => 'Processing', 103 => 'Early Hints',
        200 => 'OK', 201 => 'Created', 202 => 'Accepted', 203 => 'Non Authoritative Information',
        204 => 'No Content', 205 => 'Reset Content', 206 => 'Partial Content', 207 => 'Multi-Status',
        208 => 'Already Reported', 226 => 'IM Used', 300 => 'Multiple Choices', 301 => 'Moved Permanently',
        302 => 'Found', 303 => 'See Other', 304 => 'Not Modified', 305 => 'Use Proxy',
        307 => 'Temporary Redirect', 308 => 'Permanent Redirect', 400 => 'Bad Request', 401 => 'Unauthorized',
        402 => 'Payment Required', 403 => 'Forbidden', 404 => 'Not Found', 405 => 'Method Not Allowed',
        406 => 'Not Acceptable', 407 => 'Proxy Authentication Required', 408 => 'Request Timeout',
        409 => 'Conflict', 410 => 'Gone', 411 => 'Length Required', 412 => 'Precondition Failed',
        413 => 'Payload Too Large', 414 => 'URI Too Long', 415 => 'Unsupported Media Type',
        416 => 'Range Not Satisfiable', 417 => 'Expectation Failed', 418 => "I'm a teapot",
        421 => 'Misdirected Request', 422 => 'Unprocessable Entity', 423 => 'Locked',
        424 => 'Failed Dependency', 425 => 'Too Early', 426 => 'Upgrade Required',
        428 => 'Precondition Required', 429 => 'Too Many Requests', 431 => 'Request Header Fields Too Large',
        451 => 'Unavailable For Legal Reasons', 500 => 'Internal Server Error', 501 => 'Not Implemented',
        502 => 'Bad Gateway', 503 => 'Service Unavailable', 504 => 'Gateway Timeout',
        505 => 'HTTP Version Not Supported', 506 => 'Variant Also Negotiates', 507 => 'Insufficient Storage',
        508 => 'Loop Detected', 510 => 'Not Extended', 511 => 'Network Authentication Required',
    ];

    /**
     * @param array<mixed> $body the decoded JSON object
     */
    private function __construct(
        public readonly int $status,
        public readonly bool $success,
        public readonly ?string $error,
        public array $body,
    ) {
    }

    /** A refusal as a failure, classified from status and Closte's text. */
    public function rejection(): Failure
    {
        $message = $this->error ?? 'Closte answered success=false without an error text';
        return Failure::rejected($this->status, ErrorKind::classifyRejection($this->status, $message), $message, null, $this->body);
    }

    /** One HTTP response as an Answer or a Failure. */
    public static function decode(int $status, string $body, ?int $retryAfter): self|Failure
    {
        $isObject = preg_match('/^\s*\{/', $body) === 1;
        $parsed = null;
        $decodes = false;
        $tooLarge = null;
        if ($body !== '' && ($tooLarge = self::tooLargeToDecode($body)) === null) {
            $parsed = json_decode($body, true, self::MAX_DEPTH + 1);
            $decodes = json_last_error() === JSON_ERROR_NONE;
        }
        if ($status < 200 || $status >= 300) {
            $text = ($decodes && $isObject ? self::errorText($parsed) : null)
                ?? self::describeHttpFailure($status, $body, $decodes);
            return Failure::rejected(
                $status,
                ErrorKind::classifyRejection($status, $text),
                $text,
                $retryAfter,
                $decodes && $isObject ? $parsed : null
            );
        }
        if ($tooLarge !== null) {
            return Failure::decode($status, $tooLarge);
        }
        if (!$decodes) {
            return Failure::decode($status, self::describeUndecodable($body));
        }
        if (!$isObject) {
            return Failure::decode($status, 'expected a JSON object from Closte, got ' . self::typeName($parsed));
        }
        if (($message = self::tooLarge($parsed)) !== null) {
            return Failure::decode($status, $message);
        }
        return new self($status, self::truthy($parsed['success'] ?? false), self::errorText($parsed), $parsed);
    }

    /**
     * A body whose JSON values clearly exceed what an answer may hold (the extension's cap of
     * values plus a full listing) is refused before json_decode: a 4 MiB body of tiny objects
     * would otherwise exhaust a usual memory_limit, a fatal error inside the call.
     */
    private static function tooLargeToDecode(string $body): ?string
    {
        if (strlen($body) < 32768) {
            return null;
        }
        $skeleton = (string) preg_replace('/"(?:[^"\\\\]++|\\\\.)*+"/s', '""', $body);
        $skeleton = (string) preg_replace('/\s++/', '', $skeleton);
        $values = substr_count($skeleton, '{') + substr_count($skeleton, '[')
            + (int) preg_match_all('/""|-?\d[\d.eE+-]*+|true|false|null/', $skeleton)
            - substr_count($skeleton, '"":');
        if ($values > self::MAX_ANSWER_VALUES + self::MAX_LISTED_DOMAINS + 1) {
            return sprintf("Closte's answer holds more than %d JSON values: not converted", self::MAX_ANSWER_VALUES);
        }
        return null;
    }

    private static function tooLarge(array $body): ?string
    {
        $listed = isset($body['domains']) && is_array($body['domains']) && array_is_list($body['domains']) ? count($body['domains']) : 0;
        if ($listed > self::MAX_LISTED_DOMAINS) {
            return sprintf("Closte's answer lists %d domains, more than the %d accepted", $listed, self::MAX_LISTED_DOMAINS);
        }
        if (self::countValues($body, self::MAX_ANSWER_VALUES + 1, true) > self::MAX_ANSWER_VALUES) {
            return sprintf("Closte's answer holds more than %d JSON values: not converted", self::MAX_ANSWER_VALUES);
        }
        return null;
    }

    /** JSON values in $value, counting at most $limit (the top-level `domains` left out when asked). */
    private static function countValues(mixed $value, int $limit, bool $skipDomains): int
    {
        $count = 1;
        if (!is_array($value)) {
            return $count;
        }
        foreach ($value as $key => $child) {
            if ($skipDomains && $key === 'domains') {
                continue;
            }
            if ($count >= $limit) {
                break;
            }
            $count += self::countValues($child, $limit - $count, false);
        }
        return $count;
    }

    private static function truthy(mixed $value): bool
    {
        return match (true) {
            is_bool($value) => $value,
            is_int($value), is_float($value) => $value != 0,
            is_string($value) => in_array(strtolower(Utf8::trim($value)), ['1', 'true', 'ok'], true),
            default => false,
        };
    }

    /** Closte's error text; blank texts count as absent, so a message is never empty. */
    private static function errorText(mixed $value): ?string
    {
        if (!is_array($value)) {
            return null;
        }
        foreach (['error', 'message', 'msg'] as $key) {
            if (!array_key_exists($key, $value)) {
                continue;
            }
            $v = $value[$key];
            if (is_string($v)) {
                // Rust's trim: a text of no-break spaces is as blank as one of spaces.
                if (Utf8::trim($v) !== '') {
                    return self::cap($v);
                }
                continue;
            }
            if ($v === null || is_bool($v)) {
                continue;
            }
            return self::cap((string) json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION));
        }
        return null;
    }

    private static function describeHttpFailure(int $status, string $body, bool $isJson): string
    {
        $what = match (true) {
            $body === '' => 'empty body',
            $isJson => 'JSON without an error text',
            self::looksLikeHtml($body) => 'HTML page',
            default => strlen($body) . ' bytes, not JSON',
        };
        return str_replace('  ', ' ', sprintf('HTTP %d %s (%s)', $status, self::REASONS[$status] ?? '', $what));
    }

    private static function describeUndecodable(string $body): string
    {
        if ($body === '') {
            return 'Closte answered with an empty body';
        }
        if (self::looksLikeHtml($body)) {
            return 'Closte answered with an HTML page instead of JSON';
        }
        return sprintf('Closte answered with malformed JSON (%d bytes, starts "%s")', strlen($body), Escape::debug(Utf8::lossy(substr($body, 0, 60))));
    }

    private static function looksLikeHtml(string $body): bool
    {
        $head = ltrim(strtolower(Utf8::lossy(substr($body, 0, 256))));
        return str_starts_with($head, '<!doctype html') || str_starts_with($head, '<html') || str_contains($head, '<body');
    }

    private static function typeName(mixed $value): string
    {
        return match (true) {
            $value === null => 'null',
            is_bool($value) => 'a boolean',
            is_int($value), is_float($value) => 'a number',
            is_string($value) => 'a string',
            default => 'an array',
        };
    }

    private static function cap(string $text): string
    {
        return Utf8::truncate(Utf8::lossy($text), self::MAX_MESSAGE_CHARS);
    }
}
