#!/usr/bin/env bash
# Checks what `make dist` produced against what PIE expects and what composer.json promises:
# composer.json's php-ext block; one archive per version, named
# php_closte-<Cargo version>_php<X.Y>-<arch>-linux-glibc-nts.tgz and holding only closte.so;
# SHA256SUMS covering exactly the archives; each .so loading into its own PHP version and
# answering closte_version(), and refused by another version (so the names are not cosmetic);
# the plugin zip closte-native-<plugin version>.zip in SHA256SUMS and tests/dist/check-plugin-zip.sh.
# Usage (as root; versions other than the host's run in the version matrix's chroot):
#   tests/dist/check.sh X.Y ...
set -euo pipefail
cd "$(dirname "$0")/../.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(8.2 8.4)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(uname -m)
host=$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
work=target/dist-check
rm -rf "$work"
mkdir -p "$work"
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}
root_of() { # where the repository is seen by that version's php
  if [ "$1" = "$host" ]; then echo "$PWD"; else echo /src; fi
}
php_of() { # php_of X.Y ARGS...: that version's php, on the host or in its chroot
  local v=$1
  shift
  if [ "$v" = "$host" ]; then php "$@"; else scripts/php-version.sh "$v" exec "php$v" "$@"; fi
}

echo "composer.json (PIE)"
composer() { php -r '$c = json_decode(file_get_contents("composer.json"), true, 512, JSON_THROW_ON_ERROR); echo json_encode('"$1"');'; }
check "type php-ext" test "$(composer '$c["type"]')" = '"php-ext"'
check "extension name closte" test "$(composer '$c["php-ext"]["extension-name"]')" = '"closte"'
check "NTS only" test "$(composer '[$c["php-ext"]["support-nts"], $c["php-ext"]["support-zts"]]')" = '[true,false]'
check "Linux only" test "$(composer '$c["php-ext"]["os-families"]')" = '["linux"]'
check "pre-packaged binaries only (no phpize build)" test "$(composer '$c["php-ext"]["download-url-method"]')" = '["pre-packaged-binary"]'
check "no version field (the release tag is the version)" test "$(composer 'isset($c["version"])')" = false
for v in "${versions[@]}"; do
  check "require.php admits $v" php -r '
    $c = json_decode(file_get_contents("composer.json"), true);
    foreach (preg_split("/\s+/", trim($c["require"]["php"])) as $rule) {
        preg_match("/^(>=|<|<=|>)?(\d+\.\d+)$/", $rule, $m) or exit(1);
        version_compare("'"$v"'", $m[2], $m[1] ?: "==") or exit(1);
    }'
done

echo "archives (dist/)"
expected=()
for v in "${versions[@]}"; do expected+=("php_closte-${version}_php${v}-${arch}-linux-glibc-nts.tgz"); done
check "exactly one archive per version, named for PIE" test "$(cd dist && ls -- *.tgz | sort)" = "$(printf '%s\n' "${expected[@]}" | sort)"
check "SHA256SUMS verifies" sh -c 'cd dist && sha256sum --quiet -c SHA256SUMS'
plugin_version=$(sed -n "s/^define('CLOSTE_NATIVE_VERSION', '\\([^']*\\)');.*/\\1/p" wordpress/closte-native/closte-native.php)
plugin_zip=closte-native-$plugin_version.zip
check "the plugin zip $plugin_zip" test -f "dist/$plugin_zip"
check "SHA256SUMS lists exactly the archives and the plugin zip" test "$(awk '{print $2}' dist/SHA256SUMS | sort)" = "$(printf '%s\n' "${expected[@]}" "$plugin_zip" | sort)"
for i in "${!versions[@]}"; do
  v=${versions[$i]}
  archive=dist/${expected[$i]}
  check "$v: holds only closte.so" test "$(tar -tzf "$archive")" = closte.so
  mkdir -p "$work/$v"
  tar -xzf "$archive" -C "$work/$v"
  check "$v: loads into PHP $v and answers closte_version()" \
    test "$(php_of "$v" -n -d extension="$(root_of "$v")/$work/$v/closte.so" -r 'echo closte_version();' 2>/dev/null | tail -1)" = "$version"
done
# The host's archive is refused by another version's PHP (module API mismatch): the version in
# the name is what decides which archive a PHP can use.
for v in "${versions[@]}"; do
  [ "$v" = "$host" ] && continue
  check "$v: refuses the PHP $host build" \
    sh -c "! scripts/php-version.sh $v exec php$v -n -d extension=/src/$work/$host/closte.so -r 'echo closte_version();' 2>/dev/null | grep -qx '$version'"
  break
done

# The plugin zip: reproducible, runtime files only, readme.txt to the standard (its own script).
check "plugin zip (tests/dist/check-plugin-zip.sh)" tests/dist/check-plugin-zip.sh "dist/$plugin_zip"

rm -rf "$work"
[ "$failures" -eq 0 ] || { echo "dist check: $failures check(s) failed" >&2; exit 1; }
echo "dist check: ${#versions[@]} archive(s) passed"
