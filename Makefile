# Imagesmith: the commands README names. Each target installs what it needs first.
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never
FIXTURES := $(CURDIR)/target/fixtures

.PHONY: setup fixtures run test lint test-engine test-app bench fuzz package

## setup: system packages (skips what is present), npm packages from the lock file
setup:
	scripts/setup.sh

fixtures: setup
	scripts/fixtures.sh $(FIXTURES)

## run: build the frontend and the app, open it on the per-user repository
run: setup
	scripts/app.sh run

## test: lint alongside the engine and CLI integration tests, then the app (unit, IPC, end-to-end)
# (lint and the engine tests at once; the app's tests after them, as they rebuild ui/dist, which the
# app's clippy check reads)
test:
	$(MAKE) --no-print-directory -j2 lint test-engine
	$(MAKE) --no-print-directory test-app

## lint: rustfmt, clippy with warnings as errors, and shipped migrations unchanged (digests in
## crates/engine/migrations/SHA256SUMS; the engine's db.rs test also names a migration missing from it)
# clippy builds the app with scripts/app.sh's feature set, so the two share their compiled crates.
lint: setup
	cargo fmt --all --check
	cd crates/engine/migrations && sha256sum --check --strict --quiet SHA256SUMS
	cd crates/engine/migrations/pg && sha256sum --check --strict --quiet SHA256SUMS
	[ -f ui/dist/index.html ] || npm --prefix ui run build
	cargo clippy --workspace --all-targets --features imagesmith/custom-protocol -- -D warnings

# The engine and CLI tests talk to real servers on 127.0.0.1 (sshd, FTP, FTPS, WebDAV, Glance,
# Keystone, a Secret Service), started here and stopped by PID afterwards.
# The lint tests compare with pykickstart's ksvalidator, in target/ks-venv (scripts/lint/ks-venv.sh).
test-engine: fixtures
	scripts/lint/ks-venv.sh
	IMAGESMITH_FIXTURES=$(FIXTURES) KSVALIDATOR=$(CURDIR)/target/ks-venv/bin/ksvalidator scripts/with-servers.sh cargo nextest run --no-fail-fast -p imagesmith-engine -p imagesmith-cli

test-app: setup
	scripts/app.sh test

## bench: release build, side-by-side figures against the standard tools
bench: setup
	scripts/bench.sh

## fuzz: coverage-guided fuzzing of every parser target (nightly, cargo-fuzz), FUZZ_SECONDS each
fuzz: setup
	scripts/fuzz.sh

## package: a .deb with a desktop entry and icon
package: setup
	scripts/app.sh package
