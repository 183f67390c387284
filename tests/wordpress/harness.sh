#!/usr/bin/env bash
# End-to-end harness: a real WordPress multisite (Debian's wordpress package, MariaDB in a
# private datadir, PHP's built-in server on 127.0.0.1) with the closte extension loaded, the
# closte-native plugin network-activated, the Ultimate Multisite and Action Scheduler STAND-INS
# as must-use plugins, and closte-sim playing Closte.
#
#   harness.sh up     set everything up from scratch (wipes $CLOSTE_E2E_DIR)
#   harness.sh down   stop the servers it started
#
# Needs CLOSTE_SO (the extension) and CLOSTE_SIM (the simulator binary). Writes
# $CLOSTE_E2E_DIR/state.env for the PHPUnit suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
. "$repo/scripts/lib.sh"
E2E=${CLOSTE_E2E_DIR:-/tmp/closte-e2e}
DB_SOCK=$E2E/db/mysqld.sock
NETWORK=closte-e2e.test
KEY=e2e-closte-key-5b8d1c07e2
WPROOT=/usr/share/wordpress
CONFIG=/etc/wordpress/config-closte-e2e.php
T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[e2e %3d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*"; }

stop_all() {
  for pidfile in "$E2E"/run/*.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # php -S workers and the simulator run in their own process groups
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  [ -s "$E2E/db/mysqld.pid" ] && kill "$(cat "$E2E/db/mysqld.pid")" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -S "$DB_SOCK" ] || break; sleep 0.1; done
}

free_port() { php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'; }

# The test site's configuration is the only file outside $E2E; it goes with the servers. `down`
# needs none of the settings of `up` (CLOSTE_SO, CLOSTE_SIM, the generation and implementation):
# it works from any shell.
if [ "${1:-}" = down ]; then stop_all; rm -f "$CONFIG"; exit 0; fi
[ "${1:-}" = up ] || { echo "usage: $0 up|down" >&2; exit 2; }
: "${CLOSTE_SO:?CLOSTE_SO must name the built extension}" "${CLOSTE_SIM:?CLOSTE_SIM must name the simulator}"
UM=${CLOSTE_E2E_UM:-2.4}
# 2.4: host providers; 2.5: the registry as 2.5.0/2.5.1 declare it; 2.18: the same registry with
# the capability module declarations of 2.5.2 and later (current), which have no return types.
case "$UM" in 2.4|2.5|2.18) ;; *) echo "CLOSTE_E2E_UM must be 2.4, 2.5 or 2.18" >&2; exit 2 ;; esac
# Which closte implementation the network runs on: the extension, or (php) the plugin's PHP
# implementation, with curl and intl loaded instead of the extension.
IMPL=${CLOSTE_E2E_IMPL:-extension}
case "$IMPL" in extension) IMPL_ARGS=(-d extension="$CLOSTE_SO") ;; php) IMPL_ARGS=(-d extension=curl -d extension=intl) ;;
  *) echo "CLOSTE_E2E_IMPL must be extension or php" >&2; exit 2 ;; esac

# ------------------------------------------------------------------ packages
log "packages"
# `php` + php8.2-fpm + nginx satisfy wordpress' web-server dependency without pulling apache2.
# CLOSTE_E2E_PHP_VERSION: Debian's PHP of the stack (8.2 on the host; 8.4 in the trixie chroot,
# scripts/php-version.sh 8.4 e2e).
PHPV=${CLOSTE_E2E_PHP_VERSION:-8.2}
install_missing_packages wordpress php "php$PHPV-fpm" nginx mariadb-server "php$PHPV-mysql" "php$PHPV-cli" "php$PHPV-xml" "php$PHPV-mbstring" phpunit curl

# ------------------------------------------------------------------ clean slate
stop_all
rm -rf "$E2E"
mkdir -p "$E2E"/{db,run,logs,wp-content/plugins,wp-content/mu-plugins/standin,wp-content/themes/e2e,wp-content/uploads}
chmod 755 "$E2E"
chown -R mysql:mysql "$E2E/db"

# ------------------------------------------------------------------ MariaDB
log "mariadb"
mariadb-install-db --no-defaults --user=mysql --datadir="$E2E/db/data" \
  --auth-root-authentication-method=socket --skip-test-db >"$E2E/logs/mariadb-install.log" 2>&1
setsid mariadbd --no-defaults --user=mysql --datadir="$E2E/db/data" --socket="$DB_SOCK" \
  --pid-file="$E2E/db/mysqld.pid" --skip-networking --log-error="$E2E/logs/mariadb.log" \
  --innodb-buffer-pool-size=64M </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 150); do mariadb-admin --socket="$DB_SOCK" ping >/dev/null 2>&1 && break; sleep 0.2; done
mariadb --socket="$DB_SOCK" -u root <<SQL
CREATE DATABASE closte_e2e CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'closte_e2e'@'localhost' IDENTIFIED BY 'e2e-db-pass';
GRANT ALL ON closte_e2e.* TO 'closte_e2e'@'localhost';
SQL

# ------------------------------------------------------------------ Closte simulator
log "closte-sim"
SIM_SETSID=1 start_simulator "$CLOSTE_SIM" "$E2E/run/sim.port" "$E2E/logs/closte-sim.log" \
  --api-key "$KEY" --ssl-issue-delay-ms 1000 --verbose --front-door 127.0.0.1:0 --test-ca-out "$E2E/run/sim-ca.pem"
echo "$SIM_PID" > "$E2E/run/sim.pid"
# The TLS front door serves, by SNI, the certificates the simulator issued; the certificate check
# trusts its test CA (closte.verify_ca_file) and connects to it through closte.resolve.
TLS_PORT=$(curl -sf "http://127.0.0.1:$SIM_PORT/__sim/state" | php -n -r 'echo json_decode(stream_get_contents(STDIN), true)["front_door_port"] ?? "";')
[ -n "$TLS_PORT" ] && [ -s "$E2E/run/sim-ca.pem" ] || { echo "closte-sim reported no TLS front door or test CA" >&2; exit 1; }
chmod 644 "$E2E/run/sim-ca.pem"

# ------------------------------------------------------------------ WordPress files
log "wordpress config"
cat > "$CONFIG" <<PHP
<?php
// closte-native end-to-end test site (written by tests/wordpress/harness.sh).
define('DB_NAME', 'closte_e2e');
define('DB_USER', 'closte_e2e');
define('DB_PASSWORD', 'e2e-db-pass');
define('DB_HOST', 'localhost:$DB_SOCK');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as \$k) define(\$k, 'e2e-' . \$k);
\$table_prefix = 'wp_';
define('WP_CONTENT_DIR', '$E2E/wp-content');
define('WP_DEFAULT_THEME', 'e2e');
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', true);
define('WP_DEBUG_DISPLAY', false);
define('WP_DEBUG_LOG', '$E2E/logs/debug.log');
// What Closte puts in wp-config.php (tests leave it out of one process with
// CLOSTE_E2E_NO_KEY_CONSTANT=1, to model a key kept only in Ultimate Multisite's credential store):
if ('1' !== getenv('CLOSTE_E2E_NO_KEY_CONSTANT')) {
	define('CLOSTE_CLIENT_API_KEY', '$KEY');
}
// Which generation of Ultimate Multisite the stand-ins model: 2.4 (host providers), 2.5 or 2.18 (registry).
defined('CLOSTE_E2E_UM') || define('CLOSTE_E2E_UM', '$UM');
// Our simulator plays Closte: INI settings of the extension, or the same settings through the
// PHP implementation's setter (it has no INI entries; php.ini values would work for both).
// The certificate lifecycle: names resolve through closte.resolve only (the network's host and
// *.ready.test to the front door's 127.0.0.1, *.elsewhere.test to 127.0.0.9, every other name to
// no address, so nothing reaches real DNS); loopback is allowed (test only), the handshake goes
// to the front door's port and trusts the simulator's CA. Tests may change closte.resolve.
\$closte_e2e_settings = [
	'closte.api_url' => 'http://127.0.0.1:$SIM_PORT/api/client',
	'closte.timeout' => '5',
	'closte.resolve' => '$NETWORK=127.0.0.1; *.$NETWORK=127.0.0.1; *.ready.test=127.0.0.1; *.elsewhere.test=127.0.0.9; *=',
	'closte.allow_private_targets' => '1',
	'closte.tls_check_port' => '$TLS_PORT',
	'closte.verify_ca_file' => '$E2E/run/sim-ca.pem',
];
foreach (\$closte_e2e_settings as \$name => \$value) {
	if (extension_loaded('closte')) {
		ini_set(\$name, \$value);
	} elseif (function_exists('curl_init') && is_file('$E2E/wp-content/plugins/closte-native/compat/bootstrap.php')) {
		// Not there while PluginZipTest has taken the plugin out to install it from its zip.
		require_once '$E2E/wp-content/plugins/closte-native/compat/bootstrap.php';
		\Closte\Compat\Settings::set(\$name, \$value);
	}
}
PHP
chmod 644 "$CONFIG"
cat > "$E2E/wp-content/themes/e2e/style.css" <<'CSS'
/*
Theme Name: e2e
*/
CSS
echo '<?php echo "blog_id=" . get_current_blog_id() . "\n";' > "$E2E/wp-content/themes/e2e/index.php"
cp -r "$repo/wordpress/closte-native" "$E2E/wp-content/plugins/closte-native"
cp "$here/fixtures/mu-loader.php" "$E2E/wp-content/mu-plugins/e2e-fixtures.php"
cp "$here"/fixtures/*-standin.php "$E2E/wp-content/mu-plugins/standin/"
chown -R www-data:www-data "$E2E/wp-content/uploads"
chmod -R a+rwX "$E2E/wp-content/uploads" "$E2E/logs"

PHP_WP=(php -n -d extension=mysqlnd -d extension=mysqli "${IMPL_ARGS[@]}" -d error_reporting=-1)

# ------------------------------------------------------------------ install
log "wp_install + network"
"${PHP_WP[@]}" "$here/bin/wp.php" install
cat >> "$CONFIG" <<PHP
define('MULTISITE', true);
define('SUBDOMAIN_INSTALL', true);
define('DOMAIN_CURRENT_SITE', '$NETWORK');
define('PATH_CURRENT_SITE', '/');
define('SITE_ID_CURRENT_SITE', 1);
define('BLOG_ID_CURRENT_SITE', 1);
PHP
"${PHP_WP[@]}" "$here/bin/wp.php" activate

# ------------------------------------------------------------------ web server
log "php -S with the $IMPL"
WEB_PORT=$(free_port)
cat > "$E2E/run/router.php" <<PHP
<?php
\$_SERVER['WORDPRESS_CONFIG'] = 'closte-e2e';
\$uri = urldecode(parse_url(\$_SERVER['REQUEST_URI'], PHP_URL_PATH));
// Plugin assets (scripts, styles) live in the test's own wp-content, outside the document root.
\$types = ['js' => 'text/javascript', 'css' => 'text/css'];
if (str_starts_with(\$uri, '/wp-content/') && !str_contains(\$uri, '..') && isset(\$types[pathinfo(\$uri, PATHINFO_EXTENSION)]) && is_file('$E2E' . \$uri)) {
    header('Content-Type: ' . \$types[pathinfo(\$uri, PATHINFO_EXTENSION)] . '; charset=utf-8');
    readfile('$E2E' . \$uri);
    return true;
}
if (\$uri !== '/' && is_file('$WPROOT' . \$uri) && !str_ends_with(\$uri, '.php')) return false;
if (str_ends_with(\$uri, '.php') && is_file('$WPROOT' . \$uri)) {
    \$_SERVER['SCRIPT_NAME'] = \$uri; \$_SERVER['SCRIPT_FILENAME'] = '$WPROOT' . \$uri;
    chdir(dirname('$WPROOT' . \$uri));
    require '$WPROOT' . \$uri;
    return true;
}
if (str_ends_with(\$uri, '/') && is_file('$WPROOT' . \$uri . 'index.php')) {
    \$_SERVER['SCRIPT_NAME'] = \$uri . 'index.php'; \$_SERVER['SCRIPT_FILENAME'] = '$WPROOT' . \$uri . 'index.php';
    chdir('$WPROOT' . \$uri);
    require '$WPROOT' . \$uri . 'index.php';
    return true;
}
\$_SERVER['SCRIPT_NAME'] = '/index.php'; \$_SERVER['SCRIPT_FILENAME'] = '$WPROOT/index.php';
require '$WPROOT/index.php';
PHP
PHP_CLI_SERVER_WORKERS=4 setsid "${PHP_WP[@]}" -d display_errors=0 -d log_errors=1 \
  -d error_log="$E2E/logs/php-server-errors.log" -S "127.0.0.1:$WEB_PORT" -t "$WPROOT" "$E2E/run/router.php" \
  </dev/null >"$E2E/logs/php-server.log" 2>&1 &
echo $! > "$E2E/run/web.pid"
for _ in $(seq 1 100); do curl -s -o /dev/null -H "Host: $NETWORK" "http://127.0.0.1:$WEB_PORT/" && break; sleep 0.1; done
curl -sf -o /dev/null -H "Host: $NETWORK" "http://127.0.0.1:$WEB_PORT/" || { echo "web server not answering" >&2; cat "$E2E/logs/php-server.log" >&2; exit 1; }

cat > "$E2E/state.env" <<ENV
CLOSTE_E2E_DIR=$E2E
CLOSTE_E2E_NETWORK=$NETWORK
CLOSTE_E2E_KEY=$KEY
CLOSTE_E2E_SIM_PORT=$SIM_PORT
CLOSTE_E2E_TLS_PORT=$TLS_PORT
CLOSTE_E2E_WEB_PORT=$WEB_PORT
CLOSTE_E2E_SO=$CLOSTE_SO
CLOSTE_E2E_UM=$UM
CLOSTE_E2E_IMPL=$IMPL
ENV
log "ready (Ultimate Multisite $UM stand-in, closte $IMPL): network http://$NETWORK (127.0.0.1:$WEB_PORT), Closte simulator 127.0.0.1:$SIM_PORT"
