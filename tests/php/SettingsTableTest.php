<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;
use PHPUnit\Framework\Attributes\Group;

/**
 * docs/settings.json is the extension's settings table (closte-core config.rs SETTINGS; a cargo
 * test fails when the file is stale). The implementation under test, the operator guide's
 * settings table and the installer's ini file are checked against it: defaults, which settings
 * are secret, and each numeric bound as enforced (a value on it and one just past it).
 */
final class SettingsTableTest extends ClosteTestCase
{
    /** @return list<array{name: string, default: string, secret: bool, accepts: string, meaning: string, bounds?: array}> */
    private static function table(): array
    {
        $table = json_decode((string) file_get_contents(dirname(__DIR__, 2) . '/docs/settings.json'), true, 512, JSON_THROW_ON_ERROR);
        self::assertIsArray($table);
        self::assertCount(15, $table);
        return $table;
    }

    /** @return array<string, string> */
    private static function tableDefaults(): array
    {
        $defaults = array_column(self::table(), 'default', 'name');
        ksort($defaults);
        return $defaults;
    }

    public function testTheImplementationHasTheTablesSettingsAndDefaults(): void
    {
        $result = PhpProcess::run('$d = extension_loaded("closte") ? ini_get_all("closte", false) : Closte\Compat\Settings::DEFAULTS; ksort($d); echo json_encode($d);');
        $this->assertSame(self::tableDefaults(), json_decode($result['stdout'], true), $result['stderr']);
    }

    public function testTheSecretSettingsAreTheTablesAndTheirValuesAreNeverShown(): void
    {
        $secret = array_values(array_map(
            static fn (array $row): string => $row['name'],
            array_filter(self::table(), static fn (array $row): bool => $row['secret'])
        ));
        $this->assertSame(['closte.api_key', 'closte.proxy'], $secret);
        if (CLOSTE_TEST_IMPL === 'php') {
            // The PHP implementation shows no setting's value (closte_stats() has the key's
            // source only); its list of secret settings is the table's.
            $this->assertSame($secret, \Closte\Compat\Settings::SECRET);
            return;
        }
        // phpinfo() masks every secret setting and shows the others: set each to a value
        // that is valid for it and look for that value in the output.
        $values = [];
        foreach (self::table() as $row) {
            $values[$row['name']] = match ($row['name']) {
                'closte.api_url' => 'https://shown.example/api/client',
                'closte.proxy' => 'http://user:proxy-secret@proxy.example:3128',
                default => ($row['bounds'] ?? null) !== null ? (string) $row['bounds']['max'] : 'value-of-' . $row['name'],
            };
        }
        $result = PhpProcess::run('phpinfo(INFO_MODULES);', $values);
        foreach ($values as $name => $value) {
            $line = preg_match('/^' . preg_quote($name, '/') . ' => (.*)$/m', $result['stdout'], $m) ? $m[1] : '';
            if (in_array($name, $secret, true)) {
                $this->assertSame('******** (set) => ******** (set)', $line, "$name is masked");
            } else {
                $this->assertSame("$value => $value", $line, "$name is shown");
            }
        }
        $this->assertStringNotContainsString('proxy-secret', $result['stdout']);
        $this->assertStringNotContainsString('value-of-closte.api_key', $result['stdout']);
    }

    /**
     * Every bound of the table, as the implementation under test enforces it: the value on the
     * bound and the one just past it (0.001 for seconds, 1 for whole numbers) give the answer the
     * table says: accepted (the call goes to the simulator) or a ConfigurationException naming
     * the setting and saying what it accepts in the table's words.
     */
    public function testEveryBoundOfTheTableIsEnforced(): void
    {
        $checked = 0;
        foreach (self::table() as $row) {
            $bounds = $row['bounds'] ?? null;
            if ($bounds === null) {
                continue;
            }
            $name = $row['name'];
            $whole = $bounds['kind'] === 'whole';
            $step = $whole ? 1 : 0.001;
            $minExcluded = $bounds['min_excluded'] ?? false;
            $cases = [
                [$bounds['max'], true],
                [$bounds['max'] + $step, false],
                [$bounds['min'], !$minExcluded],
                [$minExcluded ? $bounds['min'] + $step : $bounds['min'] - $step, $minExcluded],
            ];
            foreach ($cases as [$value, $accepted]) {
                $text = (string) $value;
                $refusal = "$name must be a " . ($whole ? '' : 'number of ') . $row['accepts'] . ", got \"$text\"";
                $this->assertSame($accepted ? 'accepted' : $refusal, $this->answer($name, $text), "$name=$text");
            }
            $checked++;
        }
        $this->assertSame(7, $checked, 'every numeric setting');
    }

    /** "accepted" when a call runs with $name=$value, else the ConfigurationException's message. */
    private function answer(string $name, string $value): string
    {
        closte_test_ini($name, $value);
        try {
            closte_add_domain('bounds.example.com');
            return 'accepted';
        } catch (\Closte\ConfigurationException $e) {
            return $e->getMessage();
        } finally {
            closte_test_ini_restore_all();
            closte_test_ini('closte.api_url', $this->sim->apiUrl());
            closte_test_ini('closte.api_key', CLOSTE_TEST_KEY);
        }
    }

    public function testTheOperatorGuidesTableIsTheTable(): void
    {
        $guide = (string) file_get_contents(dirname(__DIR__, 2) . '/docs/operator-guide.md');
        preg_match_all('/^\| `(closte\.[a-z_]+)` \| (.*?) \| (.*?) \| (yes|no) \| (.+) \|$/m', $guide, $rows, PREG_SET_ORDER);
        $documented = [];
        foreach ($rows as [, $name, $default, $accepts, $secret]) {
            // "(empty)" or "`value`"; the user agent's empty default is documented as what it means.
            $default = preg_match('/^`([^`]*)`$/', $default, $m) ? $m[1] : ($default === '(empty)' ? '' : "unparsed: $default");
            $documented[] = [$name, $default === 'closte-php/<version>' ? '' : $default, $accepts, $secret === 'yes'];
        }
        $expected = array_map(static fn (array $row): array => [$row['name'], $row['default'], $row['accepts'], $row['secret']], self::table());
        $this->assertSame($expected, $documented, 'docs/operator-guide.md, "Configuration": one row per setting, in the table\'s order: name, default, accepts, secret');
    }

    /**
     * The installer installs the extension, so this runs in the extension's suite only.
     *
     * @group native-only
     */
    #[Group('native-only')]
    public function testTheInstallersIniFileListsTheTablesSettingsWithTheirDefaultsAndDocs(): void
    {
        $root = dirname(__DIR__, 2);
        $process = proc_open([$root . '/scripts/install-extension.sh', 'ini', '--so', CLOSTE_TEST_SO], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $root, ['PHP' => PHP_BINARY, 'PATH' => (string) getenv('PATH'), 'HOME' => (string) getenv('HOME')]);
        $this->assertIsResource($process);
        $ini = stream_get_contents($pipes[1]);
        $errors = stream_get_contents($pipes[2]);
        $this->assertSame(0, proc_close($process), $errors);
        $this->assertStringStartsWith("; priority=20\n", $ini);
        $this->assertStringContainsString("\nextension=closte.so\n", $ini);
        preg_match_all('/^; (.*); accepts: (.*)\n;(closte\.[a-z_]+) = (.*)$/m', $ini, $lines, PREG_SET_ORDER);
        $listed = [];
        foreach ($lines as [, $meaning, $accepts, $name, $default]) {
            $listed[$name] = [$default, $meaning, $accepts];
        }
        ksort($listed);
        $expected = [];
        foreach (self::table() as $row) {
            $expected[$row['name']] = [$row['default'], $row['meaning'], $row['accepts']];
        }
        ksort($expected);
        $this->assertSame($expected, $listed);
    }
}
