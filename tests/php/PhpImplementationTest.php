<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;

/**
 * What is particular to the pure-PHP implementation: how it loads beside the extension, how it
 * reads settings without INI entries, and names without intl. Each test runs its own process
 * with exactly the extensions it names, so it runs (and means the same) in both suite runs.
 */
final class PhpImplementationTest extends ClosteTestCase
{
    private const COMPAT = __DIR__ . '/../../wordpress/closte-native/compat/bootstrap.php';

    /**
     * $code after requiring the PHP implementation, in `php -n` with exactly $extensions.
     *
     * @return array{exit: int, stdout: string, stderr: string}
     */
    private static function runPure(string $code, array $extensions = ['curl', 'intl'], array $ini = []): array
    {
        $cmd = [PHP_BINARY, '-n'];
        foreach ($extensions as $extension) {
            $cmd[] = '-d';
            $cmd[] = "extension=$extension";
        }
        return PhpProcess::exec($cmd, 'require ' . var_export(realpath(self::COMPAT), true) . ";\n" . $code, $ini);
    }

    public function testWithTheExtensionLoadedTheBootstrapDefinesNothing(): void
    {
        $result = PhpProcess::run(
            'require ' . var_export(realpath(self::COMPAT), true) . ';'
            . 'echo json_encode([(new ReflectionFunction("closte_add_domain"))->isInternal(), class_exists("Closte\\\\Compat\\\\Client", false), closte_stats()["implementation"]]);',
            [],
            true,
            60,
            CLOSTE_TEST_SO
        );
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertSame('[true,false,"extension"]', $result['stdout']);
    }

    public function testWithoutTheExtensionItAnswersAndSaysSo(): void
    {
        $url = $this->sim->apiUrl();
        $result = self::runPure(
            'echo json_encode([closte_version(), closte_stats()["implementation"], closte_add_domain("pure.example.com", 7)["state"]]);',
            ['curl'],
            ['closte.api_url' => $url, 'closte.api_key' => CLOSTE_TEST_KEY]
        );
        $this->assertSame(0, $result['exit'], $result['stderr']);
        [$version, $implementation, $state] = json_decode($result['stdout'], true);
        $this->assertStringEndsWith('+php', $version);
        $this->assertSame('php', $implementation);
        $this->assertSame('added', $state, 'php.ini / -d values are read without INI entries (get_cfg_var)');
        $this->assertContains('pure.example.com', $this->sim->domains());
    }

    public function testWithoutCurlTheBootstrapDefinesNothingRatherThanFailingLater(): void
    {
        $result = self::runPure('echo json_encode(function_exists("closte_add_domain"));', []);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertSame('false', $result['stdout']);
    }

    public function testSettingsSetIsTheIniSetOfThePhpImplementation(): void
    {
        $result = self::runPure(<<<'PHP'
            use Closte\Compat\Settings;
            $out = [];
            $out[] = Settings::set('closte.timeout', '7');      // old value: php.ini's
            $out[] = Settings::raw('closte.timeout');
            $out[] = Settings::set('closte.no_such', '1');      // like ini_set: false
            Settings::restore('closte.timeout');
            $out[] = Settings::raw('closte.timeout');
            Settings::set('closte.timeout', '0');
            try { closte_list_domains(); $out[] = 'accepted'; } catch (Closte\ConfigurationException $e) { $out[] = $e->getCode() . ' ' . $e->getMessage(); }
            echo json_encode($out);
            PHP, ['curl'], ['closte.timeout' => '9', 'closte.api_key' => 'k']);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertSame(['9', '7', false, '9', '2 closte.timeout must be a number of seconds above 0 and at most 300, got "0"'], json_decode($result['stdout'], true));
    }

    public function testWithoutIntlAUnicodeNameIsAClearErrorAndPunycodeIsStillJudged(): void
    {
        $result = self::runPure(<<<'PHP'
            $out = [];
            foreach (['Bücher.example.com', 'xn--bcher-kva.example.com', 'xn--80ak6aa92e.com', 'xn--pple-43d.com', 'xn--a0aa.aa'] as $name) {
                try { $out[] = closte_normalize_domain($name); } catch (Closte\InvalidDomainException $e) { $out[] = $e->getMessage(); }
            }
            echo json_encode($out, JSON_UNESCAPED_UNICODE);
            PHP, ['curl']);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        [$unicode, $punycode, $cyrillic, $mixed, $broken] = json_decode($result['stdout'], true);
        $this->assertStringContainsString('intl', $unicode, 'the message says what to enable');
        $this->assertStringContainsString('punycode', $unicode, 'and what to give instead');
        $this->assertSame('xn--bcher-kva.example.com', $punycode);
        $this->assertSame('xn--80ak6aa92e.com', $cyrillic, 'one script is no look-alike');
        $this->assertStringContainsString('mixes Cyrillic and Latin letters', $mixed);
        $this->assertStringContainsString('not a valid internationalised name', $broken);
    }

    public function testWithIntlUnicodeNamesAreConvertedLikeTheExtensionDoes(): void
    {
        $names = ['Bücher.Example.com.', 'ÉCOLE.example.fr', '*.münchen.de', 'пример.рф', 'xn--pple-43d.com', 'bücher。example。com'];
        $code = 'echo json_encode(array_map(static function ($n) { try { return closte_normalize_domain($n); } catch (Closte\InvalidDomainException $e) { return "refused"; } }, ' . var_export($names, true) . '));';
        $pure = self::runPure($code);
        $native = PhpProcess::run($code, [], true, 60, CLOSTE_TEST_SO);
        $this->assertSame(0, $pure['exit'], $pure['stderr']);
        $this->assertSame(
            ['xn--bcher-kva.example.com', 'xn--cole-9oa.example.fr', '*.xn--mnchen-3ya.de', 'xn--e1afmkfd.xn--p1ai', 'refused', 'xn--bcher-kva.example.com'],
            json_decode($pure['stdout'], true)
        );
        $this->assertSame($native['stdout'], $pure['stdout'], 'the same answers as the extension');
    }

    /**
     * Differential: every hostile input of HostileInputTest, the bad names of ExceptionsTest and
     * a set of good ones get exactly the same answer (normal form, or exception class, code and
     * message) from both implementations.
     */
    public function testEveryNameGetsTheSameAnswerFromBothImplementations(): void
    {
        require_once __DIR__ . '/HostileInputTest.php';
        require_once __DIR__ . '/ExceptionsTest.php';
        $names = array_merge(
            HostileInputTest::corpus(),
            array_column(ExceptionsTest::badDomains(), 0),
            ['example.com', 'Example.COM.', '*.Shop.Example.com', 'a.b.c.d.example.co.uk', 'my-site.example.org', 'xn--bcher-kva.example',
             '1.2.3.4.example.com', 'example.123', '*.com', '*', 'ex*ample.com', 'example.com:0', '[::1]', '::1', '1.2.3.4:80',
             'http://x', 'a@b.c', str_repeat('a.', 126) . 'com', 'Ｅxample.com', 'bad_label.example.com', '-x.example.com', 'x-.example.com']
        );
        $file = tempnam(sys_get_temp_dir(), 'closte-names-');
        file_put_contents($file, serialize($names));
        $code = '$out = []; foreach (unserialize(file_get_contents(' . var_export($file, true) . ')) as $n) {'
            . ' try { $out[] = closte_normalize_domain($n); } catch (Throwable $e) { $out[] = get_class($e) . " " . $e->getCode() . " " . $e->getMessage(); } }'
            . ' echo json_encode($out, JSON_INVALID_UTF8_SUBSTITUTE);';
        try {
            $pure = self::runPure($code);
            $native = PhpProcess::run($code, [], true, 60, CLOSTE_TEST_SO);
        } finally {
            unlink($file);
        }
        $this->assertSame(0, $pure['exit'], $pure['stderr']);
        $this->assertSame(0, $native['exit'], $native['stderr']);
        $pureAnswers = json_decode($pure['stdout'], true);
        $nativeAnswers = json_decode($native['stdout'], true);
        $this->assertCount(count($names), $nativeAnswers);
        foreach ($names as $i => $name) {
            $this->assertSame($nativeAnswers[$i], $pureAnswers[$i], 'input ' . json_encode($name, JSON_INVALID_UTF8_SUBSTITUTE));
        }
    }

    /**
     * DomainName::parse() answers a name already in normal form with one regular expression
     * (alreadyNormal()) before the full checks (parseText()). Over 200,000 generated inputs,
     * weighted to the edges (label lengths 0/1/62/63/64, "xn--" labels, "*." prefixes, digit
     * top-level labels, names of 252 to 255 characters, upper case, "_", doubled and trailing
     * dots), every input the shortcut accepts gets the same name and wildcard flag from the full
     * checks; and the shortcut takes a good share of them, so this comparison means something.
     */
    public function testTheShortcutForNamesAlreadyInNormalFormAgreesWithTheFullChecks(): void
    {
        $result = self::runPure(<<<'PHP'
            $fast = new ReflectionMethod(Closte\Compat\DomainName::class, 'alreadyNormal');
            $slow = new ReflectionMethod(Closte\Compat\DomainName::class, 'parseText');
            mt_srand(20261204);
            $chars = 'abz09-';
            $label = static function () use ($chars): string {
                $len = [0, 1, 1, 2, 3, 5, 62, 63, 63, 64][mt_rand(0, 9)];
                $out = mt_rand(0, 9) === 0 ? 'xn--' : '';
                while (strlen($out) < $len) {
                    $out .= $chars[mt_rand(0, strlen($chars) - 1)];
                }
                $out = substr($out, 0, max($len, 0));
                return match (mt_rand(0, 40)) { 0 => strtoupper($out), 1 => $out . '_', 2 => '*' . $out, default => $out };
            };
            $accepted = 0;
            $disagree = [];
            for ($i = 0; $i < 200000; $i++) {
                $labels = [];
                for ($n = mt_rand(1, 5); $n > 0; $n--) {
                    $labels[] = $label();
                }
                if (mt_rand(0, 4) === 0) {
                    $labels[] = (string) mt_rand(0, 999); // an all-digit top-level label
                } elseif (mt_rand(0, 1) === 0) {
                    $labels[] = ['com', 'io', 'a', 'x-y', 'c0m', '1a'][mt_rand(0, 5)];
                }
                $input = implode(mt_rand(0, 60) === 0 ? '..' : '.', $labels);
                $input = (mt_rand(0, 5) === 0 ? '*.' : '') . $input . (mt_rand(0, 20) === 0 ? '.' : '');
                $name = $fast->invoke(null, $input);
                if ($name === null) {
                    continue;
                }
                $accepted++;
                try {
                    $full = $slow->invoke(null, $input);
                    $same = $full->name === $name->name && $full->wildcard === $name->wildcard;
                } catch (Throwable $e) {
                    $same = false;
                }
                if (!$same) {
                    $disagree[] = $input;
                }
            }
            echo json_encode(['accepted' => $accepted, 'disagree' => array_slice($disagree, 0, 5)]);
            PHP);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $answer = json_decode($result['stdout'], true);
        $this->assertSame([], $answer['disagree'], 'inputs the shortcut accepts and the full checks judge otherwise');
        $this->assertGreaterThan(20000, $answer['accepted'], 'the shortcut took part of the inputs');
    }
}
