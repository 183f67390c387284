#!/usr/bin/env bash
# `make run`: start the Closte simulator on a free loopback port and run examples/demo.php
# against it through the extension. Usage: scripts/demo.sh path/to/closte-sim path/to/libcloste.so
set -euo pipefail
sim=$1
so=$2
key=demo-key-not-secret
work=$(mktemp -d -t closte-demo.XXXXXX)
SIM_PID=
trap 'kill "$SIM_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

start_simulator "$sim" "$work/port" "$work/sim.log" --api-key "$key" --parent-pid $$ --latency-ms 20 --ssl-issue-delay-ms 500
port=$SIM_PORT
echo "closte-sim (simulated Closte API, 20 ms latency) on http://127.0.0.1:$port/api/client"
echo

php -n -d extension="$so" \
  -d closte.api_url="http://127.0.0.1:$port/api/client" \
  -d closte.api_key="$key" \
  "$(dirname "$0")/../examples/demo.php"
