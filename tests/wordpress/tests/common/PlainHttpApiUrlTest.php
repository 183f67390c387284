<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Connection_Test;
use Closte_Native\Site_Health;

/**
 * An http:// closte.api_url to a host other than loopback would send the key in cleartext: the
 * implementation refuses it, and the wizard's test connection and Site Health tell the operator
 * why (the ConfigurationException's message) instead of a vague failure. Nothing is sent.
 */
final class PlainHttpApiUrlTest extends E2eTestCase
{
    private const URL = 'http://app.closte.com/api/client';
    private const MESSAGE = 'closte.api_url must use https:// (http:// only for a loopback host: 127.0.0.0/8, [::1] or localhost), '
        . 'because the API key would otherwise travel in cleartext: "' . self::URL . '"';

    /**
     * Sets closte.api_url for this process and returns the value it replaces (the harness points
     * it at the simulator at runtime, so "restore" must put that value back, not php.ini's).
     */
    private static function setApiUrl(string $url): string
    {
        if ('php' === CLOSTE_E2E_IMPL) {
            return (string) \Closte\Compat\Settings::set('closte.api_url', $url);
        }
        return (string) ini_set('closte.api_url', $url);
    }

    public function testTheWizardAndSiteHealthShowWhyAPlainHttpUrlIsRefused(): void
    {
        $simulator = self::setApiUrl(self::URL);
        try {
            $wizard = Connection_Test::run();
            $health = Site_Health::connection_test();
        } finally {
            self::setApiUrl($simulator);
        }
        $this->assertStringStartsWith('http://127.0.0.1:', $simulator, 'the simulator\'s URL is back for the tests that follow');

        $this->assertInstanceOf(\WP_Error::class, $wizard);
        $this->assertSame('closte-not-configured', $wizard->get_error_code());
        $this->assertSame(self::MESSAGE, html_entity_decode($wizard->get_error_message(), ENT_QUOTES));

        $this->assertSame('critical', $health['status']);
        $this->assertStringContainsString(self::MESSAGE, html_entity_decode(strip_tags($health['description']), ENT_QUOTES));
        $this->assertSame([], $this->sim->requests(), 'nothing was sent');
    }
}
