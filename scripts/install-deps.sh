#!/usr/bin/env bash
# Installs what building and testing closte needs on Debian 12, skipping what is present.
# Usage: scripts/install-deps.sh [build|test]   (run as root, or with sudo available)
set -euo pipefail
want=${1:-test}

packages=(php8.2-dev php8.2-cli php8.2-xml php8.2-mbstring clang libclang-dev pkg-config ca-certificates zip unzip)
if [ "$want" = test ]; then
  packages+=(phpunit gettext openssl php8.2-curl php8.2-intl)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
  $SUDO apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
fi
if [ "$want" = test ] && command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
  done
fi
