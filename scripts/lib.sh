# Shell helpers shared by the test scripts (source it; bash).

# install_missing_packages PKG...: installs the Debian packages that are not installed yet.
# Daemons must not start system-wide on install (mariadb, nginx, php-fpm: the tests run their
# own on loopback), so a policy-rc.d that denies service starts is in place for the duration of
# the install only: created when the machine has none, and removed again afterwards, also when
# apt fails or the script is interrupted. A machine that already had one keeps it untouched.
install_missing_packages() {
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  (
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
      printf '#!/bin/sh\n# written by closte tests for one apt-get run\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
    fi
    apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
    apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
  )
}

# wait_for_file FILE [SECONDS]: waits until FILE exists and is not empty (e.g. a port file).
wait_for_file() {
  local i
  for i in $(seq 1 $(( ${2:-5} * 20 ))); do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# start_simulator BIN PORT_FILE LOG_FILE [ARGS...]: starts closte-sim on a free loopback port
# (it writes the port to PORT_FILE), waits for it, and sets SIM_PORT, SIM_FRONT_DOOR_PORT (its
# TLS front door, from the startup line's front_door= field) and SIM_PID. With
# SIM_SETSID=1 it runs in its own session (servers that outlive the shell that started them).
start_simulator() {
  local bin=$1 port_file=$2 log_file=$3
  shift 3
  rm -f "$port_file"
  if [ "${SIM_SETSID:-0}" = 1 ]; then
    setsid "$bin" --port-file "$port_file" "$@" </dev/null >"$log_file" 2>&1 &
  else
    "$bin" --port-file "$port_file" "$@" </dev/null >"$log_file" 2>&1 &
  fi
  SIM_PID=$!
  wait_for_file "$port_file" 10 || { echo "closte-sim did not start:" >&2; cat "$log_file" >&2; return 1; }
  SIM_PORT=$(cat "$port_file")
  SIM_FRONT_DOOR_PORT=$(sed -n 's/.* front_door=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$log_file" | head -n 1)
}
