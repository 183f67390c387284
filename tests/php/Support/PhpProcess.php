<?php

declare(strict_types=1);

namespace Closte\Tests\Support;

/**
 * Runs PHP code in a fresh `php -n` process with the implementation under test loaded (the
 * extension, or under CLOSTE_IMPL=php the PHP implementation, with curl and intl): for what
 * must not leak into the test process (constants, threads, forks, phpinfo output).
 * `closte_test_ini()` is available in the code.
 */
final class PhpProcess
{
    /**
     * @param array<string, string> $ini extra -d settings
     * @return array{exit: int, stdout: string, stderr: string}
     */
    public static function run(string $code, array $ini = [], bool $loadExtension = true, int $timeout = 60, ?string $so = null): array
    {
        return self::exec(self::command($loadExtension, $so), $code, $ini, $timeout, self::environment($loadExtension, $so));
    }

    /**
     * Runs $code with the php command line $cmd (plus the -d settings $ini), killed after
     * $timeout seconds.
     *
     * @param list<string> $cmd
     * @param array<string, string> $ini
     * @param array<string, string>|null $env
     * @return array{exit: int, stdout: string, stderr: string}
     */
    public static function exec(array $cmd, string $code, array $ini = [], int $timeout = 60, ?array $env = null): array
    {
        // PHP runs a script by any name; the .php suffix only helps a reader of a stack trace.
        // tempnam() made (and reserved) $reserved itself: both go at the end.
        $reserved = tempnam(sys_get_temp_dir(), 'closte-php-');
        $script = $reserved . '.php';
        file_put_contents($script, "<?php\n" . $code);
        foreach ($ini as $name => $value) {
            $cmd[] = '-d';
            $cmd[] = "$name=$value";
        }
        $cmd[] = $script;
        $process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env);
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
        unlink($reserved);
        return ['exit' => $status['running'] ? -1 : $status['exitcode'], 'stdout' => $stdout, 'stderr' => $stderr];
    }

    /**
     * `php -n` with the implementation under test: the .so ($so, or the one under test), or
     * under CLOSTE_IMPL=php the shared extensions the PHP implementation uses (curl; intl for
     * IDN). The prelude defines closte_test_ini() either way.
     *
     * @return list<string>
     */
    public static function command(bool $loadExtension = true, ?string $so = null): array
    {
        $cmd = [PHP_BINARY, '-n', '-d', 'auto_prepend_file=' . __DIR__ . '/prelude.php'];
        if (CLOSTE_TEST_IMPL === 'php' && $so === null) {
            foreach (['curl', 'intl'] as $needed) {
                if (extension_loaded($needed) && is_file(ini_get('extension_dir') . "/$needed.so")) {
                    $cmd[] = '-d';
                    $cmd[] = "extension=$needed";
                }
            }
        } elseif ($loadExtension) {
            $cmd[] = '-d';
            $cmd[] = 'extension=' . ($so ?? CLOSTE_TEST_SO);
        }
        return $cmd;
    }

    /** The environment for command(): tells the prelude whether to load the PHP implementation. */
    public static function environment(bool $loadExtension = true, ?string $so = null): array
    {
        $env = getenv();
        $env['CLOSTE_TEST_PRELUDE_COMPAT'] = CLOSTE_TEST_IMPL === 'php' && $so === null && $loadExtension ? '1' : '0';
        return $env;
    }
}
