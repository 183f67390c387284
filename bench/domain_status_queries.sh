#!/usr/bin/env bash
# Queries of Domain_Status::rows and `wp closte domains` at 1,000 and 10,000 domains on the e2e
# network (Ultimate Multisite 2.5 stand-in), for BENCHMARKS.md. Takes the e2e lock.
# Usage: bench/domain_status_queries.sh [extension|php] [N ...]   (CLOSTE_SO and CLOSTE_SIM set)
set -euo pipefail
cd "$(dirname "$0")/.."
impl=${1:-extension}; shift || true
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
here=$PWD/tests/wordpress
if [ "$impl" = php ]; then impl_args=(-d extension=curl -d extension=intl); else impl_args=(-d extension="$CLOSTE_SO"); fi
exec flock /tmp/closte-e2e.lock bash -c '
  trap "bash \"$0/harness.sh\" down >/dev/null 2>&1" EXIT
  CLOSTE_E2E_UM=2.5 CLOSTE_E2E_IMPL="$1" bash "$0/harness.sh" up >/dev/null
  shift
  php -n -d extension=mysqlnd -d extension=mysqli -d memory_limit=1G -d error_reporting=-1 -d display_errors=stderr "$@"
' "$here" "$impl" "${impl_args[@]}" bench/domain_status_queries.php "${sizes[@]}"
