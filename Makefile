# closte: build, test, run and install the Closte PHP extension. `make help` lists every target.
#   make run      install what is missing, build, start the simulator, run the demo
#   make test     install what is missing, build, fmt + clippy + cargo test + PHPUnit + stub check
#                 + the end-to-end suite in a real WordPress multisite
#   make test-php VERSION=8.4   the PHPUnit suite, stub check and install round trip on another PHP
#                 version, in a Debian chroot cached under target/php-<version>/ (8.4: trixie,
#                 8.5: sid + experimental)
#   make dist     release archives for PIE (dist/, one per PHP version, with SHA256SUMS)
#   make mutants  mutation testing of closte-core (cargo-mutants; about 2 hours on 2 cores)
#   make install  build and install closte.so for each installed PHP version (or PHP_VERSION=8.4),
#                 Debian style: mods-available/closte.ini with priority 20, enabled for every SAPI

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
PHP ?= php
RELEASE_DIR := target/release
SO := $(CURDIR)/$(RELEASE_DIR)/libcloste.so
SIM := $(CURDIR)/$(RELEASE_DIR)/closte-sim

# A bare `make` lists the targets. Each target's line carries its description after `## `.
.DEFAULT_GOAL := help
help: ## list every target with one line each
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z0-9_-]+):.*## (.*)$$/\1\t\2/' | awk -F'\t' '{ printf "  %-14s %s\n", $$1, $$2 }'

.PHONY: help leftovers-before check deps deps-build build run demo test lint i18n i18n-check cargo-test test-hooks-so phpunit phpunit-php stubs-check fpm-test e2e test-php matrix e2e-trixie dist dist-check plugin-zip mutants mutants-diff bench bench-wp install uninstall clean

deps: ## install what the tests need from Debian (scripts/install-deps.sh test)
	scripts/install-deps.sh test

deps-build: ## install what the build needs (Rust through rustup; PHP headers, clang)
	scripts/install-deps.sh build

# The extension and the simulator are built apart, so that Cargo's feature unification never
# gives the extension a feature only the simulator needs (e.g. tokio's signal handling).
build: deps-build ## build the release extension (target/release/libcloste.so) and closte-sim
	$(CARGO) build --release --locked -p closte
	$(CARGO) build --release --locked -p closte-sim

run: build ## build, start the simulator and run the demo (examples/demo.php)
	scripts/demo.sh "$(SIM)" "$(SO)"

lint: ## cargo fmt --check, clippy (also with test-hooks), php -l, the translation check
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked -p closte --all-targets --features test-hooks -- -D warnings
	@for f in $$(git ls-files '*.php'); do $(PHP) -n -l "$$f" >/dev/null || exit 1; done; echo "php -l: clean"
	scripts/i18n.sh check

# The plugin's translations: template, catalogues and compiled .mo files (gettext).
i18n: ## rebuild the plugin's translation template, catalogues and .mo files
	scripts/i18n.sh build

i18n-check: ## check the template is current and the German catalogue complete
	scripts/i18n.sh check

# closte-core's tests start the simulator binary, which is another crate: build it first.
cargo-test: ## cargo test --workspace (after building closte-sim, which the tests start)
	$(CARGO) build --locked -p closte-sim
	$(CARGO) test --locked --workspace

# A debug .so with deliberate panics (cargo feature test-hooks), for the panic tests only.
HOOKS_SO := $(CURDIR)/target/debug/libcloste-test-hooks.so
test-hooks-so: ## the debug .so with deliberate panics, for PanicTest
	$(CARGO) build --locked -p closte --features test-hooks
	cp target/debug/libcloste.so $(HOOKS_SO)

phpunit: build test-hooks-so ## PHPUnit against the extension (release .so)
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) CLOSTE_TEST_HOOKS_SO=$(HOOKS_SO) PHP=$(PHP) scripts/phpunit.sh extension

# The same suite against the pure-PHP implementation (wordpress/closte-native/compat), with the
# extension not loaded; the tests in the group native-only (docs/testing.md) are left out.
phpunit-php: build ## PHPUnit against the pure-PHP implementation, extension not loaded
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) PHP=$(PHP) scripts/phpunit.sh php

stubs-check: build ## php-stubs/closte.php, the extension and the PHP implementation agree
	$(PHP) -n tests/stubs/check.php $(SO)

# A real WordPress multisite (MariaDB, Debian's wordpress) with the plugin and the extension.
e2e: build ## the WordPress end-to-end suite: 3 Ultimate Multisite stand-ins (2.4, 2.5, 2.18) x 2 implementations
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) tests/wordpress/run.sh

# PHP-FPM whose master started the runtime (opcache.preload), 4 workers, 1,000 requests.
fpm-test: build ## PHP-FPM fork safety: preloading master, 4 workers, 1,000 requests
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) tests/fpm/fork-safety.sh 1000 8

# Benchmarks (not a test): writes BENCHMARKS.md. About 10 minutes.
bench: build ## benchmarks, rewrites BENCHMARKS.md (about 10 minutes)
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) bench/run.sh

# The WordPress side at 1,000 / 10,000 / 100,000 domain records on the e2e network (bench/wp/).
bench-wp: build ## WordPress-side benchmark (preview, apply, pages, CLI): writes bench/wp-side.md
	CLOSTE_SO=$(SO) CLOSTE_SIM=$(SIM) bench/wp/run.sh

# Another PHP version in its Debian chroot (scripts/php-version.sh): build, PHPUnit against the
# extension and the PHP implementation, stub check, make install/uninstall round trip.
VERSION ?= 8.4
test-php: build ## build and test on another PHP in a Debian chroot: make test-php VERSION=8.4
	scripts/php-version.sh $(VERSION) test

# The versions make test covers: 8.2 on the host (the targets above), 8.4 in its chroot. 8.5 is
# a documented target (sid moves): make test-php VERSION=8.5, make dist DIST_VERSIONS="8.2 8.4 8.5".
MATRIX_VERSIONS := 8.4
matrix: build ## test-php for every version make test covers (8.4)
	@for v in $(MATRIX_VERSIONS); do scripts/php-version.sh $$v test || exit 1; done

# The end-to-end suite on Debian trixie's stack (WordPress 6.8, MariaDB 11.8, PHP 8.4) in the
# 8.4 chroot, beside make e2e's Debian 12 stack (6.1, 10.11, 8.2): both implementations on the
# 2.4 (host providers) and 2.18 (registry) stand-ins, four runs; 2.5 by hand (docs/testing.md).
e2e-trixie: build ## the e2e suite on WordPress 6.8 / PHP 8.4 / MariaDB 11.8 in the trixie chroot (4 runs)
	scripts/php-version.sh 8.4 e2e 2.4 2.18

DIST_VERSIONS ?= 8.2 8.4
dist: build ## PIE release archives and the plugin zip in dist/ with SHA256SUMS (DIST_VERSIONS="8.2 8.4")
	scripts/dist.sh $(DIST_VERSIONS)

dist-check: dist ## check the release archives (names, contents, checksums, loading) and the plugin zip
	tests/dist/check.sh $(DIST_VERSIONS)

plugin-zip: ## the plugin zip alone (no Rust build), checked: reproducible, runtime files, readme.txt
	tests/dist/check-plugin-zip.sh
	scripts/plugin-zip.sh dist

# Mutation testing of closte-core by `cargo test -p closte-core` alone (scripts/mutants.sh):
# the full run writes target/mutants/summary.md; mutants-diff tests only the mutants on lines
# the last commit changed and fails when one survives (what make test runs).
mutants: ## mutation testing of closte-core, every mutant (about 40 minutes)
	scripts/mutants.sh

mutants-diff: ## mutation testing of the lines the last commit changed in closte-core
	scripts/mutants.sh --in-diff HEAD~1

# The edit-and-test loop, without e2e, FPM, the matrix, dist and mutants (docs/testing.md).
check: build ## fmt, clippy, cargo test, PHPUnit on both implementations (5-7 min here)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory cargo-test phpunit phpunit-php
	@echo "make check: passed"

# make test leaves the machine as it found it: what is there at the start (temporary files named
# closte*, the e2e site's configuration, the test servers, the chroots' mounts) is recorded first,
# and the run fails at the end if it added any of them (scripts/leftovers.sh).
LEFTOVERS_RECORD := $(CURDIR)/target/leftovers-before.txt
leftovers-before: ## record the temporary files, servers and mounts there are (make test's first step)
	scripts/leftovers.sh before $(LEFTOVERS_RECORD)

test: leftovers-before deps build lint cargo-test phpunit phpunit-php stubs-check fpm-test e2e matrix e2e-trixie dist-check mutants-diff ## the test command (CI): lint, cargo test, PHPUnit x2, stubs, FPM, e2e, PHP 8.4, e2e on trixie, dist, mutants-diff, nothing left behind
	scripts/leftovers.sh after $(LEFTOVERS_RECORD)
	@echo "make test: all checks passed"

install: ## build and install closte.so for each installed PHP (or PHP_VERSION=8.4), Debian style
	scripts/install-extension.sh install

uninstall: ## remove what make install installed
	scripts/install-extension.sh uninstall

# A killed matrix run can leave its chroot's mounts (read-only binds of the repository and the
# Rust toolchain, /proc): undo them before anything under target/ is deleted.
clean: ## cargo clean, remove dist/ (and a killed matrix run's mounts)
	-@for m in $$(findmnt -rn -o TARGET | grep -F "$(CURDIR)/target/php-" | sort -r); do umount -l "$$m"; done
	$(CARGO) clean
	rm -rf dist
