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
ini_text="; closte: Closte host integration for Ultimate Multisite (see README for every setting)
extension=closte.so
; The key normally comes from CLOSTE_CLIENT_API_KEY in wp-config.php; this is a fallback.
;closte.api_key =
;closte.api_url = https://app.closte.com/api/client
;closte.timeout = 15
;closte.connect_timeout = 5
;closte.max_retries = 2
;closte.worker_threads = 2
;closte.user_agent =
;closte.ca_file =
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
