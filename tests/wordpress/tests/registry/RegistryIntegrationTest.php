<?php

declare(strict_types=1);

use Closte\Tests\E2e\E2eTestCase;
use Closte_Native\Connection_Test;
use Closte_Native\Registry_Domain_Mapping;
use Closte_Native\Registry_Integration;
use WP_Ultimo\Helpers\Credential_Store;
use WP_Ultimo\Integrations\Base_Capability_Module;
use WP_Ultimo\Integrations\Capability_Module;
use WP_Ultimo\Integrations\Integration;
use WP_Ultimo\Integrations\Integration_Registry;

/**
 * Ultimate Multisite 2.5+ (STAND-IN modelled on the real registry classes, fixtures/): our
 * integration and capability module replace the stock Closte ones in the registry; the legacy
 * provider is not registered.
 */
final class RegistryIntegrationTest extends E2eTestCase
{
    private function integration(): Registry_Integration
    {
        $integration = Integration_Registry::get_instance()->get('closte');
        $this->assertInstanceOf(Registry_Integration::class, $integration);
        return $integration;
    }

    public function testOurIntegrationAndModuleAreTheOnesRegisteredForCloste(): void
    {
        $registry = Integration_Registry::get_instance();
        $integration = $this->integration();
        $module = $registry->get_capability('closte', 'domain-mapping');
        $this->assertInstanceOf(Registry_Domain_Mapping::class, $module);
        $this->assertCount(1, $registry->get_capabilities('closte'), 'one domain-mapping module: ours');
        $this->assertSame($integration, $module->get_integration(), 'the registry gave our module our integration');

        // What the stock objects declare, so the operator's settings carry over.
        $this->assertSame('closte', $integration->get_id());
        $this->assertSame('Closte', $integration->get_title());
        $this->assertSame(['CLOSTE_CLIENT_API_KEY'], $integration->get_constants());
        $this->assertSame(['autossl', 'no-instructions', 'no-config'], $integration->get_supports());
        $this->assertSame('https://ultimatemultisite.com/docs/user-guide/host-integrations/closte', $integration->get_tutorial_link());
        $this->assertTrue($integration->is_enabled(), 'wu_host_integrations_enabled[closte] carries over');
        $this->assertTrue($integration->is_setup());
        $this->assertTrue($integration->detect());

        // What Ultimate Multisite's own tests expect of the stock module.
        $this->assertSame('domain-mapping', $module->get_capability_id());
        $this->assertNotEmpty($module->get_title());
        $this->assertTrue($module->supports('autossl'));
        $this->assertFalse($module->supports('nonexistent'));
        $lines = $module->get_explainer_lines();
        $this->assertNotEmpty($lines['will']);
        $this->assertArrayHasKey('will_not', $lines);
        $this->assertSame($lines['will'], $integration->get_explainer_lines()['will']);
        foreach (['wu_add_domain' => 'on_add_domain', 'wu_remove_domain' => 'on_remove_domain', 'wu_add_subdomain' => 'on_add_subdomain', 'wu_remove_subdomain' => 'on_remove_subdomain'] as $hook => $method) {
            $this->assertSame(10, has_action($hook, [$module, $method]), "register_hooks() hooked $hook");
        }
        $this->assertSame(10, has_filter('wu_async_process_domain_stage_max_tries', [$module, 'ssl_tries']));
        $record = new class () {
            public function get_stage(): string { return 'checking-ssl-cert'; }
        };
        $this->assertSame(20, $module->ssl_tries(5, $record));

        // The legacy path is not taken on this generation.
        $this->assertArrayNotHasKey('closte', apply_filters('wu_domain_manager_get_integrations', []));
        $this->assertFalse(class_exists('Closte_Native\\Host_Provider', false), 'the legacy provider is not even loaded');
    }

    /**
     * The network runs on the capability module declarations of the release under test: 2.5.0 and
     * 2.5.1 type everything, 2.5.2 and later (2.18) nothing but set_integration()'s parameter.
     */
    public function testTheCapabilityModuleDeclarationsAreThoseOfTheReleaseUnderTest(): void
    {
        $typed = '2.5' === CLOSTE_E2E_UM;
        $this->assertContains(CLOSTE_E2E_UM, ['2.5', '2.18']);
        $supports = new ReflectionMethod(Base_Capability_Module::class, 'supports');
        $this->assertSame($typed ? 'string' : null, $supports->getParameters()[0]->getType()?->getName(), 'supports($feature)');
        $this->assertSame($typed ? 'bool' : null, $supports->getReturnType()?->getName());
        foreach ([Capability_Module::class, Base_Capability_Module::class] as $class) {
            foreach ((new ReflectionClass($class))->getMethods() as $method) {
                $declared = $method->getReturnType()?->getName();
                if ('test_connection' === $method->getName()) {
                    $this->assertNull($declared, 'test_connection() returns true or a WP_Error in every release');
                } elseif ($typed) {
                    $this->assertNotNull($declared, "$class::{$method->getName()} has a return type on 2.5.0/2.5.1");
                } else {
                    $this->assertNull($declared, "$class::{$method->getName()} has no return type since 2.5.2");
                }
            }
            $this->assertSame(Integration::class, (new ReflectionMethod($class, 'set_integration'))->getParameters()[0]->getType()?->getName());
        }
        $module = Integration_Registry::get_instance()->get_capability('closte', 'domain-mapping');
        $this->assertInstanceOf(Registry_Domain_Mapping::class, $module, 'our module loaded on these declarations');
        $this->assertTrue($module->supports('autossl'));
    }

    /**
     * Our module declared against each registry release's contracts in a bare PHP process: it
     * loads on 2.5 and 2.18. A copy that narrows supports()'s parameter to string (what 2.5.0
     * declared) is a fatal error on 2.18, the failure that an adapter written against one release
     * meets on another: return types may be added, parameter types must not be narrowed.
     */
    public function testOurModuleLoadsOnEveryRegistryReleaseAndANarrowedParameterWouldNot(): void
    {
        $ours = dirname(__DIR__, 4) . '/wordpress/closte-native/includes/ultimate-multisite/class-registry-domain-mapping.php';
        $source = (string) file_get_contents($ours);
        $opening = 'class Registry_Domain_Mapping extends Base_Capability_Module implements Domain_Mapping_Capability {';
        $this->assertStringContainsString($opening, $source);
        $narrowed = tempnam(sys_get_temp_dir(), 'closte-narrowed-');
        file_put_contents($narrowed, str_replace($opening, $opening . "\n\tpublic function supports(string \$feature): bool {\n\t\treturn parent::supports(\$feature);\n\t}\n", $source));
        try {
            foreach (['2.5', '2.18'] as $release) {
                $loaded = $this->declareAgainst($release, $ours);
                $this->assertSame(['exit' => 0, 'output' => 'declared'], $loaded, "our module on $release");
            }
            $this->assertSame(['exit' => 0, 'output' => 'declared'], $this->declareAgainst('2.5', $narrowed), 'the narrowed copy matches 2.5.0/2.5.1');
            $fatal = $this->declareAgainst('2.18', $narrowed);
            $this->assertSame(255, $fatal['exit']);
            $this->assertStringContainsString('Fatal error', $fatal['output']);
            $this->assertStringContainsString('Declaration of Closte_Native\Registry_Domain_Mapping::supports(string $feature): bool must be compatible with WP_Ultimo\Integrations\Base_Capability_Module::supports($feature)', $fatal['output']);
        } finally {
            unlink($narrowed);
        }
    }

    /**
     * Declares $file's class in a fresh `php -n` after the capability module declarations of
     * $release (the same fixture file the network loads), then prints "declared".
     *
     * @return array{exit: int, output: string}
     */
    private function declareAgainst(string $release, string $file): array
    {
        $declarations = dirname(__DIR__, 2) . "/fixtures/ultimate-multisite-capability-module-$release-standin.php";
        $this->assertFileExists($declarations);
        $code = sprintf(
            'define("ABSPATH", "/"); require %s; require %s; echo class_exists(%s, false) ? "declared" : "missing";',
            var_export($declarations, true),
            var_export($file, true),
            var_export(Registry_Domain_Mapping::class, true)
        );
        $process = proc_open([PHP_BINARY, '-n', '-d', 'error_reporting=-1', '-d', 'display_errors=stdout', '-d', 'html_errors=0', '-r', $code], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $output = trim((string) stream_get_contents($pipes[1]) . (string) stream_get_contents($pipes[2]));
        fclose($pipes[1]);
        fclose($pipes[2]);
        return ['exit' => proc_close($process), 'output' => $output];
    }

    public function testTestConnectionReturnsTrueOrAnActionableWpError(): void
    {
        wp_set_current_user(1);
        $_REQUEST[Connection_Test::NONCE_FIELD] = wp_create_nonce(Connection_Test::NONCE_ACTION);
        try {
            $this->assertTrue($this->integration()->test_connection());
            $this->assertTrue(Integration_Registry::get_instance()->get_capability('closte', 'domain-mapping')->test_connection());
            $this->assertCount(2, $this->requestsTo('/adddomainalias'), 'answered by the extension, not the stock code');

            $this->sim->configure(['api_keys' => ['a-different-key']]);
            $refused = $this->integration()->test_connection();
            $this->assertInstanceOf(WP_Error::class, $refused);
            $this->assertSame('closte-auth', $refused->get_error_code());
            $this->assertStringContainsString('Copy the key from your Closte dashboard again', $refused->get_error_message());

            $this->sim->configure(['api_keys' => [CLOSTE_E2E_KEY]]);
            $this->sim->fault(['kind' => 'close', 'count' => 10]);
            $down = $this->integration()->test_connection();
            $this->sim->control('POST', '/faults/clear');
            $this->assertSame('closte-unreachable', $down->get_error_code());

            unset($_REQUEST[Connection_Test::NONCE_FIELD]);
            $this->assertSame('closte-bad-nonce', $this->integration()->test_connection()->get_error_code());
            wp_set_current_user(0);
            $this->assertSame('closte-forbidden', $this->integration()->test_connection()->get_error_code());
        } finally {
            unset($_REQUEST[Connection_Test::NONCE_FIELD]);
            wp_set_current_user(0);
        }
        $this->assertSame([], get_network_option(null, 'standin_stock_closte_calls', []));
    }

    public function testOurHooksAreInPlaceOnEveryRequestSoUltimateMultisiteQueuesTheAdd(): void
    {
        // Since 2.12, wu_add_domain is queued only if something is hooked to it in the request
        // that creates the record: here a separate PHP process, as a customer's request would be.
        $mapped = $this->wpCli(['map', 'queued-in-request.example', '1']);
        $this->assertSame(0, $mapped['exit'], $mapped['stderr']);
        $jobs = $this->pendingJobs('wu_add_domain');
        $this->assertCount(1, $jobs);
        $this->assertSame(['queued-in-request.example', 1], array_values($jobs[0]['args']));
        $this->runQueue();
        $this->assertSame(['queued-in-request.example'], $this->sim->domains());
        $this->assertCount(1, $this->requestsTo('/adddomainalias', 'queued-in-request.example'), 'one request, from the extension');

        // With the integration disabled nothing is hooked, and Ultimate Multisite queues nothing.
        update_site_option('wu_host_integrations_enabled', ['closte' => false]);
        try {
            $this->wpCli(['map', 'disabled.example', '1']);
            $this->assertSame([], $this->pendingJobs('wu_add_domain'));
            $status = json_decode($this->wpCli(['registry-status'])['stdout'], true);
            $this->assertSame([], $status['wu_add_domain'], 'register_hooks() is left to the registry, which skips a disabled integration');
        } finally {
            update_site_option('wu_host_integrations_enabled', ['closte' => true]);
        }
    }

    public function testAKeyKeptOnlyInTheCredentialStoreWorksAndAMissingKeyIsReported(): void
    {
        $noConstant = ['CLOSTE_E2E_NO_KEY_CONSTANT' => '1'];
        $missing = json_decode($this->wpCli(['registry-status'], true, $noConstant)['stdout'], true);
        $this->assertSame(Registry_Integration::class, $missing['integration']);
        $this->assertFalse($missing['is_setup']);
        $this->assertFalse($missing['closte_detect']);
        $this->assertSame(['CLOSTE_CLIENT_API_KEY'], $missing['missing'], 'the wizard names what is missing');
        $this->assertSame([], $missing['wu_add_domain'], 'no hooks without a usable key: never a silent half-setup');

        update_site_option('wu_hosting_credential_CLOSTE_CLIENT_API_KEY', Credential_Store::encrypt(CLOSTE_E2E_KEY));
        $stored = json_decode($this->wpCli(['registry-status'], true, $noConstant)['stdout'], true);
        $this->assertTrue($stored['is_setup']);
        $this->assertTrue($stored['closte_detect'], 'the extension has the key');
        $this->assertSame('ini closte.api_key', $stored['key_source']);
        $this->assertSame([Registry_Domain_Mapping::class], $stored['wu_add_domain']);

        $fire = $this->wpCli(['fire', 'wu_add_domain', 'stored-key.example', '1'], true, $noConstant);
        $this->assertSame(0, $fire['exit'], $fire['stderr']);
        $add = $this->requestsTo('/adddomainalias', 'stored-key.example');
        $this->assertCount(1, $add);
        $this->assertSame('valid', $add[0]['key'], 'the stored key authenticated the call');
        $this->assertStringNotContainsString(CLOSTE_E2E_KEY, $this->log());
        delete_site_option('wu_hosting_credential_CLOSTE_CLIENT_API_KEY');
    }
}
