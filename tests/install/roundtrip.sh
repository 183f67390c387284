#!/usr/bin/env bash
# `make install` / `make uninstall` for real, checked effect by effect: installs the given .so
# for PHP_VERSION through scripts/install-extension.sh, checks the extension dir, the
# mods-available ini (priority line, every setting with its default), the per-SAPI links and
# that PHP loads it, then uninstalls and checks that every trace is gone. Bad input first:
# it must be refused before anything is written.
#
# It changes the machine's PHP, so it runs only inside the version matrix's chroot
# (scripts/php-version.sh, which marks its root with /.closte-bootstrapped).
# Usage (in the chroot): PHP_VERSION=8.4 tests/install/roundtrip.sh /build/closte.so
set -euo pipefail
[ -e /.closte-bootstrapped ] || { echo "roundtrip: only inside the version matrix's chroot" >&2; exit 2; }
so=${1:?"usage: PHP_VERSION=X.Y tests/install/roundtrip.sh path/to/closte.so"}
version=${PHP_VERSION:?PHP_VERSION names the version to install for}
installer=$(dirname "$0")/../../scripts/install-extension.sh
php=php$version
ext_dir=$("$php" -n -r 'echo PHP_EXTENSION_DIR;')
ini=/etc/php/$version/mods-available/closte.ini
failures=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}
nothing_installed() { [ ! -e "$ext_dir/closte.so" ] && [ ! -e "$ini" ] && [ -z "$(find /etc/php/"$version" -name '*closte*')" ]; }
refused() { # refused EXPECTED_TEXT COMMAND...: fails with a message containing the text
  local expected=$1 output
  shift
  if output=$("$@" 2>&1); then return 1; fi
  grep -qF "$expected" <<<"$output" || { echo "    said: $output"; return 1; }
}

echo "roundtrip on PHP $version"
check "nothing of closte is installed before" nothing_installed
check "a malformed PHP_VERSION is refused" refused "must look like 8.4" env PHP_VERSION=8 "$installer" install --so "$so"
check "a PHP version that is not installed is refused" refused "PHP 9.9 is not installed" env PHP_VERSION=9.9 "$installer" install --so "$so"
check "a missing .so is refused" refused "no such file" env PHP_VERSION="$version" "$installer" install --so /nonexistent/closte.so
check "an unknown argument is refused" refused "unknown argument" env PHP_VERSION="$version" "$installer" install --bogus
check "nothing was written by the refusals" nothing_installed

PHP_VERSION=$version "$installer" install --so "$so"
check "closte.so is in the extension dir, byte for byte" cmp -s "$so" "$ext_dir/closte.so"
check "the ini starts with '; priority=20'" test "$(head -1 "$ini")" = "; priority=20"
check "the ini loads the extension" grep -qx "extension=closte.so" "$ini"
defaults=$("$php" -n -d extension="$so" -r 'foreach (ini_get_all("closte", false) as $n => $d) echo ";$n = $d\n";')
check "the extension registers its settings" test "$(grep -c . <<<"$defaults")" -ge 10
every_setting_listed() {
  local line
  while IFS= read -r line; do grep -qxF -- "$line" "$ini" || { echo "    missing: $line"; return 1; }; done <<<"$defaults"
  [ "$(grep -c '^;closte\.' "$ini")" -eq "$(grep -c . <<<"$defaults")" ]
}
check "every setting is listed once, commented, with its default" every_setting_listed
check "enabled for the CLI SAPI" test -L "/etc/php/$version/cli/conf.d/20-closte.ini"
check "PHP with its own configuration loads closte" sh -c "$php -m | grep -qx closte"
check "closte answers" sh -c "$php -r 'echo closte_version();' | grep -q ."

PHP_VERSION=$version "$installer" uninstall
check "uninstall leaves nothing of closte" nothing_installed
check "PHP no longer loads closte" sh -c "! $php -m | grep -qx closte"

[ "$failures" -eq 0 ] || { echo "roundtrip: $failures check(s) failed" >&2; exit 1; }
echo "roundtrip: install and uninstall on PHP $version passed"
