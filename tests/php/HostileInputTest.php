<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;

/**
 * More than a hundred hostile domain inputs through every function that takes a domain: each
 * gets Closte\InvalidDomainException naming the problem, and no request reaches the simulator.
 */
final class HostileInputTest extends ClosteTestCase
{
    /** @return list<string> */
    public static function corpus(): array
    {
        $inputs = [];
        // every C0 control character, DEL, and a few C1/format characters, inside a name
        foreach (array_merge(range(0, 31), [127]) as $code) {
            $inputs[] = 'exa' . chr($code) . 'mple.com';
        }
        foreach (["\u{0085}", "\u{200B}", "\u{200D}", "\u{2060}", "\u{FEFF}", "\u{202E}", "\u{2028}"] as $char) {
            $inputs[] = "exa{$char}mple.com";
        }
        $inputs[] = "\u{202E}moc.elpmaxe";
        // NUL bytes
        array_push($inputs, "\0", "example.com\0", "\0example.com", "example.com\0.evil.com");
        // overlong
        array_push(
            $inputs,
            str_repeat('a', 64) . '.com',
            implode('.', array_fill(0, 4, str_repeat('b', 63))) . '.com',
            str_repeat('a.', 127) . 'com',
            str_repeat('x', 5000),
            str_repeat('ab.', 400000) . 'com'
        );
        // look-alikes
        array_push(
            $inputs,
            "\u{0430}pple.com",
            "paypa\u{04CF}.com",
            "g\u{03BF}\u{03BF}gle.com",
            "micr\u{043E}soft.com",
            "\u{FF45}xample.com",
            "example\u{FF0E}com",
            'xn--pple-43d.com',
            "\u{0561}pple.com",
            "exampl\u{0435}.com"
        );
        // paths and traversal
        array_push($inputs, '../etc/passwd', '..', '.', '...', 'example.com/..', '..\\windows', '/example.com', 'example.com\\', '%2e%2e/example.com');
        // URLs
        array_push(
            $inputs,
            'http://example.com',
            'https://example.com/',
            'ftp://example.com',
            '//example.com',
            'example.com/path',
            'example.com?x=1',
            'example.com#top',
            'javascript:alert(1)',
            'http://user:pw@example.com',
            'HTTPS://EXAMPLE.COM',
            'example.com:443/',
            'file:///etc/passwd'
        );
        // e-mail addresses
        array_push($inputs, 'admin@example.com', '@example.com', 'example.com@', 'a@b@c.com');
        // IP addresses
        array_push($inputs, '127.0.0.1', '10.0.0.1', '192.168.1.1:80', '::1', '[::1]', '2001:db8::1', '[2001:db8::1]:443', '0x7f.0.0.1', '1.1', '4294967295', '::ffff:127.0.0.1', '255.255.255.255.');
        // wildcards in the wrong place
        array_push($inputs, 'www.*.example.com', 'a*.example.com', '*', '*.*.example.com', '*.com', '**.example.com', 'example.*', '*.', '*example.com');
        // empty labels
        array_push($inputs, 'example..com', '.example.com', 'a..', '..com', '...com', 'example.com..');
        // whitespace
        array_push($inputs, '', ' ', "\t", 'exa mple.com', "example.com\n", "\u{00A0}example.com", "\u{3000}example.com", ' example.com');
        // characters a host name cannot hold
        array_push($inputs, '-example.com', 'example-.com', 'exa_mple.com', 'exa!mple.com', 'exam%20ple.com', "exam'ple.com", 'exam"ple.com', '<script>.com', 'exa$mple.com', 'exa;mple.com', 'exa,mple.com', 'exa(mple).com', 'example.123', 'localhost', 'com');
        // broken UTF-8
        array_push($inputs, "\xff\xfe", "\xc0\xaf.com", "exa\xedmple.com", "example.com\x80");
        // invalid punycode
        array_push($inputs, 'xn--a.com', 'xn--.com', 'xn--zz-.com');
        return $inputs;
    }

    public function testCorpusIsLargeAndDistinct(): void
    {
        $corpus = self::corpus();
        $this->assertGreaterThanOrEqual(100, count($corpus));
        $this->assertSame(count($corpus), count(array_unique($corpus)));
    }

    public function testEveryInputIsRejectedByEveryFunctionBeforeAnyRequest(): void
    {
        $calls = [
            'closte_add_domain' => static fn (string $d) => closte_add_domain($d),
            'closte_remove_domain' => static fn (string $d) => closte_remove_domain($d),
            'closte_request_ssl' => static fn (string $d) => closte_request_ssl($d),
            'closte_ssl_status' => static fn (string $d) => closte_ssl_status($d),
            'closte_normalize_domain' => static fn (string $d) => closte_normalize_domain($d),
            'closte_enqueue add_domain' => static fn (string $d) => closte_enqueue('add_domain', $d),
            'closte_enqueue remove_domain' => static fn (string $d) => closte_enqueue('remove_domain', $d),
            'closte_enqueue request_ssl' => static fn (string $d) => closte_enqueue('request_ssl', $d),
            'closte_enqueue ssl_status' => static fn (string $d) => closte_enqueue('ssl_status', $d),
        ];
        $rejections = 0;
        foreach (self::corpus() as $input) {
            foreach ($calls as $name => $call) {
                try {
                    $call($input);
                    $this->fail("$name accepted " . json_encode($input, JSON_INVALID_UTF8_SUBSTITUTE));
                } catch (\Closte\InvalidDomainException $e) {
                    $message = $e->getMessage();
                    $this->assertMatchesRegularExpression('/^invalid domain ".*": \S.+$/su', $message, "$name: message names the problem");
                    $this->assertStringNotContainsString("\0", $message);
                    $this->assertStringNotContainsString("\n", $message);
                    $this->assertLessThan(400, strlen($message), 'the message stays short for any input');
                    $this->assertTrue(mb_check_encoding($message, 'UTF-8'), 'the message is valid UTF-8');
                    $rejections++;
                }
            }
        }
        $this->assertSame(count(self::corpus()) * count($calls), $rejections);
        $this->assertSame(0, closte_pending());
        $this->assertSame([], $this->sim->requests(), 'no request reached the simulator');
    }
}
