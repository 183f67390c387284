#!/usr/bin/env bash
# The bulk-sync limit benchmark: REPS syncs of N new domains at concurrency C, each in a fresh
# PHP process against a fresh independent stand-in (bench/standin.py, not closte-sim) that
# answers every request DELAY_MS after reading it. One JSON line per sync on stdout, with the
# critical path split into round trips, stand-in time and client time (bench/timeline.py).
# Usage: CLOSTE_SO=... bench/limit.sh extension|php [N] [C] [DELAY_MS] [REPS] [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$repo/scripts/lib.sh"
impl=$1 n=${2:-200} c=${3:-32} delay=${4:-50} reps=${5:-10}
out=${6:-$repo/target/bench/limit}
mkdir -p "$out"
case $impl in
  extension) : "${CLOSTE_SO:?}"; php_args=(-n -d extension=curl -d extension="$CLOSTE_SO") ;;
  php) php_args=(-n -d extension=curl -d extension=intl -d auto_prepend_file="$repo/wordpress/closte-native/compat/bootstrap.php") ;;
  *) echo "usage: $0 extension|php [N] [C] [DELAY_MS] [REPS] [OUT_DIR]" >&2; exit 2 ;;
esac
# Extra php options for experiments, e.g. LIMIT_PHP_ARGS="-d closte.worker_threads=4".
read -r -a extra <<< "${LIMIT_PHP_ARGS:-}"
php_args+=("${extra[@]}")
standin_pid=
stop_standin() { [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null && wait "$standin_pid" 2>/dev/null || true; standin_pid=; }
trap stop_standin EXIT
for rep in $(seq 1 "$reps"); do
  rm -f "$out/port" "$out/standin.jsonl"
  python3 "$here/standin.py" --port-file "$out/port" --delay-ms "$delay" --log "$out/standin.jsonl" &
  standin_pid=$!
  wait_for_file "$out/port" 10
  line=$(php "${php_args[@]}" "$here/sync_limit.php" --port="$(cat "$out/port")" --n="$n" --c="$c" --prefix="limit-$rep")
  stop_standin
  echo "$line" | python3 "$here/timeline.py" "$out/standin.jsonl" "$delay"
done
