#!/usr/bin/env bash
# Runs the end-to-end suite once per generation of Ultimate Multisite (stand-ins), 2.4.x (host
# providers), 2.5 (the integration registry as 2.5.0/2.5.1 declare it) and 2.18 (the same registry
# with the untyped capability module declarations of 2.5.2 and later), and per closte
# implementation, the extension and the plugin's PHP implementation: six runs. Each sets the
# network up from scratch; the servers are always torn down. After PHPUnit, each run drives the Closte Sync page and then the
# Closte Domains page in headless Chromium (browser/sync_page_test.py, browser/domains_page_test.py).
# Usage: tests/wordpress/run.sh [2.4|2.5|2.18 ...]   (CLOSTE_SO and CLOSTE_SIM set, as `make e2e` does)
#        CLOSTE_E2E_IMPLS="php" limits the implementations; CLOSTE_E2E_BROWSER=0 skips the browser.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh
. "$here/../../scripts/lib.sh"
browser=${CLOSTE_E2E_BROWSER:-1}
[ "$browser" = 0 ] || install_missing_packages chromium chromium-driver python3-selenium
e2e_dir=${CLOSTE_E2E_DIR:-/tmp/closte-e2e}
# The servers always stop; the network's directory (database, logs, wp-content: about 200 MB)
# goes too, as make test leaves the machine as it found it. CLOSTE_KEEP_TEST_DIRS=1 keeps it
# for a look after a failure (tests/wordpress/harness.sh up wipes it again).
finish() {
  bash "$here/harness.sh" down
  if [ "${CLOSTE_KEEP_TEST_DIRS:-0}" = 1 ]; then echo "e2e: kept $e2e_dir (CLOSTE_KEEP_TEST_DIRS=1)"; else rm -rf "$e2e_dir"; fi
}
trap finish EXIT
generations=("$@")
[ ${#generations[@]} -gt 0 ] || generations=(2.4 2.5 2.18)
read -r -a impls <<<"${CLOSTE_E2E_IMPLS:-extension php}"
for impl in "${impls[@]}"; do
  if [ "$impl" = php ]; then impl_args=(-d extension=curl -d extension=intl); else impl_args=(-d extension="$CLOSTE_SO"); fi
  for um in "${generations[@]}"; do
    suite=registry; [ "$um" = 2.4 ] && suite=legacy
    echo "== e2e: Ultimate Multisite $um stand-in, closte $impl"
    CLOSTE_E2E_UM=$um CLOSTE_E2E_IMPL=$impl bash "$here/harness.sh" up
    # ctype: PHPUnit 11 (trixie) requires it; PHPUnit 9 (Debian 12) does not mind it.
    php -n -d extension=xml -d extension=dom -d extension=xmlwriter -d extension=mbstring -d extension=tokenizer -d extension=ctype \
      -d extension=mysqlnd -d extension=mysqli "${impl_args[@]}" -d error_reporting=-1 -d display_errors=1 \
      -d memory_limit=512M /usr/bin/phpunit -c "$here/phpunit.xml" --testsuite "$suite"
    if [ "$browser" != 0 ]; then
      echo "== browser: the Closte Sync page in Chromium"
      # Debian's python3 and its selenium, not a python3 earlier on PATH (pyenv) that lacks it.
      /usr/bin/python3 "$here/browser/sync_page_test.py"
      echo "== browser: the Closte Domains page in Chromium"
      /usr/bin/python3 "$here/browser/domains_page_test.py"
    fi
  done
done
# `harness.sh down` must work from any shell, without the build's variables: checked here, with
# the last network still up, before the EXIT trap's own `down`.
env -u CLOSTE_SO -u CLOSTE_SIM -u CLOSTE_E2E_UM -u CLOSTE_E2E_IMPL bash "$here/harness.sh" down
if compgen -G "$e2e_dir/run/*.pid" >/dev/null || [ -S "$e2e_dir/db/mysqld.sock" ] || [ -e /etc/wordpress/config-closte-e2e.php ]; then
  echo "harness.sh down (without CLOSTE_SO and CLOSTE_SIM) left servers or the site's configuration behind" >&2
  exit 1
fi
