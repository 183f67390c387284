#!/usr/bin/env bash
# `make run`: start the Closte simulator on a free loopback port and run examples/demo.php
# against it through the extension. Usage: scripts/demo.sh path/to/closte-sim path/to/libcloste.so
set -euo pipefail
sim=$1
so=$2
key=demo-key-not-secret
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$sim" --api-key "$key" --port-file "$work/port" --parent-pid $$ --latency-ms 20 --ssl-issue-delay-ms 500 \
  >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "closte-sim did not start:" >&2; cat "$work/sim.log" >&2; exit 1; }
port=$(cat "$work/port")
echo "closte-sim (simulated Closte API, 20 ms latency) on http://127.0.0.1:$port/api/client"
echo

php -n -d extension="$so" \
  -d closte.api_url="http://127.0.0.1:$port/api/client" \
  -d closte.api_key="$key" \
  "$(dirname "$0")/../examples/demo.php"
