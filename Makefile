# Imagesmith: the commands README names. Each target installs what it needs first.
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never
FIXTURES := $(CURDIR)/target/fixtures

.PHONY: setup fixtures run test test-engine test-app bench package

## setup: system packages (skips what is present), npm packages from the lock file
setup:
	scripts/setup.sh

fixtures: setup
	scripts/fixtures.sh $(FIXTURES)

## run: build the frontend and the app, open it on the per-user repository
run: setup
	scripts/app.sh run

## test: every test — engine and CLI integration tests, then the app (unit, IPC, end-to-end)
test: test-engine test-app

# The engine and CLI tests talk to real servers on 127.0.0.1 (sshd, FTP, FTPS, WebDAV, Glance,
# Keystone, a Secret Service), started here and stopped by PID afterwards.
test-engine: fixtures
	IMAGESMITH_FIXTURES=$(FIXTURES) scripts/with-servers.sh cargo nextest run --no-fail-fast -p imagesmith-engine -p imagesmith-cli

test-app: setup
	scripts/app.sh test

## bench: release build, side-by-side figures against the standard tools
bench: setup
	scripts/bench.sh

## package: a .deb with a desktop entry and icon
package: setup
	scripts/app.sh package
