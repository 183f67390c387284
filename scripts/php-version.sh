#!/usr/bin/env bash
# The PHP version matrix: builds the extension for another PHP version and runs its checks
# there, inside a Debian chroot created and cached under target/php-<version>/ (nothing outside
# it is touched: not the host's apt sources, packages or PHP).
#
# Usage (as root): scripts/php-version.sh VERSION [test|build|shell|exec COMMAND...]
#   test   (default) build closte.so and the test-hooks .so against that PHP, then run the
#          PHPUnit suite against the extension and against the PHP implementation, the stub
#          check, and `make install` / `make uninstall` inside the chroot
#   build  only build target/php-<version>/closte.so (what `make dist` packages)
#   shell  an interactive shell in the chroot, with the same mounts
#   exec   run COMMAND in the chroot (the repository is at /src), e.g. to load an archive's .so
#   e2e [2.4|2.5|2.18 ...]   the WordPress end-to-end suite (tests/wordpress/run.sh) on the suite's
#          own stack (trixie: WordPress 6.8, MariaDB 11.8, PHP 8.4), with the browser tests;
#          CLOSTE_E2E_IMPLS and CLOSTE_E2E_BROWSER are passed on as run.sh reads them
# CLOSTE_SRC=DIR mounts DIR at /src instead of this checkout (any action).
#
# Versions and where they come from (PHP 8.3 is in no Debian suite; ZTS is not packaged):
#   8.4  Debian trixie (PHPUnit 11)
#   8.5  Debian sid + experimental (PHPUnit 13); sid is a moving suite, so 8.5 is a documented
#        target, not part of `make test`
#   8.2 is the host's own PHP (Debian 12): `make phpunit phpunit-php stubs-check`.
#
# How: `debootstrap --variant=minbase` from the host's Debian mirror (DEBIAN_MIRROR overrides
# it), the PHP packages installed inside the chroot by its own apt, the host's Rust toolchain
# bind-mounted read-only at /opt/rust, the repository read-only at /src, the closte-sim the host
# built copied in (a static Rust program needs no rebuild). Cargo's home and target directory
# live inside the chroot, so crates are fetched from crates.io once and builds are incremental
# across runs. Every mount is undone on exit, also on failure or interrupt, and any left over
# by a killed run is undone at the next start. `make clean` removes the whole cache.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

version=${1:?"usage: scripts/php-version.sh VERSION [test|build|shell]"}
action=${2:-test}
shift $(($# < 2 ? $# : 2))
case $version in
  8.4) suite=trixie ;;
  8.5) suite=sid ;;
  8.2) echo "PHP 8.2 is the host's: make phpunit phpunit-php stubs-check" >&2; exit 2 ;;
  *) echo "php-version: no Debian suite packages PHP $version (8.4: trixie, 8.5: sid + experimental)" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "php-version: debootstrap, mount and chroot need root" >&2; exit 1; }

cache=$PWD/target/php-$version
root=$cache/root
sim=$PWD/target/release/closte-sim
# What is mounted at /src: this checkout, or (CLOSTE_SRC) another tree of the repository, e.g. a
# `git archive` of one commit, to test that commit while the checkout has edits in progress.
src=$(cd "${CLOSTE_SRC:-$PWD}" && pwd)
[ -x "$sim" ] || { echo "php-version: build the simulator first (make build)" >&2; exit 1; }

# Everything the chroot needs: the PHP headers and CLI for ext-php-rs (bindgen needs libclang),
# a linker, PHPUnit and what the suite loads (xml, mbstring, curl, intl), openssl for its TLS
# certificates, make for `make install` inside.
php_packages=(php$version-dev php$version-cli php$version-xml php$version-mbstring php$version-curl php$version-intl)
packages=("${php_packages[@]}" phpunit clang libclang-dev gcc libc6-dev pkg-config ca-certificates openssl make)

# The end-to-end suite's stack (what tests/wordpress/harness.sh and run.sh install on the host):
# Debian's wordpress and mariadb-server, this PHP's FPM and nginx for wordpress' web-server
# dependency (no apache2), and Chromium with Selenium for the browser tests.
e2e_packages=(wordpress php php$version-fpm nginx mariadb-server php$version-mysql php$version-cli php$version-xml
  php$version-mbstring phpunit curl chromium chromium-driver python3-selenium)

mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit } /^deb / { print $2; exit }' \
  /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}

unmount_all() {
  # Deepest first; lazily, so a process that is still exiting cannot keep a mount alive.
  local target
  for target in $(findmnt -rn -o TARGET | grep -F "$root/" | sort -r); do
    umount -l "$target" 2>/dev/null || true
  done
}

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/opt/rust/bin:/root/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CARGO_HOME=/root/.cargo CARGO_TARGET_DIR=/build/target DEBIAN_FRONTEND=noninteractive \
    PHP="/usr/bin/php$version" PHP_CONFIG="/usr/bin/php-config$version" "$@"
}

unmount_all
if [ ! -e "$root/.closte-bootstrapped" ]; then
  install_missing_packages debootstrap
  rm -rf "$root"
  mkdir -p "$cache"
  echo "php-version: debootstrap $suite from $mirror into $root"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  if [ "$suite" = sid ]; then
    echo "deb $mirror experimental main" >"$root/etc/apt/sources.list.d/experimental.list"
  fi
  # Packages installed inside must not start daemons (there are none in the list; this is for
  # what a dependency might pull in). This file is inside the chroot, not the host's.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  touch "$root/.closte-bootstrapped"
fi

trap unmount_all EXIT
mkdir -p "$root/src" "$root/opt/rust" "$root/build"
mount -t proc proc "$root/proc"
mount --bind "$src" "$root/src"
mount -o remount,bind,ro "$root/src"
mount --bind "$(rustc --print sysroot)" "$root/opt/rust"
mount -o remount,bind,ro "$root/opt/rust"
cp /etc/resolv.conf "$root/etc/resolv.conf"

wanted="${packages[*]}"
if [ "$(cat "$root/.closte-packages" 2>/dev/null)" != "$wanted" ]; then
  echo "php-version: installing PHP $version and the build and test tools in the chroot"
  apt_opts=(-q -o DPkg::Lock::Timeout=600)
  install=("${packages[@]}")
  if [ "$suite" = sid ]; then
    # sid's Release files may be past their Valid-Until on a snapshot mirror; PHP 8.5 is in
    # experimental, which apt only takes when asked by name (PHPUnit 13 is in sid itself).
    apt_opts+=(-o Acquire::Check-Valid-Until=false)
    install=()
    for p in "${packages[@]}"; do
      case $p in php8.5-*) install+=("$p/experimental") ;; *) install+=("$p") ;; esac
    done
    # Named from sid: experimental's php-common (2:102~) Breaks every phpX.Y-common, and apt
    # takes the dependencies of packages asked for from experimental from there too.
    install+=(php-common/unstable)
  fi
  in_root apt-get "${apt_opts[@]}" update >"$cache/apt.log" 2>&1 || { tail -20 "$cache/apt.log" >&2; exit 1; }
  in_root apt-get "${apt_opts[@]}" install -y --no-install-recommends "${install[@]}" >>"$cache/apt.log" 2>&1 ||
    { tail -20 "$cache/apt.log" >&2; exit 1; }
  echo "$wanted" >"$root/.closte-packages"
fi
if [ "$action" = e2e ] && [ "$(cat "$root/.closte-e2e-packages" 2>/dev/null)" != "${e2e_packages[*]}" ]; then
  [ "$suite" = trixie ] || { echo "php-version: the e2e stack is trixie's (PHP 8.4)" >&2; exit 2; }
  echo "php-version: installing WordPress, MariaDB and Chromium in the chroot (the e2e stack)"
  in_root apt-get -q -o DPkg::Lock::Timeout=600 update >>"$cache/apt.log" 2>&1 || { tail -20 "$cache/apt.log" >&2; exit 1; }
  in_root apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${e2e_packages[@]}" >>"$cache/apt.log" 2>&1 ||
    { tail -20 "$cache/apt.log" >&2; exit 1; }
  echo "${e2e_packages[*]}" >"$root/.closte-e2e-packages"
fi
install -m 0755 "$sim" "$root/build/closte-sim"
# The host's own trust (a network whose TLS to crates.io passes a local CA) for cargo inside.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  in_root update-ca-certificates >/dev/null 2>&1
fi

# PHP and PHP_CONFIG name this version's binaries everywhere inside (ext-php-rs's build, the
# PHPUnit runs): a suite's other PHP, pulled in by a dependency, is never the one tested.
build_so() {
  in_root "php$version" -v | head -1
  in_root sh -c "cd /src && cargo build --release --locked -q -p closte && install -m 0644 /build/target/release/libcloste.so /build/closte.so"
  cp "$root/build/closte.so" "$cache/closte.so"
  echo "php-version: built $cache/closte.so for $(in_root "php$version" -r 'echo PHP_VERSION, PHP_ZTS ? " ZTS" : " NTS";')"
}

case $action in
  build) build_so ;;
  shell) in_root bash -l ;;
  exec) in_root "$@" ;;
  test)
    build_so
    in_root sh -c "cd /src && cargo build --locked -q -p closte --features test-hooks && install -m 0644 /build/target/debug/libcloste.so /build/closte-test-hooks.so"
    env=(CLOSTE_SO=/build/closte.so CLOSTE_SIM=/build/closte-sim CLOSTE_TEST_HOOKS_SO=/build/closte-test-hooks.so)
    echo "php-version: PHPUnit against the extension on PHP $version"
    in_root "${env[@]}" /src/scripts/phpunit.sh extension
    echo "php-version: PHPUnit against the PHP implementation on PHP $version"
    in_root "${env[@]}" /src/scripts/phpunit.sh php
    echo "php-version: stub check on PHP $version"
    in_root "php$version" -n /src/tests/stubs/check.php /build/closte.so
    echo "php-version: make install / make uninstall on PHP $version"
    in_root PHP_VERSION="$version" /src/tests/install/roundtrip.sh /build/closte.so
    echo "php-version: PHP $version passed"
    ;;
  e2e)
    build_so
    # The suite's servers (MariaDB on a socket under the chroot's /tmp/closte-e2e, PHP's built-in
    # server and closte-sim on 127.0.0.1: the chroot shares the host's network) all run inside;
    # run.sh stops them and removes the chroot's /etc/wordpress/config-closte-e2e.php on exit.
    # Chromium wants a shared-memory /dev/shm; a failed browser test leaves its screenshots in
    # the host's target/browser, mounted writable over the read-only repository.
    mount -t tmpfs -o size=256m tmpfs "$root/dev/shm"
    mkdir -p target/browser "$src/target/browser"
    mount --bind "$PWD/target/browser" "$root/src/target/browser"
    in_root CLOSTE_SO=/build/closte.so CLOSTE_SIM=/build/closte-sim CLOSTE_E2E_PHP_VERSION="$version" \
      CLOSTE_E2E_IMPLS="${CLOSTE_E2E_IMPLS:-extension php}" CLOSTE_E2E_BROWSER="${CLOSTE_E2E_BROWSER:-1}" \
      /src/tests/wordpress/run.sh "$@"
    echo "php-version: the e2e suite passed on PHP $version"
    ;;
  *) echo "php-version: unknown action '$action' (test, build, shell, exec or e2e)" >&2; exit 2 ;;
esac
