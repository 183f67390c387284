#!/usr/bin/env bash
# Runs the end-to-end suite twice, once per generation of Ultimate Multisite (stand-ins): 2.4.x
# (host providers) and 2.5+ (the integration registry). Each run sets the network up from
# scratch; the servers are always torn down.
# Usage: tests/wordpress/run.sh [2.4|2.5 ...]   (CLOSTE_SO and CLOSTE_SIM set, as `make e2e` does)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trap 'bash "$here/harness.sh" down' EXIT
generations=("$@")
[ ${#generations[@]} -gt 0 ] || generations=(2.4 2.5)
for um in "${generations[@]}"; do
  suite=legacy; [ "$um" = 2.5 ] && suite=registry
  CLOSTE_E2E_UM=$um bash "$here/harness.sh" up
  php -n -d extension=xml -d extension=dom -d extension=xmlwriter -d extension=mbstring -d extension=tokenizer \
    -d extension=mysqlnd -d extension=mysqli -d extension="$CLOSTE_SO" -d error_reporting=-1 -d display_errors=1 \
    -d memory_limit=512M /usr/bin/phpunit -c "$here/phpunit.xml" --testsuite "$suite"
done
