#!/usr/bin/env bash
# Translations of the WordPress plugin, with Debian's gettext tools.
#   scripts/i18n.sh build   extract the template (.pot), merge it into every .po, compile the .mo files
#   scripts/i18n.sh check   fail when the committed .pot misses a string of the code, or a .po has an
#                           untranslated or fuzzy entry, or a .mo is older than its .po
set -euo pipefail
cd "$(dirname "$0")/../wordpress/closte-native"
command -v xgettext >/dev/null || { echo "i18n: gettext is missing (apt-get install gettext)" >&2; exit 1; }

extract() {
  xgettext --language=PHP --from-code=UTF-8 --sort-by-file --no-wrap \
    --keyword=__ --keyword=esc_html__ --keyword=esc_attr__ --keyword=_e --keyword=esc_html_e \
    --keyword=_x:1,2c --keyword=_n:1,2 --add-comments=translators: \
    --package-name=closte-native --package-version="$(sed -n "s/^define('CLOSTE_NATIVE_VERSION', '\(.*\)');/\1/p" closte-native.php)" \
    --msgid-bugs-address=https://github.com/closte-native/closte/issues \
    -o "$1" closte-native.php $(find includes -name '*.php' | LC_ALL=C sort)
  sed -i 's/charset=CHARSET/charset=UTF-8/' "$1"
}

# The template's strings, one per line (--no-wrap keeps each msgid on one line).
msgids() { grep '^msgid ' "$1" | sort; }

case "${1:-check}" in
  build)
    extract languages/closte-native.pot
    for po in languages/*.po; do
      msgmerge --quiet --update --backup=none --no-wrap "$po" languages/closte-native.pot
      msgfmt --check --output-file="${po%.po}.mo" "$po"
    done
    echo "i18n: built $(ls languages/*.mo | wc -l) catalogue(s)"
    ;;
  check)
    tmp=$(mktemp -t closte-i18n.XXXXXX); trap 'rm -f "$tmp"' EXIT
    extract "$tmp"
    if ! diff <(msgids "$tmp") <(msgids languages/closte-native.pot) >/dev/null; then
      echo "i18n: languages/closte-native.pot is out of date: run make i18n" >&2
      diff <(msgids "$tmp") <(msgids languages/closte-native.pot) | head -20 >&2
      exit 1
    fi
    for po in languages/*.po; do
      # Every string of the template is in the catalogue, translated and not fuzzy.
      stats=$(msgmerge --quiet --no-wrap "$po" languages/closte-native.pot -o - | msgfmt --check --statistics -o /dev/null - 2>&1)
      case "$stats" in
        *untranslated*|*fuzzy*) echo "i18n: $po is incomplete: $stats" >&2; exit 1 ;;
      esac
      [ "${po%.po}.mo" -nt "$po" ] || cmp -s <(msgfmt -o - "$po") "${po%.po}.mo" || { echo "i18n: ${po%.po}.mo is stale: run make i18n" >&2; exit 1; }
      echo "i18n: $po: $stats"
    done
    ;;
  *) echo "usage: $0 build|check" >&2; exit 2 ;;
esac
