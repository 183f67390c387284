#!/usr/bin/env bash
# make test leaves the machine as it found it. `make test` runs this twice:
#
#   scripts/leftovers.sh before FILE   at the start: records what is there
#   scripts/leftovers.sh after FILE    at the end: fails, naming each thing the run added and left
#
# What is compared:
#   - the entries of the temporary directory ($TMPDIR, default /tmp) whose names start with
#     "closte": every file and directory the tests, harnesses and scripts make there carries that
#     prefix (mktemp -t closte-..., tempnam(..., 'closte-...'), /tmp/closte-e2e, /tmp/closte-fpm);
#     other new entries are listed as a notice, not a failure (another program on the machine may
#     have made them);
#   - the e2e site's configuration, /etc/wordpress/config-closte-e2e.php;
#   - the servers the tests start: closte-sim, MariaDB, PHP's built-in server, PHP-FPM, nginx,
#     chromedriver and Chromium. A server still running that was not running before is a failure
#     (after up to 15 s: MariaDB may still be writing its last pages after `harness.sh down`).
#   - mounts under the repository's target/ (the PHP-version chroots: scripts/php-version.sh).
set -euo pipefail
mode=${1:-}; file=${2:-}
case "$mode" in before|after) ;; *) echo "usage: $0 before|after FILE" >&2; exit 2 ;; esac
[ -n "$file" ] || { echo "usage: $0 before|after FILE" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}
servers='closte-sim|mariadbd|mysqld|php -S|php-fpm|nginx|chromedriver|chromium'

# One line per thing: "tmp NAME", "config PATH", "server PID ARGS", "mount PATH".
snapshot() {
  local name
  while IFS= read -r name; do printf 'tmp %s\n' "$name"; done < <(ls -A "$tmp")
  [ -e /etc/wordpress/config-closte-e2e.php ] && echo "config /etc/wordpress/config-closte-e2e.php"
  ps -eo pid=,args= | grep -E "$servers" | grep -v -E 'grep|leftovers\.sh' | sed -E 's/^ *([0-9]+) /server \1 /' || true
  findmnt -rn -o TARGET | grep -F "$repo/target/" | sed 's/^/mount /' || true
}

if [ "$mode" = before ]; then
  mkdir -p "$(dirname "$file")"
  snapshot | sort >"$file"
  exit 0
fi

[ -e "$file" ] || { echo "leftovers: no record from the start of the run ($file)" >&2; exit 2; }
added() { comm -13 "$file" <(snapshot | sort); }
for _ in $(seq 1 30); do
  added | grep -q -E '^(server|mount) ' || break
  sleep 0.5
done
new=$(added)
ours=$(grep -E '^(tmp closte|config |server |mount )' <<<"$new" || true)
others=$(grep -E '^tmp ' <<<"$new" | grep -v -E '^tmp closte' || true)
[ -z "$others" ] || { echo "leftovers: new in $tmp, not named by this project (not a failure):"; sed 's/^tmp /  /' <<<"$others"; }
if [ -n "$ours" ]; then
  echo "leftovers: the run left these behind (make test must leave the machine as it found it):" >&2
  sed 's/^/  /' <<<"$ours" >&2
  exit 1
fi
echo "leftovers: none (temporary files, the e2e configuration, servers, mounts)"
