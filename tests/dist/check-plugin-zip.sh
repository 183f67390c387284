#!/usr/bin/env bash
# Checks the plugin zip (scripts/plugin-zip.sh, part of `make dist`): reproducible (two builds,
# a second later, under another umask and time zone, give the same bytes); one top-level folder
# closte-native/ holding exactly the runtime files of wordpress/closte-native/, byte for byte,
# 0644/0755, mtimes fixed; no development files; every PHP file parses; versions agree and
# readme.txt passes tests/dist/check-readme.php, inside the zip as in the tree; that validator
# refuses the faults it is there for. With DIST_ZIP (what `make dist` wrote), that archive is
# the same bytes as a fresh build and SHA256SUMS covers it.
# Usage: tests/dist/check-plugin-zip.sh [DIST_ZIP]
set -euo pipefail
cd "$(dirname "$0")/../.."
dist_zip=${1:-}
# shellcheck source=../../scripts/lib.sh
. scripts/lib.sh
command -v unzip >/dev/null 2>&1 || install_missing_packages unzip
src=wordpress/closte-native
work=$(mktemp -d -t closte-zip-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}

echo "plugin zip (scripts/plugin-zip.sh)"
first=$(scripts/plugin-zip.sh "$work/a" | tail -1 | sed 's/^plugin-zip: //')
sleep 1 # the second build's copies get other mtimes: only the fixed ones may reach the zip
second=$( (umask 077 && TZ=America/New_York scripts/plugin-zip.sh "$work/b") | tail -1 | sed 's/^plugin-zip: //')
version=$(sed -n "s/^define('CLOSTE_NATIVE_VERSION', '\([^']*\)');.*/\1/p" "$src/closte-native.php")
check "named closte-native-$version.zip" test "$(basename "$first")" = "closte-native-$version.zip"
check "two builds give identical bytes ($(sha256sum "$first" | cut -c1-16)…)" cmp -s "$first" "$second"

entries=$(unzip -Z1 "$first")
check "one top-level folder closte-native/" sh -c '! printf "%s\n" "$1" | grep -v "^closte-native/"' _ "$entries"
check "entries sorted" test "$entries" = "$(printf '%s\n' "$entries" | LC_ALL=C sort)"
check "no tests, dotfiles or development files" sh -c '! printf "%s\n" "$1" | grep -E "(^|/)(tests?/|\.|composer\.|package(-lock)?\.json|node_modules/|phpunit|phpcs|phpstan)|\.map$|~$"' _ "$entries"
check "the plugin, its PHP implementation, languages (.mo, .po, .pot) and assets are in it" sh -c '
  for f in closte-native.php uninstall.php readme.txt compat/bootstrap.php compat/functions.php includes/class-autoloader.php \
    languages/closte-native.pot languages/closte-native-de_DE.po languages/closte-native-de_DE.mo assets/sync-page.js; do
    printf "%s\n" "$1" | grep -qx "closte-native/$f" || { echo "    missing: $f"; exit 1; }
  done' _ "$entries"
# unzip -Z: permissions, then the date and time, per entry (directories end in /).
modes=$(unzip -Z "$first" | awk '/^[-d]/ {print substr($1, 1, 1) " " $1 " " $7 " " $8}' | sort -u)
check "files 0644 and directories 0755, all dated 1980-01-01 00:00" test "$modes" = "$(printf -- '- -rw-r--r-- 80-Jan-01 00:00\nd drwxr-xr-x 80-Jan-01 00:00')"
check "no extra fields (no uid/gid, no extended times)" sh -c '! unzip -Zv "$1" | grep -Eq "extra field (data|length): *[1-9]|Unix UID|extended-timestamp"' _ "$first"

mkdir -p "$work/x"
unzip -q "$first" -d "$work/x"
plugin=$work/x/closte-native
check "every file is byte for byte the tree's" sh -c 'cd "$1" && find . -type f -print0 | xargs -0 -I{} cmp -s {} "$2/{}"' _ "$plugin" "$PWD/$src"
# What the tree holds that the zip lacks may only be dotfiles and development files.
missing=$(cd "$src" && find . -type f | sed 's|^\./||' | while read -r f; do [ -e "$plugin/$f" ] || echo "$f"; done)
check "nothing of the plugin left out (left out: ${missing:-none})" sh -c '! printf "%s\n" "$1" | grep -Ev "(^|/)(\.|tests/)|~$|\.(swp|orig|rej|bak)$" | grep -q .' _ "$missing"
check "every PHP file parses" sh -c 'find "$1" -name "*.php" -print0 | xargs -0 -n1 php -n -l >/dev/null' _ "$plugin"
check "readme.txt and the plugin header pass in the zip" php -n tests/dist/check-readme.php "$plugin"
check "readme.txt and the plugin header pass in the tree" php -n tests/dist/check-readme.php "$src"

# The validator fails on what it checks (each fault alone, on a copy of the zip's folder).
refuses() { # refuses WHAT FILE SED-EXPRESSION: the validator rejects FILE edited by SED
  rm -rf "$work/bad" && cp -r "$plugin" "$work/bad" && sed -i "$3" "$work/bad/$2"
  ! php -n tests/dist/check-readme.php "$work/bad" >/dev/null 2>&1
}
check "validator refuses an unknown header (Requires Plugins)" refuses header readme.txt 's/^Stable tag:/Requires Plugins: ultimate-multisite\nStable tag:/'
check "validator refuses a Stable tag other than the Version" refuses stable readme.txt 's/^Stable tag: .*/Stable tag: 9.9.9/'
check "validator refuses a CLOSTE_NATIVE_VERSION other than the Version" refuses constant closte-native.php "s/^define('CLOSTE_NATIVE_VERSION', '[^']*');/define('CLOSTE_NATIVE_VERSION', '9.9.9');/"
check "validator refuses Requires PHP other than the plugin's" refuses php readme.txt 's/^Requires PHP: .*/Requires PHP: 7.4/'
check "validator refuses a short description over 150 characters" refuses short readme.txt '12s/$/ And then some more words to pass the limit./'
check "validator refuses a missing Upgrade Notice" refuses notice readme.txt 's/^== Upgrade Notice ==$/== Notes ==/'
check "validator refuses a missing header (License)" refuses license readme.txt '/^License: /d'
check "the build refuses versions that differ" sh -c '
  rm -rf "$1/tree" && mkdir -p "$1/tree/scripts" "$1/tree/wordpress" && cp scripts/plugin-zip.sh scripts/lib.sh "$1/tree/scripts/" &&
  cp -r wordpress/closte-native "$1/tree/wordpress/" && sed -i "s/^Stable tag: .*/Stable tag: 9.9.9/" "$1/tree/wordpress/closte-native/readme.txt" &&
  ! "$1/tree/scripts/plugin-zip.sh" "$1/tree/out" >/dev/null 2>&1 && [ ! -e "$1/tree/out" ]' _ "$work"

if [ -n "$dist_zip" ]; then
  check "$dist_zip is what a fresh build gives" cmp -s "$dist_zip" "$first"
  check "SHA256SUMS lists and verifies it" sh -c 'cd "$(dirname "$1")" && grep -q "  $(basename "$1")\$" SHA256SUMS && sha256sum --quiet --ignore-missing -c SHA256SUMS' _ "$dist_zip"
fi

[ "$failures" -eq 0 ] || { echo "plugin zip check: $failures check(s) failed" >&2; exit 1; }
echo "plugin zip check: closte-native-$version.zip passed"
