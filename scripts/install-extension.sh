#!/usr/bin/env bash
# Installs the built extension into PHP: copies the .so into `php-config --extension-dir` and
# writes a mods-available ini enabled for every SAPI (phpenmod on Debian; conf.d otherwise).
# Usage: scripts/install-extension.sh path/to/libcloste.so | --uninstall
set -euo pipefail
PHP_CONFIG=${PHP_CONFIG:-php-config}
ext_dir=$($PHP_CONFIG --extension-dir)
ini_dir=$($PHP_CONFIG --ini-dir 2>/dev/null || true)
version=$($PHP_CONFIG --version | cut -d. -f1,2)
mods=/etc/php/$version/mods-available

if [ "${1:-}" = --uninstall ]; then
  command -v phpdismod >/dev/null && [ -f "$mods/closte.ini" ] && phpdismod closte || true
  rm -f "$ext_dir/closte.so" "$mods/closte.ini" "${ini_dir:-/nonexistent}/20-closte.ini"
  echo "closte removed"
  exit 0
fi

so=$1
install -m 0644 "$so" "$ext_dir/closte.so"
# Every setting with its default, commented out, from the extension itself (whose defaults come
# from one table in closte-core), so this file can never disagree with what PHP registers.
settings=$(php -n -d extension="$ext_dir/closte.so" -r '
  foreach (ini_get_all("closte", false) as $name => $default) { echo ";$name = $default\n"; }')
ini_text="; priority=20
; closte: Closte host integration for Ultimate Multisite (README, \"Configuration\", explains each setting)
extension=closte.so
; The key normally comes from CLOSTE_CLIENT_API_KEY in wp-config.php; closte.api_key is a fallback.
$settings
"
if [ -d "$mods" ] && command -v phpenmod >/dev/null; then
  printf '%s' "$ini_text" > "$mods/closte.ini"
  phpenmod closte
  echo "installed $ext_dir/closte.so and enabled $mods/closte.ini for every SAPI (restart php-fpm)"
else
  printf '%s' "$ini_text" > "$ini_dir/20-closte.ini"
  echo "installed $ext_dir/closte.so and $ini_dir/20-closte.ini"
fi
php -m | grep -qx closte && echo "php -m: closte loaded" || { echo "closte does not load" >&2; exit 1; }
