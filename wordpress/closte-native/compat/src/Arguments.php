<?php
/**
 * The extension's argument rules for the closte_* functions of the PHP implementation: each
 * argument of its declared type with no coercion (ext-php-rs converts nothing: `"12"` for an
 * int, `1.5` for an int, `12` for a string are a TypeError), and never more arguments than
 * parameters (ArgumentCountError), whatever the caller's strict_types.
 *
 * A user function's typed parameter would coerce in a caller without strict_types before its
 * body runs, and extra arguments are silently allowed: so functions.php leaves its parameters
 * untyped, names each one's type with #[Accepts], and checks the arguments it was given. The
 * stub check (tests/stubs/check.php) reads #[Accepts] as the parameter's type.
 *
 * @package Closte_Native
 */

declare(strict_types=1);

namespace Closte\Compat;

/** The type a closte_* parameter takes, checked by Arguments::check(). */
#[\Attribute(\Attribute::TARGET_PARAMETER)]
final class Accepts
{
    public function __construct(public readonly string $type)
    {
    }
}

final class Arguments
{
    /** @var array<string, array{names: list<string>, types: list<string>, required: int}> */
    private static array $signatures = [];

    /**
     * @param list<mixed> $arguments func_get_args() of $function
     * @throws \ArgumentCountError|\TypeError worded as PHP words them
     */
    public static function check(string $function, array $arguments): void
    {
        $signature = self::$signatures[$function] ??= self::signature($function);
        $given = count($arguments);
        $max = count($signature['types']);
        if ($given > $max) {
            throw new \ArgumentCountError(sprintf(
                '%s() expects %s %d argument%s, %d given',
                $function,
                $signature['required'] === $max ? 'exactly' : 'at most',
                $max,
                $max === 1 ? '' : 's',
                $given
            ));
        }
        foreach ($arguments as $index => $value) {
            $type = $signature['types'][$index];
            if (!self::matches($type, $value)) {
                throw new \TypeError(sprintf(
                    '%s(): Argument #%d ($%s) must be of type %s, %s given',
                    $function,
                    $index + 1,
                    $signature['names'][$index],
                    $type,
                    get_debug_type($value)
                ));
            }
        }
    }

    private static function matches(string $type, mixed $value): bool
    {
        return match ($type) {
            'string' => is_string($value),
            'int' => is_int($value),
            'bool' => is_bool($value),
            // An int widens to float, as in strict mode and in the extension.
            'float' => is_float($value) || is_int($value),
            'array' => is_array($value),
            '?array' => $value === null || is_array($value),
        };
    }

    /** @return array{names: list<string>, types: list<string>, required: int} */
    private static function signature(string $function): array
    {
        $reflection = new \ReflectionFunction($function);
        $names = $types = [];
        foreach ($reflection->getParameters() as $parameter) {
            $accepts = $parameter->getAttributes(Accepts::class)[0] ?? null;
            if ($accepts === null) {
                throw new \LogicException("$function(): parameter \${$parameter->getName()} has no #[Accepts]");
            }
            $names[] = $parameter->getName();
            $types[] = $accepts->newInstance()->type;
        }
        return ['names' => $names, 'types' => $types, 'required' => $reflection->getNumberOfRequiredParameters()];
    }
}
