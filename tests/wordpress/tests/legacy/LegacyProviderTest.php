<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Host_Provider;

/**
 * Ultimate Multisite 2.4.x (STAND-IN, fixtures/): our host provider takes the stock
 * Closte_Host_Provider's place and sends the wizard's JSON itself.
 */
final class LegacyProviderTest extends E2eTestCase
{
    public function testOurProviderTakesTheStockIntegrationsPlace(): void
    {
        $integrations = apply_filters('wu_domain_manager_get_integrations', []);
        $this->assertSame(Host_Provider::class, $integrations['closte'], 'the id "closte" maps to our class');
        $provider = Host_Provider::get_instance();
        $this->assertTrue($provider->is_enabled());
        $this->assertTrue($provider->supports('autossl'));
        $this->assertTrue($provider->supports('no-config'));
        $this->assertSame('Closte', $provider->get_title());
        $this->assertFalse(class_exists('WP_Ultimo\\Integrations\\Integration_Registry', false), 'this generation has no registry');
        $this->assertFalse(class_exists('Closte_Native\\Registry_Integration', false), 'the registry adapter is not loaded');
    }

    public function testTheWizardGetsErrorCodesAndA403ForSubscribers(): void
    {
        $nonce = $this->testConnectionNonce();
        $this->sim->configure(['api_keys' => ['a-different-key']]);
        $this->assertSame('closte-auth', $this->connectionAnswer($nonce)['code']);
        $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);
        $this->sim->fault(['kind' => 'close', 'count' => 10]);
        $this->assertSame('closte-unreachable', $this->connectionAnswer($nonce)['code']);
        $this->sim->control('POST', '/faults/clear');
        $this->assertSame('closte-bad-nonce', $this->connectionAnswer(null)['code']);
        $this->assertSame(403, $this->connectionAnswer(null)['http_status']);
    }
}
