# azlin's build, test and demo entry points. `make test` and `make demo` are
# the two commands a fresh machine needs (see README.md).
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/azlin-dev/azlin/internal/version.Version=$(VERSION) -X github.com/azlin-dev/azlin/internal/version.Commit=$(COMMIT)
PREFIX ?= /usr/local

.PHONY: all build test lint install deps local-cloud vm-image demo azure-smoke bench conformance clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/azlin ./cmd/azlin

# The local cloud: the az emulator, installed as `az` in a folder of its own
# that tests and the demo put first on PATH.
local-cloud:
	$(GO) build -o build/local-cloud/az ./localcloud/cmd/az

# The Debian 13 image every VM host of the local cloud boots (sshd, real
# cloud-init): built with mmdebstrap by scripts/rootfs.sh vm the first time
# (about 2 minutes), then reused from its machine-wide cache
# ($AZLIN_ROOTFS_CACHE, default /var/cache/azlin/rootfs).
vm-image:
	@bash scripts/rootfs.sh vm >/dev/null

# System packages the tests and the demo need (sshd for the VM hosts).
deps:
	@bash scripts/deps.sh

# Every az call the tests make is kept in build/conformance.log for `make conformance`.
# The tag localcloud builds the tests that boot the local cloud's VM hosts
# (they need root); a plain `go test ./...` runs the others.
test: deps build local-cloud vm-image
	@rm -f build/conformance.log
	AZLIN_CONFORMANCE_LOG=$(CURDIR)/build/conformance.log AZEMU_TEST_LOG=$(CURDIR)/build/conformance.log \
		$(GO) test -tags localcloud -count=1 -timeout 20m ./...

# Every shell script azlin ships: the on-VM script parts (a generated header
# of values, then lib.sh, layout.sh and a body; each part says shell=bash),
# the developer scripts and the CI entry point.
SHELL_SCRIPTS := $(wildcard internal/vmscript/sh/*.sh scripts/*.sh) .ci/run

lint: deps
	shellcheck $(SHELL_SCRIPTS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags localcloud ./...
	$(GO) test -count=1 ./internal/cost -run TestNoPriceLiteralsOutsideCost
	bash scripts/check-imports.sh

install: build
	install -m 0755 bin/azlin $(DESTDIR)$(PREFIX)/bin/azlin

demo: deps build local-cloud vm-image
	@bash scripts/demo.sh

# The demo scenario against the az on PATH (real Azure: AZLIN_SMOKE_SUBSCRIPTION
# names the subscription it may use), recorded; AZLIN_SMOKE_LOCAL=1 runs it on
# the local cloud, as CI does. See scripts/azure-smoke.sh.
azure-smoke: build local-cloud vm-image
	@bash scripts/azure-smoke.sh

# The speed targets of "Fast on Azure's clock" (BenchmarkTargets in
# cmd/azlin), printed as one table, each measured ratio beside its target;
# BENCH=. runs every benchmark of the repository instead.
BENCH ?= Targets
bench: deps build local-cloud vm-image
	$(GO) test -tags localcloud -run '^$$' -bench '$(BENCH)' -benchtime 1x -timeout 60m ./...

# Checks every az command line of the last `make test` (or, without one, of
# the emulator's own tests) against the real Azure CLI's argument parser:
# Debian 13's az 2.74 in a cached root filesystem (scripts/az-rootfs.sh, a
# few minutes to build the first time; AZLIN_ROOTFS_CACHE moves the cache),
# and Debian 12's az 2.45 for what 2.74 cannot load.
conformance:
	@if [ -s build/conformance.log ]; then bash scripts/conformance.sh build/conformance.log; else bash scripts/conformance.sh; fi

clean:
	rm -rf bin build
