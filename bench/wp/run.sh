#!/usr/bin/env bash
# `make bench-wp`: the WordPress-side benchmark (issue 24). On the e2e network (a real WordPress
# multisite, MariaDB, the plugin, the Ultimate Multisite 2.18 and Action Scheduler stand-ins,
# closte-sim at 50 ms), for each implementation (the extension, the PHP implementation) and each
# size (1,000 / 10,000 / 100,000 host names, mostly domain records, bench/wp/generate.php): the Sync preview as
# Action Scheduler runs it at memory_limit=64M, the apply of 1,000 adds, the Sync page, the Closte
# Domains page, Ultimate Multisite's domain list and `wp closte sync --dry-run`
# (bench/wp/measure.php says how each is measured). Then the hook burst (bench/wp/burst.php: 1,000
# wu_add_domain jobs against closte_sync of the same names) on each implementation.
#
# Writes target/bench-wp/results.jsonl, bench/wp-side.md (the section; bench/report.php carries it
# into BENCHMARKS.md on `make bench`) and replaces that section in BENCHMARKS.md.
#
# Each implementation x size is one session on a fresh network under `flock /tmp/closte-e2e.lock`
# (the e2e suite's fixed paths), so other e2e runs can take turns; the network is always taken
# down (servers stopped, /etc/wordpress/config-closte-e2e.php removed), also on failure or ^C.
# Usage: CLOSTE_SO=... CLOSTE_SIM=... bench/wp/run.sh
#   BENCH_WP_SIZES="1000 10000 100000"  BENCH_WP_IMPLS="extension php"  BENCH_WP_REPS=5
#   BENCH_WP_PREVIEW_REPS=3 (1 at 100,000 and above)  BENCH_WP_UM=2.18  BENCH_WP_BURST=1 (0: no burst)
#   BENCH_WP_WRITE=1 (0: results only, target/bench-wp/wp-side.md)
#   BENCH_WP_MISSING=1000 (the names missing on Closte: the adds the preview plans and the apply
#   makes; N - 1 for a first sync of the whole network)  BENCH_WP_LATENCY_MS=50 (the simulator's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${CLOSTE_SO:?CLOSTE_SO must name the built extension}" "${CLOSTE_SIM:?CLOSTE_SIM must name the simulator}"
export CLOSTE_SO CLOSTE_SIM
read -r -a sizes <<<"${BENCH_WP_SIZES:-1000 10000 100000}"
read -r -a impls <<<"${BENCH_WP_IMPLS:-extension php}"
reps=${BENCH_WP_REPS:-5}
um=${BENCH_WP_UM:-2.18}
out=$repo/target/bench-wp
results=$out/results.jsonl
mkdir -p "$out"
: > "$results"
dirty=false; [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=true
printf '{"bench":"wp-meta","commit":"%s","dirty":%s,"um":"%s","reps":%d,"started":%d,"missing":%d,"latency_ms":%d}\n' \
  "$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" "$dirty" "$um" "$reps" "$(date +%s)" \
  "${BENCH_WP_MISSING:-1000}" "${BENCH_WP_LATENCY_MS:-50}" >> "$results"
t0=$(date +%s)
# Each session takes its network down; the network's directory (database, logs, wp-content:
# about 200 MB, more at 100,000 names) goes at the end, as after make test's e2e runs: under the
# lock the sessions take (make e2e does not take it: do not run both at once), after one more
# `harness.sh down`, which needs the pid files in it. CLOSTE_KEEP_TEST_DIRS=1 keeps it for a look.
finish() {
  local dir=${CLOSTE_E2E_DIR:-/tmp/closte-e2e}
  if [ "${CLOSTE_KEEP_TEST_DIRS:-0}" = 1 ]; then
    echo "bench-wp: kept $dir (CLOSTE_KEEP_TEST_DIRS=1)"
  else
    flock /tmp/closte-e2e.lock bash -c 'bash "$1/tests/wordpress/harness.sh" down >/dev/null 2>&1; rm -rf "$2"' bash "$repo" "$dir" ||
      echo "bench-wp: could not remove $dir" >&2
  fi
}
trap finish EXIT

for impl in "${impls[@]}"; do
  for n in "${sizes[@]}"; do
    preview_reps=${BENCH_WP_PREVIEW_REPS:-3}; [ "$n" -ge 100000 ] && preview_reps=${BENCH_WP_PREVIEW_REPS:-1}
    page_reps=$reps; [ "$n" -ge 100000 ] && page_reps=$(( reps < 3 ? reps : 3 ))
    echo "== bench-wp: $impl, $n names ($(( $(date +%s) - t0 )) s so far)"
    # The session's time counts from the lock's acquisition (waiting for other e2e runs is apart).
    flock /tmp/closte-e2e.lock bash -c '
      set -euo pipefail
      s0=$(date +%s)
      trap "bash \"$1/tests/wordpress/harness.sh\" down >/dev/null 2>&1" EXIT
      CLOSTE_E2E_UM=$2 CLOSTE_E2E_IMPL=$3 bash "$1/tests/wordpress/harness.sh" up >"$7/harness.log" 2>&1 \
        || { cat "$7/harness.log" >&2; exit 1; }
      "$1/bench/wp/php.sh" -d memory_limit=1G "$1/bench/wp/measure.php" "$4" "$7/results.jsonl" --reps="$5" --preview-reps="$6" \
        --missing="$8" --latency-ms="$9"
      printf "{\"bench\":\"wp-session\",\"impl\":\"%s\",\"n\":%d,\"seconds\":%d}\n" "$3" "$4" $(( $(date +%s) - s0 )) >> "$7/results.jsonl"
    ' bash "$repo" "$um" "$impl" "$n" "$page_reps" "$preview_reps" "$out" "${BENCH_WP_MISSING:-1000}" "${BENCH_WP_LATENCY_MS:-50}"
  done
done

# The hook burst (bench/wp/burst.php), once per implementation on a fresh network, 1,000 names at
# 50 ms; its JSON answer goes into the results as it is, tagged "wp-burst".
if [ -f "$here/burst.php" ] && [ "${BENCH_WP_BURST:-1}" = 1 ]; then
  for impl in "${impls[@]}"; do
    echo "== bench-wp: the hook burst, $impl ($(( $(date +%s) - t0 )) s so far)"
    rm -f "$out/burst.json"
    flock /tmp/closte-e2e.lock bash -c '
      set -euo pipefail
      trap "bash \"$1/tests/wordpress/harness.sh\" down >/dev/null 2>&1" EXIT
      CLOSTE_E2E_UM=$2 CLOSTE_E2E_IMPL=$3 bash "$1/tests/wordpress/harness.sh" up >"$4/harness.log" 2>&1 \
        || { cat "$4/harness.log" >&2; exit 1; }
      "$1/bench/wp/php.sh" -d memory_limit=1G "$1/bench/wp/burst.php" 1000 --latency-ms=50 >"$4/burst.json" || true
    ' bash "$repo" "$um" "$impl" "$out"
    php -n -r '$b = json_decode((string) @file_get_contents($argv[1]), true);
      echo json_encode(is_array($b) ? ["bench" => "wp-burst"] + $b : ["bench" => "wp-burst", "impl" => $argv[2], "error" => "burst.php gave no answer"]), "\n";' \
      "$out/burst.json" "$impl" >> "$results"
  done
fi
printf '{"bench":"wp-meta-end","seconds":%d}\n' $(( $(date +%s) - t0 )) >> "$results"

# The machine is left as it was found: no server, no site configuration.
if compgen -G "${CLOSTE_E2E_DIR:-/tmp/closte-e2e}/run/*.pid" >/dev/null || [ -e /etc/wordpress/config-closte-e2e.php ]; then
  echo "bench-wp: the e2e network was not taken down" >&2
  exit 1
fi

php -n "$here/report.php" "$results" > "$out/wp-side.md"
if [ "${BENCH_WP_WRITE:-1}" = 1 ]; then
  cp "$out/wp-side.md" "$repo/bench/wp-side.md"
  php -n "$here/report.php" --splice "$repo/BENCHMARKS.md" "$out/wp-side.md"
  echo "wrote bench/wp-side.md and its section of BENCHMARKS.md from $results ($(( $(date +%s) - t0 )) s)"
else
  echo "wrote $out/wp-side.md from $results ($(( $(date +%s) - t0 )) s)"
fi
