#!/usr/bin/env bash
# Runs a PHP script against the e2e network that tests/wordpress/harness.sh brought up, with the
# PHP flags of that network's implementation (read from $CLOSTE_E2E_DIR/state.env): the
# extension (CLOSTE_E2E_SO), or the plugin's PHP implementation (curl and intl, no extension).
#   bench/wp/php.sh [PHP -d FLAGS ...] SCRIPT [ARGS ...]
# e.g. bench/wp/php.sh bench/wp/generate.php 10000 --aliases --missing=1000
#      bench/wp/php.sh -d memory_limit=64M tests/wordpress/bin/queue-runner.php
set -euo pipefail
state=${CLOSTE_E2E_DIR:-/tmp/closte-e2e}/state.env
[ -s "$state" ] || { echo "no e2e network is up ($state missing): run tests/wordpress/harness.sh up first" >&2; exit 2; }
impl=$(sed -n 's/^CLOSTE_E2E_IMPL=//p' "$state")
so=$(sed -n 's/^CLOSTE_E2E_SO=//p' "$state")
if [ "$impl" = php ]; then impl_args=(-d extension=curl -d extension=intl); else impl_args=(-d extension="$so"); fi
exec php -n -d extension=mysqlnd -d extension=mysqli "${impl_args[@]}" -d error_reporting=-1 -d display_errors=stderr "$@"
