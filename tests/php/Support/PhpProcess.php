<?php

declare(strict_types=1);

namespace Closte\Tests\Support;

/**
 * Runs PHP code in a fresh `php -n` process with the extension loaded: for what must not leak
 * into the test process (constants, threads, forks, phpinfo output).
 */
final class PhpProcess
{
    /**
     * @param array<string, string> $ini extra -d settings
     * @return array{exit: int, stdout: string, stderr: string}
     */
    public static function run(string $code, array $ini = [], bool $loadExtension = true, int $timeout = 60, ?string $so = null): array
    {
        $script = tempnam(sys_get_temp_dir(), 'closte-php-') . '.php';
        file_put_contents($script, "<?php\n" . $code);
        $cmd = [PHP_BINARY, '-n'];
        if ($loadExtension) {
            $cmd[] = '-d';
            $cmd[] = 'extension=' . ($so ?? CLOSTE_TEST_SO);
        }
        foreach ($ini as $name => $value) {
            $cmd[] = '-d';
            $cmd[] = "$name=$value";
        }
        $cmd[] = $script;
        $process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $stdout = $stderr = '';
        $deadline = microtime(true) + $timeout;
        while (true) {
            $stdout .= stream_get_contents($pipes[1]);
            $stderr .= stream_get_contents($pipes[2]);
            $status = proc_get_status($process);
            if (!$status['running']) {
                $stdout .= stream_get_contents($pipes[1]);
                $stderr .= stream_get_contents($pipes[2]);
                break;
            }
            if (microtime(true) > $deadline) {
                proc_terminate($process, 9);
                $stderr .= "\n[killed after {$timeout}s]";
                break;
            }
            usleep(10000);
        }
        proc_close($process);
        unlink($script);
        return ['exit' => $status['running'] ? -1 : $status['exitcode'], 'stdout' => $stdout, 'stderr' => $stderr];
    }
}
