#!/usr/bin/env bash
# The WordPress plugin as operators install it (Network Admin > Plugins > Add New > Upload, or
# unzipped into wp-content/plugins/): OUT_DIR/closte-native-<version>.zip, default OUT_DIR dist.
# Prints the archive's path on its last line.
#
# What it holds: one top-level folder closte-native/ with the plugin and its PHP implementation,
# the runtime files only, chosen by the rules in shipped() below:
#   closte-native.php, uninstall.php, readme.txt (and LICENSE* when there is one)
#   includes/**.php and compat/**.php              the integration and the PHP implementation
#   languages/*.mo *.po *.pot *.json                 WordPress loads the .mo (and JSON for scripts);
#                                                    translators work from the .po/.pot
#   assets/*.css *.js *.png *.svg *.gif *.jpg *.webp  the admin pages' styles and scripts
# Left out: dotfiles, editor and merge leftovers, and development files (tests/, composer.*,
# package*.json, node_modules/, phpunit/phpcs/phpstan configuration, source maps). Any other
# file stops the build, naming it: a new kind of file is shipped or left out on purpose.
#
# Reproducible: the same tree gives the same bytes. Entries sorted (LC_ALL=C), directories 0755
# and files 0644, every mtime SOURCE_DATE_EPOCH (default 1980-01-01 00:00:00 UTC, the earliest
# time a zip can hold) read in UTC, no extra fields (zip -X: no uid/gid, no extended times).
#
# The version is the plugin header's Version:, which must equal CLOSTE_NATIVE_VERSION and
# readme.txt's Stable tag (the build refuses otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=lib.sh
. scripts/lib.sh
src=wordpress/closte-native
out=${1:-dist}

command -v zip >/dev/null 2>&1 || install_missing_packages zip
command -v zip >/dev/null 2>&1 || { echo "plugin-zip: the zip command is missing (apt-get install zip)" >&2; exit 1; }

header_version=$(sed -n 's/^[[:space:]]*\*[[:space:]]*Version:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$src/closte-native.php" | head -1)
constant_version=$(sed -n "s/^define('CLOSTE_NATIVE_VERSION', '\([^']*\)');.*/\1/p" "$src/closte-native.php" | head -1)
stable_tag=$(sed -n 's/^Stable tag:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$src/readme.txt" | head -1)
[ -n "$header_version" ] || { echo "plugin-zip: no Version: header in $src/closte-native.php" >&2; exit 1; }
if [ "$header_version" != "$constant_version" ] || [ "$header_version" != "$stable_tag" ]; then
  echo "plugin-zip: versions differ: closte-native.php Version: '$header_version', CLOSTE_NATIVE_VERSION '$constant_version', readme.txt Stable tag: '$stable_tag'" >&2
  exit 1
fi
version=$header_version

# Files never shipped, silently: not part of the plugin's source.
ignored() {
  case "$1" in
    .* | */.* | *~ | *.swp | *.swo | *.orig | *.rej | *.bak) return 0 ;;
    tests/* | */tests/* | node_modules/* | composer.json | composer.lock | package.json | package-lock.json) return 0 ;;
    phpunit.xml* | phpcs.xml* | phpstan.neon* | *.map) return 0 ;;
  esac
  return 1
}
# Files shipped: what WordPress, the plugin and translators need at run time.
shipped() {
  case "$1" in
    closte-native.php | uninstall.php | readme.txt | LICENSE*) return 0 ;;
    includes/*.php | compat/*.php) return 0 ;;
    languages/*.mo | languages/*.po | languages/*.pot | languages/*.json) return 0 ;;
    assets/*.css | assets/*.js | assets/*.png | assets/*.svg | assets/*.gif | assets/*.jpg | assets/*.webp) return 0 ;;
  esac
  return 1
}

links=$(cd "$src" && find . -type l | sed 's|^\./||')
[ -z "$links" ] || { echo "plugin-zip: symbolic links in $src (a zip would store them as links): $links" >&2; exit 1; }

stage=$(mktemp -d -t closte-plugin-zip.XXXXXX)
trap 'rm -rf "$stage"' EXIT
unexpected=()
while IFS= read -r -d '' path; do
  rel=${path#./}
  if ignored "$rel"; then continue; fi
  if shipped "$rel"; then
    install -D -m 0644 "$src/$rel" "$stage/closte-native/$rel"
  else
    unexpected+=("$rel")
  fi
done < <(cd "$src" && find . -type f -print0)
if [ ${#unexpected[@]} -gt 0 ]; then
  echo "plugin-zip: neither shipped nor left out by scripts/plugin-zip.sh (decide in shipped() or ignored()): ${unexpected[*]}" >&2
  exit 1
fi

epoch=${SOURCE_DATE_EPOCH:-315532800}
[ "$epoch" -ge 315532800 ] || epoch=315532800 # a zip's DOS time starts at 1980
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -exec touch -h -d "@$epoch" {} +

mkdir -p "$out"
zipfile=$(cd "$out" && pwd)/closte-native-$version.zip
rm -f "$zipfile" # zip adds to an existing archive
# Directories with their trailing slash, as the zip names them, so the order is the stored names'.
(cd "$stage" && find closte-native \( -type d -printf '%p/\n' \) -o -print | LC_ALL=C sort | TZ=UTC zip -X -9 -q -@ "$zipfile")
echo "plugin-zip: ${zipfile#"$repo"/}"
