#!/usr/bin/env bash
# Queries of the operator's views at 1,000 and 10,000 domains on the e2e network (Ultimate
# Multisite 2.5 stand-in), for BENCHMARKS.md section 6: Domain_Status::rows and `wp closte
# domains` in-process, and over HTTP the Closte Domains page, Ultimate Multisite's domain list and
# edit-domain page, and one AJAX action of the page. Both implementations by default, each on
# its own fresh network; takes the e2e lock once for the whole run.
# Usage: bench/domain_status_queries.sh [both|extension|php] [N ...]   (CLOSTE_SO and CLOSTE_SIM set)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CLOSTE_SO:?CLOSTE_SO must name the built extension}" "${CLOSTE_SIM:?CLOSTE_SIM must name the simulator}"
which=${1:-both}; shift || true
case "$which" in both) impls="extension php" ;; extension|php) impls=$which ;;
  *) echo "usage: $0 [both|extension|php] [N ...]" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- 1000 10000
exec flock /tmp/closte-e2e.lock bash -c '
  set -euo pipefail
  here=$PWD/tests/wordpress
  trap "bash \"$here/harness.sh\" down >/dev/null 2>&1" EXIT
  impls=$1; shift
  for impl in $impls; do
    if [ "$impl" = php ]; then impl_args=(-d extension=curl -d extension=intl); else impl_args=(-d extension="$CLOSTE_SO"); fi
    echo "== $impl"
    CLOSTE_E2E_UM=2.5 CLOSTE_E2E_IMPL="$impl" bash "$here/harness.sh" up >/dev/null
    php -n -d extension=mysqlnd -d extension=mysqli -d memory_limit=1G -d error_reporting=-1 -d display_errors=stderr \
      "${impl_args[@]}" bench/domain_status_queries.php "$@"
  done
' bash "$impls" "$@"
