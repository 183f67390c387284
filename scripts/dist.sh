#!/usr/bin/env bash
# Release archives of the extension, named the way PIE looks for pre-packaged binaries:
#   dist/php_closte-<version>_php<X.Y>-<arch>-linux-glibc-nts.tgz   (holding closte.so)
#   dist/closte-native-<plugin version>.zip                            (the WordPress plugin with its
#                                                                       PHP implementation: scripts/plugin-zip.sh)
#   dist/SHA256SUMS                                                    (sha256sum format, all of them)
# one archive per PHP version given (default: 8.2, the host's, and 8.4 from the version
# matrix's chroot; add 8.5 for sid + experimental). A Rust crate cannot be built by PIE through
# phpize, so composer.json offers only these binaries (download-url-method pre-packaged-binary).
#
# Usage (as root for versions built in a chroot): scripts/dist.sh [X.Y ...]
# The archives are reproducible: sorted entries, mtime 0, owner root, gzip without a name or
# time, so the same .so gives the same archive and checksum (the plugin zip likewise: see
# scripts/plugin-zip.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo from rustup; PATH is left as it is when it has it already (a changed PATH makes cargo
# rerun ext-php-rs's build script, which looks for php on it, and rebuild the extension).
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(8.2 8.4)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[ -n "$version" ] || { echo "dist: no workspace version in Cargo.toml" >&2; exit 1; }
arch=$(uname -m)
host=$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')

out=dist
rm -rf "$out"
mkdir -p "$out"
for php in "${versions[@]}"; do
  if [ "$php" = "$host" ]; then
    cargo build --release --locked -q -p closte
    so=target/release/libcloste.so
    zts=$(php -n -r 'var_export((bool) PHP_ZTS);')
  else
    scripts/php-version.sh "$php" build >/dev/null
    so=target/php-$php/closte.so
    zts=$(scripts/php-version.sh "$php" exec "php$php" -n -r 'var_export((bool) PHP_ZTS);' | tail -1)
  fi
  # PHP_ZTS is int 0/1 up to 8.3 and a bool from 8.4 on.
  [ "$zts" = false ] || { echo "dist: PHP $php is a ZTS build; closte ships NTS only" >&2; exit 1; }
  name=php_closte-${version}_php${php}-${arch}-linux-glibc-nts.tgz
  stage=$(mktemp -d -t closte-dist.XXXXXX)
  install -m 0644 "$so" "$stage/closte.so"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" -cf - closte.so | gzip -n -9 >"$out/$name"
  rm -rf "$stage"
  echo "dist: $out/$name"
done
scripts/plugin-zip.sh "$out"
(cd "$out" && sha256sum -- *.tgz *.zip >SHA256SUMS)
echo "dist: $out/SHA256SUMS"
