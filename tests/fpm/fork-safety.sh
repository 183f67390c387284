#!/usr/bin/env bash
# Fork safety under PHP-FPM: the master touches the extension first (opcache.preload runs
# closte_test_connection() in the master, which starts the tokio runtime there; the whole pool
# runs as www-data because a root master runs preload in a forked helper), then forks a
# static pool of 4 workers; nginx sends them 1,000 requests that each call Closte (the
# simulator). Every request must answer 200 with ok=true from a worker that built its own
# runtime: 0 hangs, 0 errors.
#
# Usage: CLOSTE_SO=... CLOSTE_SIM=... tests/fpm/fork-safety.sh [requests] [concurrency]
set -euo pipefail
: "${CLOSTE_SO:?}" "${CLOSTE_SIM:?}"
REQUESTS=${1:-1000}
CONCURRENCY=${2:-8}
DIR=${CLOSTE_FPM_DIR:-/tmp/closte-fpm}
KEY=fpm-test-key-91c2

. "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib.sh"
install_missing_packages php8.2-fpm php8.2-opcache nginx curl

stop_servers() {
  local f pids=()
  for f in "$DIR"/*.pid; do [ -s "$f" ] && pids+=("$(cat "$f")"); done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  # Until they are gone (5 s at most): a master still writing its log would outlive rm -rf.
  local p alive
  for _ in $(seq 1 100); do
    alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break; sleep 0.05
  done
}
# On exit the servers stop and $DIR goes, as make test leaves the machine as it found it;
# CLOSTE_KEEP_TEST_DIRS=1 keeps it (logs, responses) for a look after a failure.
cleanup() {
  stop_servers
  if [ "${CLOSTE_KEEP_TEST_DIRS:-0}" = 1 ]; then echo "fpm: kept $DIR (CLOSTE_KEEP_TEST_DIRS=1)"; else rm -rf "$DIR"; fi
}
stop_servers
rm -rf "$DIR"
mkdir -p "$DIR/www" "$DIR/tmp"
trap cleanup EXIT
# Workers run as www-data: give them their own copy of the extension and a writable dir.
cp "$CLOSTE_SO" "$DIR/closte.so"
chmod 755 "$DIR" "$DIR/www"; chmod 644 "$DIR/closte.so"; chmod 1777 "$DIR/tmp"

start_simulator "$CLOSTE_SIM" "$DIR/sim.port" "$DIR/sim.log" --api-key "$KEY" --parent-pid $$
echo "$SIM_PID" > "$DIR/sim.pid"
WEB_PORT=$(php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);')

cat > "$DIR/preload.php" <<'PHP'
<?php
// Runs in the FPM master itself (a non-root master preloads in-process).
$result = closte_test_connection();
$stats = closte_stats();
file_put_contents(__DIR__ . '/tmp/master.json', json_encode([
    'pid' => getmypid(), 'ok' => $result['ok'], 'runtime_pid' => $stats['runtime']['pid'],
    'started' => $stats['runtime']['started'],
]));
PHP
cat > "$DIR/www/index.php" <<'PHP'
<?php
$n = (int) ($_GET['n'] ?? 0);
if ($n % 10 === 0) {
    $id = closte_enqueue('add_domain', "fpm-$n.example.com", $n);
    $result = closte_wait([$id], 20.0)[$id];
} else {
    $result = closte_add_domain("fpm-$n.example.com", $n);
}
$stats = closte_stats()['runtime'];
header('Content-Type: application/json');
echo json_encode(['n' => $n, 'ok' => $result['ok'], 'state' => $result['state'], 'error' => $result['error'],
    'pid' => getmypid(), 'runtime_pid' => $stats['pid'], 'owned' => $stats['owned_by_this_process']]);
PHP
cat > "$DIR/php-fpm.conf" <<CONF
[global]
pid = $DIR/fpm.pid
error_log = $DIR/fpm-error.log
daemonize = no
[closte]
listen = $DIR/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 4
request_terminate_timeout = 30s
catch_workers_output = yes
CONF
chown -R www-data:www-data "$DIR"
setsid setpriv --reuid=www-data --regid=www-data --clear-groups php-fpm8.2 -n -F -y "$DIR/php-fpm.conf" \
  -d zend_extension=opcache -d opcache.enable=1 -d opcache.preload="$DIR/preload.php" \
  -d extension="$DIR/closte.so" -d closte.api_url="http://127.0.0.1:$SIM_PORT/api/client" -d closte.api_key="$KEY" \
  -d closte.timeout=10 </dev/null >"$DIR/fpm.out" 2>&1 &
for _ in $(seq 1 100); do [ -S "$DIR/fpm.sock" ] && break; sleep 0.05; done
[ -S "$DIR/fpm.sock" ] || { echo "php-fpm did not start:"; cat "$DIR/fpm.out" "$DIR/fpm-error.log" 2>/dev/null; exit 1; }

cat > "$DIR/nginx.conf" <<CONF
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $DIR/tmp/body; fastcgi_temp_path $DIR/tmp/fastcgi;
  proxy_temp_path $DIR/tmp/proxy; uwsgi_temp_path $DIR/tmp/uwsgi; scgi_temp_path $DIR/tmp/scgi;
  server {
    listen 127.0.0.1:$WEB_PORT;
    root $DIR/www;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $DIR/www/index.php;
      fastcgi_pass unix:$DIR/fpm.sock;
      fastcgi_read_timeout 30s;
    }
  }
}
CONF
nginx -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf"
for _ in $(seq 1 100); do [ -s "$DIR/nginx.pid" ] && break; sleep 0.05; done

master=$(cat "$DIR/fpm.pid")
master_threads=$(awk '/^Threads:/ {print $2}' "/proc/$master/status")
echo "fpm master $master: $(cat "$DIR/tmp/master.json"), $master_threads threads"

started=$(date +%s.%N)
seq 1 "$REQUESTS" | xargs -P "$CONCURRENCY" -I{} \
  sh -c 'out=$(curl -s -m 15 -w " http=%{http_code}" "http://127.0.0.1:'"$WEB_PORT"'/?n={}"); echo "$out exit=$?"' \
  > "$DIR/responses.txt" || true
elapsed=$(echo "$(date +%s.%N) - $started" | bc)

php -n -r '
  [$file, $masterFile, $requests, $masterThreads, $elapsed] = array_slice($argv, 1);
  $master = json_decode(file_get_contents($masterFile), true);
  $lines = array_filter(explode("\n", file_get_contents($file)));
  $passed = 0; $failures = []; $workers = [];
  foreach ($lines as $line) {
      if (!preg_match("/^(\{.*\}) http=(\d+) exit=(\d+)$/", $line, $m)) { $failures[] = "unparsable: " . substr($line, 0, 200); continue; }
      $r = json_decode($m[1], true);
      $good = $m[2] === "200" && $m[3] === "0" && $r["ok"] === true && $r["runtime_pid"] === $r["pid"] && $r["owned"] === true && $r["pid"] !== $master["pid"];
      if ($good) { $passed++; $workers[$r["pid"]] = true; } else { $failures[] = $line; }
  }
  $missing = (int) $requests - count($lines);
  $hangs = count(array_filter($lines, fn ($l) => str_contains($l, "exit=28")));
  printf("%d requests in %.1f s through %d workers (master pid %d touched the extension first: runtime started=%s, %d threads)\n",
      count($lines), $elapsed, count($workers), $master["pid"], var_export($master["started"], true), $masterThreads);
  foreach (array_slice($failures, 0, 10) as $f) { echo "FAILED: $f\n"; }
  $ok = $master["ok"] === true && $master["started"] === true && (int) $masterThreads > 1 && count($workers) >= 2 && count($workers) <= 4 && $missing === 0;
  if (!$ok) { echo "FAILED: setup check (master ok/started/threads, 2..4 workers, all responses present)\n"; }
  printf("hangs: %d\n", $hangs);
  printf("fork safety: %d passed, %d failed\n", $passed, count($failures) + $missing + ($ok ? 0 : 1));
  exit(count($failures) + $missing === 0 && $ok ? 0 : 1);
' "$DIR/responses.txt" "$DIR/tmp/master.json" "$REQUESTS" "$master_threads" "$elapsed"
