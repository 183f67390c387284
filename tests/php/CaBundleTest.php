<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;
use Closte\Tests\Support\PhpProcess;
use Closte\Tests\Support\Simulator;

/**
 * closte.ca_file over real HTTPS (a simulator serving a certificate of a test CA), and where the
 * PHP implementation keeps the joined CA bundle: in memory, never at a predictable path of the
 * shared temp directory, where another local user could plant a CA of their own first.
 */
final class CaBundleTest extends ClosteTestCase
{
    private static string $dir;
    private static Simulator $https;

    public static function setUpBeforeClass(): void
    {
        self::$dir = sys_get_temp_dir() . '/closte-ca-test-' . getmypid();
        @mkdir(self::$dir, 0700, true);
        $d = self::$dir;
        file_put_contents("$d/san.ext", "subjectAltName=IP:127.0.0.1\n");
        foreach ([
            "req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=closte test CA' -keyout $d/ca.key -out $d/ca.pem",
            "req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=someone else CA' -keyout $d/other.key -out $d/other.pem",
            "req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout $d/key.pem -out $d/cert.csr",
            "x509 -req -in $d/cert.csr -CA $d/ca.pem -CAkey $d/ca.key -CAcreateserial -days 1 -extfile $d/san.ext -out $d/cert.pem",
        ] as $args) {
            exec("openssl $args 2>&1", $output, $status);
            self::assertSame(0, $status, implode("\n", $output));
        }
        self::$https = Simulator::start(CLOSTE_TEST_SIM, CLOSTE_TEST_KEY, ['--tls-cert', "$d/cert.pem", '--tls-key', "$d/key.pem"]);
    }

    public static function tearDownAfterClass(): void
    {
        self::$https->stop();
        exec('rm -rf ' . escapeshellarg(self::$dir));
    }

    /** A temp directory of its own for one process, so that whatever it writes there shows. */
    private function freshTempDir(): string
    {
        $temp = self::$dir . '/tmp-' . bin2hex(random_bytes(4));
        mkdir($temp, 0700);
        return $temp;
    }

    /** @return array<string, string> the -d settings of a call to the HTTPS simulator */
    private function httpsSettings(string $temp): array
    {
        return [
            'closte.api_url' => 'https://127.0.0.1:' . self::$https->port() . '/api/client',
            'closte.api_key' => CLOSTE_TEST_KEY,
            'closte.ca_file' => self::$dir . '/ca.pem',
            'closte.max_retries' => '0',
            'sys_temp_dir' => $temp,
        ];
    }

    public function testHttpsThroughTheCaFileWorksAndWritesNothingToTheTempDirectory(): void
    {
        $temp = $this->freshTempDir();
        $result = PhpProcess::run('echo json_encode(closte_add_domain("tls.example.com", 1));', $this->httpsSettings($temp));
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $answer = json_decode($result['stdout'], true);
        $this->assertTrue($answer['ok'], $result['stdout']);
        $this->assertSame('added', $answer['state']);
        $this->assertSame(['.', '..'], scandir($temp), 'the bundle stays in memory');

        $untrusted = PhpProcess::run('echo json_encode(closte_add_domain("tls.example.com", 1));', ['closte.ca_file' => self::$dir . '/other.pem'] + $this->httpsSettings($temp));
        $this->assertSame('tls', json_decode($untrusted['stdout'], true)['error_kind'] ?? null, $untrusted['stdout'] . $untrusted['stderr']);
    }

    public function testABundlePlantedAtThePredictablePathIsNeitherTrustedNorFollowed(): void
    {
        $temp = $this->freshTempDir();
        // Where the PHP implementation used to join the bundle: a name anyone could compute.
        $system = '';
        foreach ([openssl_get_cert_locations()['default_cert_file'] ?? '', '/etc/ssl/certs/ca-certificates.crt'] as $candidate) {
            if ($candidate !== '' && is_readable($candidate)) {
                $system = (string) file_get_contents($candidate);
                break;
            }
        }
        $predictable = $temp . '/closte-ca-' . hash('sha256', $system . "\n" . file_get_contents(self::$dir . '/ca.pem')) . '.pem';
        // Someone else's CA behind a symlink: trusting it would fail the handshake with ours.
        symlink(self::$dir . '/other.pem', $predictable);
        $before = (string) file_get_contents(self::$dir . '/other.pem');

        $result = PhpProcess::run('echo json_encode(closte_add_domain("planted.example.com", 1));', $this->httpsSettings($temp));
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $this->assertTrue(json_decode($result['stdout'], true)['ok'] ?? null, 'the planted bundle was not used: ' . $result['stdout']);
        $this->assertSame($before, file_get_contents(self::$dir . '/other.pem'), 'the symlink target is untouched');
        $this->assertSame(['.', '..', basename($predictable)], scandir($temp), 'nothing else written');
        $this->assertTrue(is_link($predictable));
    }

    /**
     * The fallback for a libcurl that cannot take the bundle in memory: a private file. Run in
     * the PHP implementation (curl, no extension) in both suite runs.
     */
    public function testWithoutInMemoryBundlesThePrivateFileIsUnguessableAndOwnerOnly(): void
    {
        $temp = $this->freshTempDir();
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=curl', '-d', "sys_temp_dir=$temp"];
        $code = 'require ' . var_export(realpath(CLOSTE_TEST_COMPAT), true) . ";\n" . <<<'PHP'
            use Closte\Compat\CaBundle;
            $a = CaBundle::privateFile("bundle A\n");
            $b = CaBundle::privateFile("bundle B\n");
            clearstatcache();
            echo json_encode([
                'a' => $a, 'b' => $b,
                'content' => file_get_contents($a),
                'file_mode' => sprintf('%o', fileperms($a) & 0777),
                'dir_mode' => sprintf('%o', fileperms(dirname($a)) & 0777),
                'blob' => CaBundle::blobSupported(),
            ]);
            PHP;
        $result = PhpProcess::exec($cmd, $code);
        $this->assertSame(0, $result['exit'], $result['stderr']);
        $out = json_decode($result['stdout'], true);
        $this->assertSame("bundle A\n", $out['content']);
        $this->assertSame('600', $out['file_mode']);
        $this->assertSame('700', $out['dir_mode']);
        $this->assertStringStartsWith("$temp/closte-ca-", $out['a']);
        $this->assertNotSame(dirname($out['a']), dirname($out['b']), 'a random directory each time');
        $this->assertMatchesRegularExpression('#/closte-ca-[0-9a-f]{32}/ca-bundle\.pem$#', $out['a']);
        $this->assertSame(['.', '..'], scandir($temp), 'both removed when the process ends');
        $this->assertTrue($out['blob'], 'this machine\'s libcurl takes bundles in memory (the HTTPS tests use that path)');
    }
}
