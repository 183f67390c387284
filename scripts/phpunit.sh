#!/usr/bin/env bash
# Runs the PHPUnit suite (tests/php) in `php -n` against one implementation; the one definition
# of that command line, used by `make phpunit`, `make phpunit-php` and the version matrix
# (scripts/php-version.sh), whatever the PHP and PHPUnit version.
#
# Usage: scripts/phpunit.sh extension|php [PHPUnit arguments...]
#   extension  loads CLOSTE_SO (the release .so under test)
#   php        loads no closte extension: the plugin's PHP implementation, with curl and intl;
#              the group native-only is left out (docs/testing.md)
# Environment: PHP (default php), PHPUNIT (default /usr/bin/phpunit), CLOSTE_SO, CLOSTE_SIM,
# CLOSTE_TEST_HOOKS_SO (the debug .so with the test-hooks feature, for the panic tests).
set -euo pipefail
cd "$(dirname "$0")/.."
impl=${1:?"usage: scripts/phpunit.sh extension|php [phpunit args]"}
shift
PHP=${PHP:-php}
PHPUNIT=${PHPUNIT:-/usr/bin/phpunit}

# `php -n` keeps the machine's php.ini out of the run, so the shared extensions PHPUnit needs are
# loaded by hand: each one the binary does not already have built in (ctype is built in on some
# builds and shared on others; loading a built-in one again is a warning).
builtin=$("$PHP" -n -m)
ini=()
for module in xml dom xmlwriter mbstring tokenizer ctype; do
  grep -qix "$module" <<<"$builtin" || ini+=(-d "extension=$module")
done
ini+=(-d error_reporting=-1 -d display_errors=1 -d memory_limit=512M)

case $impl in
  extension)
    ini+=(-d "extension=${CLOSTE_SO:?CLOSTE_SO names the .so under test}")
    ;;
  php)
    for module in curl intl; do
      grep -qix "$module" <<<"$builtin" || ini+=(-d "extension=$module")
    done
    set -- --exclude-group native-only "$@"
    ;;
  *) echo "scripts/phpunit.sh: unknown implementation '$impl' (extension or php)" >&2; exit 2 ;;
esac

# No result cache (the repository stays clean; inside the version matrix it is mounted
# read-only, where PHPUnit 11 warned that it could not write tests/php/.phpunit.result.cache):
# every PHPUnit since 8 writes one unless told not to. PHPUnit 13.3 renamed the option and
# deprecates the old name.
version=$("$PHP" -n "${ini[@]}" "$PHPUNIT" --version) # "PHPUnit 9.6.7 by Sebastian Bergmann ..."
version=${version#PHPUnit }
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" -gt 13 ] || { [ "$major" -eq 13 ] && [ "$minor" -ge 3 ]; }; then
  set -- --do-not-record-test-run-history "$@"
else
  set -- --do-not-cache-result "$@"
fi

export CLOSTE_IMPL=$impl
exec "$PHP" -n "${ini[@]}" "$PHPUNIT" -c tests/php/phpunit.xml "$@"
