#!/usr/bin/env bash
# `make bench`: every benchmark of BENCHMARKS.md on this machine, in one run, over plain HTTP
# and over HTTPS (a CA generated here, trusted through closte.ca_file / CURLOPT_CAINFO), against
# closte-sim with injected latency, and the bulk-sync limit against an independent stand-in
# (bench/limit.sh). Writes target/bench/results.jsonl and BENCHMARKS.md.
# Usage: CLOSTE_SO=... CLOSTE_SIM=... bench/run.sh [--quick]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${CLOSTE_SO:?}" "${CLOSTE_SIM:?}"
. "$(cd "$(dirname "$0")/.." && pwd)/scripts/lib.sh"
quick=${1:-}
out=$repo/target/bench
rm -rf "$out"; mkdir -p "$out/tls"
results=$out/results.jsonl
KEY=bench-key
# Which code is measured: the commit, and whether the tree differed from it.
dirty=false; [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=true
printf '{"bench":"meta","commit":"%s","dirty":%s}\n' "$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" "$dirty" > "$results"

install_missing_packages php8.2-curl openssl bc

# A local CA and a certificate for 127.0.0.1.
( cd "$out/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=closte bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null )

sim_pid=
start_sim() { # scheme latency_ms
  stop_sim
  local tls=()
  [ "$1" = https ] && tls=(--tls-cert "$out/tls/server.pem" --tls-key "$out/tls/server.key")
  start_simulator "$CLOSTE_SIM" "$out/sim.port" "$out/sim.log" --api-key "$KEY" --latency-ms "$2" --parent-pid $$ "${tls[@]}"
  sim_pid=$SIM_PID
  port=$SIM_PORT
}
stop_sim() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true; sim_pid=; }
trap stop_sim EXIT

run_php() { # scheme rtt script args...
  local scheme=$1 rtt=$2 script=$3; shift 3
  local ca=""; [ "$scheme" = https ] && ca="--ca=$out/tls/ca.pem"
  php -n -d extension=curl -d extension="$CLOSTE_SO" "$here/$script" --port="$port" --scheme="$scheme" $ca --key=$KEY "$@" \
    | php -n -r '$l = json_decode(stream_get_contents(STDIN), true); $l["scheme"] = $argv[1]; $l["rtt"] = (int) $argv[2]; echo json_encode($l), "\n";' "$scheme" "$rtt" \
    | tee -a "$results"
}

# The same scripts on the plugin's PHP implementation (no extension; curl and intl), tagged
# "impl":"php": what operators without the extension get, and what the extension buys.
run_pure() { # scheme rtt script args...
  local scheme=$1 rtt=$2 script=$3; shift 3
  local ca=""; [ "$scheme" = https ] && ca="--ca=$out/tls/ca.pem"
  php -n -d extension=curl -d extension=intl -d auto_prepend_file="$repo/wordpress/closte-native/compat/bootstrap.php" \
    "$here/$script" --port="$port" --scheme="$scheme" $ca --key=$KEY "$@" \
    | php -n -r '$l = json_decode(stream_get_contents(STDIN), true); $l["scheme"] = $argv[1]; $l["rtt"] = (int) $argv[2]; $l["impl"] = "php"; echo json_encode($l), "\n";' "$scheme" "$rtt" \
    | tee -a "$results"
}

if [ "$quick" = --quick ]; then N0=50; N20=10; N100=4; BULK=100; REPEAT=50; LIMIT_REPS=3; else N0=300; N20=60; N100=20; BULK=1000; REPEAT=200; LIMIT_REPS=15; fi

for scheme in http https; do
  for rtt in 0 20 100; do
    n=$N0; [ $rtt = 20 ] && n=$N20; [ $rtt = 100 ] && n=$N100
    start_sim $scheme $rtt
    for mode in enqueue blocking baseline; do
      run_php $scheme $rtt hook_latency.php --mode=$mode --n=$n --prefix=hook-$mode
    done
  done
  start_sim $scheme 0
  for mode in extension baseline; do run_php $scheme 0 repeat.php --mode=$mode --n=$REPEAT; done
  for c in 1 8 32 64; do
    start_sim $scheme 50
    run_php $scheme 50 bulk.php --mode=sync --n=$BULK --c=$c --prefix=bulk
  done
  start_sim $scheme 50
  run_php $scheme 50 bulk.php --mode=baseline --n=$BULK --prefix=bulk
  # The PHP implementation: hook latency, repeated calls, bulk at c=32.
  for rtt in 0 20 100; do
    n=$N0; [ $rtt = 20 ] && n=$N20; [ $rtt = 100 ] && n=$N100
    start_sim $scheme $rtt
    for mode in enqueue blocking; do run_pure $scheme $rtt hook_latency.php --mode=$mode --n=$n --prefix=pure-$mode; done
  done
  start_sim $scheme 0
  run_pure $scheme 0 repeat.php --mode=extension --n=$REPEAT
  start_sim $scheme 50
  run_pure $scheme 50 bulk.php --mode=sync --n=$BULK --c=32 --prefix=pure-bulk
done
stop_sim

# The limit: 200 new domains at c=32, 50 ms, against the independent stand-in (bench/standin.py),
# LIMIT_REPS fresh processes per implementation, taking turns so that both see the same machine.
install_missing_packages python3
for rep in $(seq 1 "$LIMIT_REPS"); do
  for impl in extension php; do
    "$here/limit.sh" "$impl" 200 32 50 1 "$out/limit" | tee -a "$results"
  done
done

# Idle cost of loading the extension: start-up time, RSS, threads of `php -n -r ''`.
idle() { # label args...
  local label=$1; shift
  local t0 t1 runs=40
  t0=$(date +%s%N)
  for _ in $(seq 1 $runs); do php -n "$@" -r '' ; done
  t1=$(date +%s%N)
  php -n "$@" -r 'preg_match("/VmRSS:\s+(\d+)/", $s = file_get_contents("/proc/" . getmypid() . "/status"), $r); preg_match("/Threads:\s+(\d+)/", $s, $t);
    echo json_encode(["bench" => "idle", "mode" => $argv[1], "startup_ms" => (float) $argv[2], "rss_kb" => (int) $r[1], "threads" => (int) $t[1]]), "\n";' \
    "$label" "$(echo "scale=3; ($t1 - $t0) / $runs / 1000000" | bc)" | tee -a "$results"
}
idle without
idle with -d extension="$CLOSTE_SO"

php -n "$here/report.php" "$results" > "$out/BENCHMARKS.md"
cp "$out/BENCHMARKS.md" "$repo/BENCHMARKS.md"
echo "wrote BENCHMARKS.md from $results"
