<?php
/**
 * Stub drift check: php-stubs/closte.php must describe exactly what the loaded extension
 * exports (functions, parameters, types, defaults, return types, classes and their parents),
 * and the pure-PHP implementation must export exactly the same.
 *
 * Usage: php -n tests/stubs/check.php path/to/libcloste.so
 * Runs three child processes: one loads only the stubs, one only the extension, one only the
 * PHP implementation (with curl); each prints its signature table as JSON, and all must be equal.
 */

declare(strict_types=1);

const STUBS = __DIR__ . '/../../php-stubs/closte.php';

function describe_type(?ReflectionType $type): ?string
{
    return $type === null ? null : (string) $type;
}

function describe_function(ReflectionFunctionAbstract $f): array
{
    $params = [];
    foreach ($f->getParameters() as $p) {
        $params[] = [
            'name' => $p->getName(),
            // The PHP implementation's parameters are untyped (it checks its arguments itself,
            // without coercion, as the extension does) and name their type with #[Accepts].
            'type' => describe_type($p->getType())
                ?? (($p->getAttributes('Closte\\Compat\\Accepts')[0] ?? null)?->getArguments()[0] ?? null),
            'optional' => $p->isOptional(),
            'default' => $p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : null,
            'by_ref' => $p->isPassedByReference(),
            'variadic' => $p->isVariadic(),
        ];
    }
    return ['params' => $params, 'return' => describe_type($f->getReturnType())];
}

function describe_class(ReflectionClass $c): array
{
    $parent = $c->getParentClass();
    return [
        'parent' => $parent ? $parent->getName() : null,
        'abstract' => $c->isAbstract(),
        'final' => $c->isFinal(),
        'interface' => $c->isInterface(),
    ];
}

function table(array $functions, array $classes): array
{
    $out = ['functions' => [], 'classes' => []];
    foreach ($functions as $name) {
        $out['functions'][strtolower($name)] = describe_function(new ReflectionFunction($name));
    }
    foreach ($classes as $name) {
        $out['classes'][$name] = describe_class(new ReflectionClass($name));
    }
    ksort($out['functions']);
    ksort($out['classes']);
    return $out;
}

$mode = $argv[1] ?? '';
if ($mode === '--stubs') {
    if (extension_loaded('closte')) {
        fwrite(STDERR, "the stub side must run without the extension\n");
        exit(2);
    }
    $before = get_declared_classes();
    $beforeFunctions = get_defined_functions()['user'];
    require STUBS;
    $functions = array_values(array_diff(get_defined_functions()['user'], $beforeFunctions));
    $classes = array_values(array_diff(get_declared_classes(), $before));
    echo json_encode(table($functions, $classes), JSON_PRETTY_PRINT), "\n";
    exit(0);
}
if ($mode === '--php') {
    $before = get_declared_classes();
    $beforeFunctions = get_defined_functions()['user'];
    require __DIR__ . '/../../wordpress/closte-native/compat/bootstrap.php';
    $functions = array_values(array_diff(get_defined_functions()['user'], $beforeFunctions));
    // The public classes only: Closte\Compat\* is the implementation's inside.
    $classes = array_values(array_filter(
        array_diff(get_declared_classes(), $before),
        static fn (string $class): bool => !str_starts_with($class, 'Closte\\Compat\\')
    ));
    echo json_encode(table($functions, $classes), JSON_PRETTY_PRINT), "\n";
    exit(0);
}
if ($mode === '--extension') {
    $ext = new ReflectionExtension('closte');
    echo json_encode(table(array_keys($ext->getFunctions()), $ext->getClassNames()), JSON_PRETTY_PRINT), "\n";
    exit(0);
}

$so = $mode;
if ($so === '' || !is_file($so)) {
    fwrite(STDERR, "usage: php -n tests/stubs/check.php path/to/libcloste.so\n");
    exit(2);
}
$php = escapeshellarg(PHP_BINARY);
$self = escapeshellarg(__FILE__);
$stubSide = shell_exec("$php -n $self --stubs");
$extSide = shell_exec("$php -n -d extension=" . escapeshellarg(realpath($so)) . " $self --extension");
$curl = is_file(ini_get('extension_dir') . '/curl.so') ? '-d extension=curl' : '';
$phpSide = shell_exec("$php -n $curl $self --php");
$stubTable = json_decode((string) $stubSide, true);
$extTable = json_decode((string) $extSide, true);
if (!is_array($stubTable) || !is_array($extTable)) {
    fwrite(STDERR, "could not read one side:\n--- stubs\n$stubSide\n--- extension\n$extSide\n");
    exit(1);
}
if (count($extTable['functions']) === 0) {
    fwrite(STDERR, "the extension exports no function: wrong .so?\n");
    exit(1);
}
$phpTable = json_decode((string) $phpSide, true);
if ($stubTable === $extTable && $phpTable === $extTable) {
    printf("stubs match the extension and the PHP implementation: %d functions, %d classes\n", count($extTable['functions']), count($extTable['classes']));
    exit(0);
}
if ($stubTable === $extTable) {
    $tmp = sys_get_temp_dir();
    file_put_contents("$tmp/closte-ext.json", $extSide);
    file_put_contents("$tmp/closte-php.json", (string) $phpSide);
    fwrite(STDERR, "the PHP implementation's API differs from the extension's:\n");
    passthru("diff -u $tmp/closte-ext.json $tmp/closte-php.json >&2");
    exit(1);
}
$tmp = sys_get_temp_dir();
file_put_contents("$tmp/closte-stubs.json", $stubSide);
file_put_contents("$tmp/closte-ext.json", $extSide);
fwrite(STDERR, "php-stubs/closte.php has drifted from the extension:\n");
passthru("diff -u $tmp/closte-stubs.json $tmp/closte-ext.json >&2");
exit(1);
