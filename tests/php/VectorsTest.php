<?php

declare(strict_types=1);

use Closte\Tests\Support\PhpProcess;
use Closte\Tests\Support\VectorRunner;
use PHPUnit\Framework\Attributes\DataProvider;
use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Support/VectorRunner.php';

/**
 * Shared vectors: the pure decisions of closte-core as data (tests/vectors/*.json), run on the
 * PHP implementation's classes (Closte\Compat\*) by Support/VectorRunner.php;
 * crates/closte-core/tests/vectors.rs runs the same files on Rust. A decision that drifts in
 * one implementation fails that implementation's runner (docs/testing.md, "Shared vectors").
 *
 * In the PHP-implementation run the runner works in this process. With the extension loaded
 * the PHP implementation defines nothing (and its exceptions are the extension's, which PHP
 * code cannot instantiate), so the runner works in a child `php -n` with curl and intl and
 * without the extension: both suite runs check the PHP implementation, with the same runner.
 */
final class VectorsTest extends TestCase
{
    /** @return array<string, array{string}> */
    public static function files(): array
    {
        $files = array_keys(VectorRunner::FAMILIES);
        return array_combine($files, array_map(static fn (string $file) => [$file], $files));
    }

    /** VectorRunner::check($file, $changeOne) on the PHP implementation. */
    private static function check(string $file, bool $changeOne): array
    {
        if (!extension_loaded('closte')) {
            return VectorRunner::check($file, $changeOne);
        }
        $code = 'require ' . var_export(dirname(__DIR__, 2) . '/wordpress/closte-native/compat/bootstrap.php', true) . ";\n"
            . 'require ' . var_export(__DIR__ . '/Support/VectorRunner.php', true) . ";\n"
            . 'echo json_encode(Closte\Tests\Support\VectorRunner::check(' . var_export($file, true) . ', '
            . var_export($changeOne, true) . '), JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);';
        $cmd = [PHP_BINARY, '-n', '-d', 'error_reporting=-1'];
        $builtIn = PhpProcess::exec([PHP_BINARY, '-n'], 'echo json_encode(get_loaded_extensions());');
        foreach (array_diff(['curl', 'intl'], json_decode($builtIn['stdout'], true) ?: []) as $module) {
            array_push($cmd, '-d', "extension=$module"); // shared, as scripts/phpunit.sh loads them
        }
        $run = PhpProcess::exec($cmd, $code);
        self::assertSame(0, $run['exit'], $run['stderr'] . $run['stdout']);
        self::assertSame('', $run['stderr']);
        return json_decode($run['stdout'], true, 512, JSON_THROW_ON_ERROR);
    }

    /** @dataProvider files */
    #[DataProvider('files')]
    public function testEveryVectorHolds(string $file): void
    {
        $result = self::check($file, false);
        $this->assertIsString($result['about'], "$file: header.about");
        $this->assertGreaterThan(0, $result['cases'], "$file has cases");
        $this->assertSame($result['ids'], array_values(array_unique($result['ids'])), "$file: ids are unique");
        $this->assertSame([], $result['bad_drifts'], "$file: a drift says why and differs from expected");
        $this->assertSame([], $result['mismatches']);
        if ($result['intl']) {
            $this->assertSame([], $result['not_compared'], 'with intl every case is compared');
        } else {
            $this->assertLessThan($result['cases'] / 4, count($result['not_compared']), "$file: most cases are compared");
        }
    }

    /** @dataProvider files */
    #[DataProvider('files')]
    public function testAChangedExpectedValueFailsTheRun(string $file): void
    {
        $result = self::check($file, true);
        $this->assertCount(2, $result['changed_runs']);
        foreach ($result['changed_runs'] as $reported) {
            $this->assertCount(1, $reported, implode("\n", $reported));
            $this->assertStringStartsWith("$file {$result['changed_id']}:", $reported[0]);
        }
    }
}
