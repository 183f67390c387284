# closte: build, test, run and install the Closte PHP extension.
#   make run      install what is missing, build, start the simulator, run the demo
#   make test     install what is missing, build, fmt + clippy + cargo test + PHPUnit + stub check
#                 + the end-to-end suite in a real WordPress multisite
#   make install  copy the .so into PHP's extension dir and enable it for every SAPI

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
PHP ?= php
RELEASE_DIR := target/release
SO := $(CURDIR)/$(RELEASE_DIR)/libcloste.so
SIM := $(CURDIR)/$(RELEASE_DIR)/closte-sim
# PHPUnit needs these shared extensions; `php -n` keeps the machine's php.ini out of the tests.
PHPUNIT_EXTS := -d extension=xml -d extension=dom -d extension=xmlwriter -d extension=mbstring -d extension=tokenizer
PHP_TEST := $(PHP) -n $(PHPUNIT_EXTS) -d extension=$(SO) -d error_reporting=-1 -d display_errors=1 -d memory_limit=512M
# The PHP implementation's run: no closte extension; curl (required) and intl (IDN) instead.
PHP_TEST_PURE := $(PHP) -n $(PHPUNIT_EXTS) -d extension=curl -d extension=intl -d error_reporting=-1 -d display_errors=1 -d memory_limit=512M

.PHONY: deps deps-build build run demo test lint i18n i18n-check cargo-test test-hooks-so phpunit phpunit-php stubs-check fpm-test e2e bench install uninstall clean

deps:
	scripts/install-deps.sh test

deps-build:
	scripts/install-deps.sh build

# The extension and the simulator are built apart, so that Cargo's feature unification never
# gives the extension a feature only the simulator needs (e.g. tokio's signal handling).
build: deps-build
	$(CARGO) build --release --locked -p closte
	$(CARGO) build --release --locked -p closte-sim

run: build
	scripts/demo.sh "$(SIM)" "$(SO)"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked -p closte --all-targets --features test-hooks -- -D warnings
	@for f in $$(git ls-files '*.php'); do $(PHP) -n -l "$$f" >/dev/null || exit 1; done; echo "php -l: clean"
	scripts/i18n.sh check

# The plugin's translations: template, catalogues and compiled .mo files (gettext).
i18n:
	scripts/i18n.sh build

i18n-check:
	scripts/i18n.sh check

# closte-core's tests start the simulator binary, which is another crate: build it first.
cargo-test:
	$(CARGO) build --locked -p closte-sim
	$(CARGO) test --locked --workspace

# A debug .so with deliberate panics (cargo feature test-hooks), for the panic tests only.
HOOKS_SO := $(CURDIR)/target/debug/libcloste-test-hooks.so
test-hooks-so:
	$(CARGO) build --locked -p closte --features test-hooks
	cp target/debug/libcloste.so $(HOOKS_SO)

phpunit: build test-hooks-so
	CLOSTE_IMPL=extension CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) CLOSTE_TEST_HOOKS_SO=$(HOOKS_SO) $(PHP_TEST) /usr/bin/phpunit -c tests/php/phpunit.xml

# The same suite against the pure-PHP implementation (wordpress/closte-native/compat), with the
# extension not loaded; the tests in the group native-only (README, "Testing") are left out.
phpunit-php: build
	CLOSTE_IMPL=php CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) $(PHP_TEST_PURE) /usr/bin/phpunit -c tests/php/phpunit.xml --exclude-group native-only

stubs-check: build
	$(PHP) -n tests/stubs/check.php $(SO)

# A real WordPress multisite (MariaDB, Debian's wordpress) with the plugin and the extension.
e2e: build
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) tests/wordpress/run.sh

# PHP-FPM whose master started the runtime (opcache.preload), 4 workers, 1,000 requests.
fpm-test: build
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) tests/fpm/fork-safety.sh 1000 8

# Benchmarks (not a test): writes BENCHMARKS.md. About 10 minutes.
bench: build
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) bench/run.sh

test: deps build lint cargo-test phpunit phpunit-php stubs-check fpm-test e2e
	@echo "make test: all checks passed"

install: build
	scripts/install-extension.sh "$(SO)"

uninstall:
	scripts/install-extension.sh --uninstall

clean:
	$(CARGO) clean
