<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

/** Programmer and configuration errors throw before any request reaches "Closte". */
final class ExceptionsTest extends ClosteTestCase
{
    public function testExceptionTree(): void
    {
        $this->assertSame(\Exception::class, get_parent_class(\Closte\Exception::class));
        $this->assertSame(\Closte\Exception::class, get_parent_class(\Closte\InvalidDomainException::class));
        $this->assertSame(\Closte\Exception::class, get_parent_class(\Closte\ConfigurationException::class));
    }

    /** @return array<string, array{string, string}> input => a fragment the message must contain */
    public static function badDomains(): array
    {
        return [
            'empty' => ['', 'empty'],
            'space' => ['exa mple.com', 'whitespace at position 3'],
            'scheme' => ['https://example.com', 'scheme "https://"'],
            'path' => ['example.com/wp-admin', 'path'],
            'port' => ['example.com:8080', 'port (":8080")'],
            'email' => ['admin@example.com', 'e-mail'],
            'ipv4' => ['192.0.2.1', 'IP address'],
            'ipv6' => ['[2001:db8::1]', 'IP address'],
            'long label' => [str_repeat('a', 64) . '.com', 'at most 63'],
            'long name' => [implode('.', array_fill(0, 5, str_repeat('a', 60))) . '.com', 'at most 253'],
            'underscore' => ['my_site.example.com', "label \"my_site\" contains '_'"],
            'nul byte' => ["example.com\0.evil", 'control character'],
            'newline' => ["example.com\nX-Injected: 1", 'control character'],
            'bad utf-8' => ["exa\xffmple.com", 'not valid UTF-8'],
            'wildcard middle' => ['www.*.example.com', 'first label'],
            'double dot' => ['example..com', 'empty label'],
            'single label' => ['localhost', 'single label'],
            'leading hyphen' => ['-bad.example.com', 'hyphen'],
            'dot dot slash' => ['../../etc/passwd', 'path'],
        ];
    }

    /** @dataProvider badDomains */
    #[DataProvider('badDomains')]
    public function testInvalidDomainsThrowBeforeAnyRequest(string $input, string $fragment): void
    {
        foreach (['closte_add_domain', 'closte_remove_domain', 'closte_request_ssl', 'closte_ssl_status'] as $function) {
            try {
                $function($input);
                $this->fail("$function accepted " . json_encode($input));
            } catch (\Closte\InvalidDomainException $e) {
                $this->assertStringContainsString($fragment, $e->getMessage(), $function);
                $this->assertStringStartsWith('invalid domain "', $e->getMessage());
                $this->assertSame(1, $e->getCode());
                $this->assertStringNotContainsString("\0", $e->getMessage());
                $this->assertStringNotContainsString("\n", $e->getMessage());
            }
        }
        $this->assertSame([], $this->sim->requests(), 'nothing reached the simulator');
    }

    public function testNoKeyIsAConfigurationError(): void
    {
        closte_test_ini('closte.api_key', '');
        $this->assertFalse(closte_detect());
        foreach ([
            static fn () => closte_add_domain('example.com'),
            static fn () => closte_remove_domain('example.com'),
            static fn () => closte_request_ssl('example.com'),
            static fn () => closte_ssl_status('example.com'),
            static fn () => closte_list_domains(),
            static fn () => closte_test_connection(),
        ] as $call) {
            try {
                $call();
                $this->fail('a call without a key went through');
            } catch (\Closte\ConfigurationException $e) {
                $this->assertStringContainsString('CLOSTE_CLIENT_API_KEY', $e->getMessage());
                $this->assertSame(2, $e->getCode());
            }
        }
        $this->assertSame([], $this->sim->requests());
    }

    public function testWhitespaceOnlyKeyCountsAsMissing(): void
    {
        closte_test_ini('closte.api_key', "   ");
        $this->assertFalse(closte_detect());
        $this->expectException(\Closte\ConfigurationException::class);
        closte_list_domains();
    }

    /** @return array<string, array{string, string}> */
    public static function badSettings(): array
    {
        return [
            'url scheme' => ['closte.api_url', 'ftp://example.com'],
            'timeout zero' => ['closte.timeout', '0'],
            'timeout text' => ['closte.timeout', 'soon'],
            'connect timeout' => ['closte.connect_timeout', '-3'],
            'retries' => ['closte.max_retries', '99'],
        ];
    }

    /** @dataProvider badSettings */
    #[DataProvider('badSettings')]
    public function testBadSettingsNameTheSetting(string $name, string $value): void
    {
        closte_test_ini($name, $value);
        try {
            closte_list_domains();
            $this->fail("$name=$value was accepted");
        } catch (\Closte\ConfigurationException $e) {
            $this->assertStringContainsString($name, $e->getMessage());
        }
        $this->assertSame([], $this->sim->requests());
    }

    public function testNativeFunctionsAreStrictAboutTypes(): void
    {
        $this->expectException(\TypeError::class);
        closte_add_domain('example.com', '12');
    }

    public function testMissingDomainArgumentIsAnArgumentCountError(): void
    {
        $this->expectException(\ArgumentCountError::class);
        closte_add_domain();
    }
}
