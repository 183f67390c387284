<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;
use PHPUnit\Framework\Attributes\Group;

/**
 * A panic never crosses into the engine as a crash: in the binding layer it becomes a PHP
 * \Error, in a job it becomes a failed result, and the process goes on serving. Uses a debug
 * build with the cargo feature `test-hooks` (the release .so has no way to panic on purpose).
 */
final class PanicTest extends ClosteTestCase
{
    /**
     * Native only: panics of the Rust code, through a build with test hooks.
     *
     * @group native-only
     */
    #[Group('native-only')]
    public function testPanicsSurfaceAsErrorsAndTheWorkerGoesOn(): void
    {
        $this->assertFileExists(CLOSTE_TEST_HOOKS_SO, 'make phpunit builds the test-hooks .so');
        $url = $this->sim->apiUrl();
        $result = PhpProcess::run(<<<PHP
            closte_test_ini('closte.api_url', '$url');
            \$out = [];
            try {
                closte_test_panic('deliberate panic in the binding layer');
                \$out[] = 'no panic?';
            } catch (\\Exception \$e) {
                \$out[] = 'caught as Exception: ' . get_class(\$e);
            } catch (\\Error \$e) {
                \$out[] = get_class(\$e) . ': ' . \$e->getMessage();
            }
            \$id = closte_test_enqueue_panic('deliberate panic in a job');
            \$job = closte_wait([\$id], 10.0)[\$id];
            \$out[] = [\$job['ok'], \$job['state'], \$job['retryable'], \$job['error'], \$job['error_kind']];
            // the same process keeps serving
            \$out[] = closte_add_domain('after-panic.example.com')['ok'];
            \$out[] = closte_pending();
            echo json_encode(\$out);
            PHP, ['closte.api_key' => CLOSTE_TEST_KEY], true, 60, CLOSTE_TEST_HOOKS_SO);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $out = json_decode($result['stdout'], true);
        $this->assertSame('Error: Rust panic: deliberate panic in the binding layer', $out[0]);
        $this->assertSame([false, 'failed', true, 'internal error in the closte extension: deliberate panic in a job', 'internal'], $out[1], 'a documented kind, never null on a failure');
        $this->assertTrue($out[2], 'a normal call after both panics works');
        $this->assertSame(0, $out[3]);
        $this->assertSame(['after-panic.example.com'], $this->sim->domains());
    }
}
