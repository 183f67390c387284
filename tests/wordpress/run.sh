#!/usr/bin/env bash
# Sets up the e2e WordPress network, runs the PHPUnit suite against it, and always tears the
# servers down. Usage: tests/wordpress/run.sh (CLOSTE_SO and CLOSTE_SIM set, as `make e2e` does)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trap 'bash "$here/harness.sh" down' EXIT
bash "$here/harness.sh" up
php -n -d extension=xml -d extension=dom -d extension=xmlwriter -d extension=mbstring -d extension=tokenizer \
  -d extension=mysqlnd -d extension=mysqli -d extension="$CLOSTE_SO" -d error_reporting=-1 -d display_errors=1 \
  -d memory_limit=512M /usr/bin/phpunit -c "$here/phpunit.xml"
