#!/usr/bin/env bash
# Installs closte.so into PHP the Debian way, for one PHP version or each installed one.
#
# Usage (as root):
#   scripts/install-extension.sh install [--so FILE]   build (unless --so) and install
#   scripts/install-extension.sh uninstall             undo it
#   scripts/install-extension.sh ini --so FILE         print the ini file it would write for FILE
#                                                      (with PHP, default php; no root needed)
# Environment: PHP_VERSION=8.4 picks one version; without it, install covers every installed
# PHP (each /usr/bin/phpX.Y; building needs its php-configX.Y, from phpX.Y-dev) and uninstall
# every version under /etc/php. --so FILE installs a prebuilt .so (from `make dist`, or a PIE
# archive) and needs PHP_VERSION when more than one version is installed.
#
# Per version X.Y:
#   - closte.so goes into that PHP's extension dir (PHP_EXTENSION_DIR);
#   - /etc/php/X.Y/mods-available/closte.ini starts with `; priority=20`, loads the extension
#     and lists every setting with its default, commented, read from the extension itself (the
#     defaults come from one table in closte-core, so this file cannot disagree with PHP), each
#     under its one-line doc and what it accepts from docs/settings.json (that table's copy);
#   - `phpenmod -v X.Y closte` enables it for every SAPI (cli, fpm, apache2);
#   - without Debian's mods-available (another distribution) the ini goes to PHP's scan
#     directory (PHP_CONFIG_FILE_SCAN_DIR) as 20-closte.ini instead.
# A build for a version other than the one `php-config` points to lands in target/php-X.Y/build.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo from rustup; PATH is left as it is when it has it already (a changed PATH makes cargo
# rerun ext-php-rs's build script, which looks for php on it, and rebuild the extension).
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac

action=${1:?"usage: scripts/install-extension.sh install [--so FILE] | uninstall | ini --so FILE"}
shift
so=
while [ $# -gt 0 ]; do
  case $1 in
    --so) so=${2:?"--so needs a file"}; shift 2 ;;
    *) echo "install-extension: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# The ini file's text for the extension FILE loaded into PHP binary $1: every setting with its
# default as the loaded extension registers it (ini_get_all), each under a comment with its
# one-line doc and what it accepts from docs/settings.json (the settings table's copy).
ini_text_for() {
  local php=$1 file=$2 settings
  settings=$("$php" -n -d extension="$file" -r '
    $table = is_file($argv[1]) ? json_decode((string) file_get_contents($argv[1]), true) : [];
    $docs = array_column(is_array($table) ? $table : [], null, "name");
    $registered = extension_loaded("closte") ? ini_get_all("closte", false) : false;
    if (!is_array($registered)) { exit(1); }
    foreach ($registered as $name => $default) {
      if (isset($docs[$name])) { echo "; ", $docs[$name]["meaning"], "; accepts: ", $docs[$name]["accepts"], "\n"; }
      echo ";$name = $default\n";
    }' -- "$PWD/docs/settings.json") || return 1
  printf '%s\n' "; priority=20
; closte: Closte host integration for Ultimate Multisite. Every setting is listed with its default;
; uncomment one to change it (the project's docs/operator-guide.md, \"Configuration\", explains each).
extension=closte.so
; The key normally comes from CLOSTE_CLIENT_API_KEY in wp-config.php; closte.api_key is a fallback.
$settings"
}

if [ "$action" = ini ]; then
  [ -n "$so" ] || { echo "install-extension: ini needs --so FILE" >&2; exit 2; }
  ini_text_for "${PHP:-php}" "$so" || { echo "install-extension: $so does not load into ${PHP:-php}" >&2; exit 1; }
  exit 0
fi

installed_versions() {
  local binary
  for binary in /usr/bin/php[0-9]*.[0-9]*; do
    [[ $binary =~ /php[0-9]+\.[0-9]+$ ]] && [ -x "$binary" ] && echo "${binary#/usr/bin/php}"
  done
  return 0
}

versions=()
if [ -n "${PHP_VERSION:-}" ]; then
  [[ $PHP_VERSION =~ ^[0-9]+\.[0-9]+$ ]] || { echo "install-extension: PHP_VERSION must look like 8.4, not '$PHP_VERSION'" >&2; exit 2; }
  versions=("$PHP_VERSION")
elif [ "$action" = uninstall ]; then
  for dir in /etc/php/*/; do
    [ -d "$dir" ] && versions+=("$(basename "$dir")")
  done
else
  mapfile -t versions < <(installed_versions)
fi
[ ${#versions[@]} -gt 0 ] || { echo "install-extension: no PHP version found (install phpX.Y-dev, or set PHP_VERSION)" >&2; exit 1; }
if [ -n "$so" ] && [ ${#versions[@]} -gt 1 ]; then
  echo "install-extension: --so is built for one PHP version; choose it with PHP_VERSION (installed: ${versions[*]})" >&2
  exit 2
fi

php_of() {
  if command -v "php$1" >/dev/null; then
    echo "php$1"
  elif [ "$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;' 2>/dev/null)" = "$1" ]; then
    echo php
  else
    echo "install-extension: PHP $1 is not installed (no php$1)" >&2
    return 1
  fi
}

build_for() {
  local version=$1 default
  default=$(php-config --version 2>/dev/null | cut -d. -f1,2 || true)
  command -v "php-config$version" >/dev/null ||
    { echo "install-extension: building for PHP $version needs php-config$version (apt install php$version-dev), or pass --so" >&2; return 1; }
  if [ "$version" = "$default" ]; then
    cargo build --release --locked -q -p closte >&2
    echo "$PWD/target/release/libcloste.so"
  else
    PHP=php$version PHP_CONFIG=php-config$version CARGO_TARGET_DIR=$PWD/target/php-$version/build \
      cargo build --release --locked -q -p closte >&2
    echo "$PWD/target/php-$version/build/release/libcloste.so"
  fi
}

install_for() {
  local version=$1 file=$2 ext_dir mods php ini_text ini_dir
  [ -f "$file" ] || { echo "install-extension: no such file: $file" >&2; return 1; }
  php=$(php_of "$version")
  ext_dir=$("$php" -n -r 'echo PHP_EXTENSION_DIR;')
  mods=/etc/php/$version/mods-available
  install -m 0644 "$file" "$ext_dir/closte.so"
  ini_text=$(ini_text_for "$php" "$ext_dir/closte.so") ||
    { rm -f "$ext_dir/closte.so"; echo "install-extension: $file does not load into PHP $version" >&2; return 1; }
  if [ -d "$mods" ] && command -v phpenmod >/dev/null; then
    printf '%s\n' "$ini_text" >"$mods/closte.ini"
    phpenmod -v "$version" closte
    echo "PHP $version: installed $ext_dir/closte.so, enabled $mods/closte.ini for every SAPI (restart php$version-fpm)"
  else
    ini_dir=$("$php" -n -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')
    printf '%s\n' "$ini_text" >"$ini_dir/20-closte.ini"
    echo "PHP $version: installed $ext_dir/closte.so and $ini_dir/20-closte.ini"
  fi
  # grep reads all of it: with -q it could stop early, and pipefail would fail on SIGPIPE.
  "$php" -m | grep -x closte >/dev/null || { echo "PHP $version: closte does not load" >&2; return 1; }
}

uninstall_for() {
  local version=$1 php
  if [ -f "/etc/php/$version/mods-available/closte.ini" ] && command -v phpdismod >/dev/null; then
    phpdismod -v "$version" closte
  fi
  rm -f "/etc/php/$version/mods-available/closte.ini"
  # Without that version's php (removed already) there is no extension or scan dir to clean.
  if php=$(php_of "$version" 2>/dev/null); then
    rm -f "$("$php" -n -r 'echo PHP_EXTENSION_DIR;')/closte.so" "$("$php" -n -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')/20-closte.ini"
  fi
  echo "PHP $version: closte removed"
}

for version in "${versions[@]}"; do
  case $action in
    install) install_for "$version" "${so:-$(build_for "$version")}" ;;
    uninstall) uninstall_for "$version" ;;
    *) echo "install-extension: unknown action '$action' (install, uninstall or ini)" >&2; exit 2 ;;
  esac
done
