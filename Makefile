# Build, lint and test entry points for ttrpc-go.
#
# The repository holds several Go modules (the library at the root, and
# nested test modules such as interop/ and benchmarks/ that may pull in
# grpc). Every target that acts on "all modules" discovers them at run time
# from their go.mod files, so new nested modules are picked up without edits.
#
# `make test` is what CI runs (through .ci/run). It is ordered so that cheap
# checks fail first: build, vet, staticcheck, generated code, unit tests,
# fuzz smoke, interop, benchmark smoke.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Targets of `make test` run strictly in the order they are listed, even
# under `make -j`: the machine is small and fail-fast ordering matters more.
.NOTPARALLEL:

GO ?= go
# A read-only module graph: a test run must never rewrite go.mod/go.sum,
# even where the environment's GOFLAGS says -mod=mod. Other flags from the
# environment (CI sets -buildvcs=false, for one) are kept.
override GOFLAGS := $(strip $(filter-out -mod=%,$(GOFLAGS)) -mod=readonly)
export GOFLAGS

GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(GOBIN_DIR)/staticcheck

FUZZTIME ?= 30s
# The smoke run counts executions rather than seconds: with a time budget,
# the fuzzing engine reports "context deadline exceeded" as a failure when
# the budget ends while a worker is inside a slow input (some inputs
# legitimately wait a second for a full stream), which would make CI flaky.
FUZZ_SMOKE_TIME ?= 2000x

# Directories (relative, without the leading ./) holding a go.mod, root first.
# testdata/ trees are not modules of this repository, the go tool ignores them.
MODULES := $(shell find . -name go.mod -not -path './.git/*' -not -path '*/testdata/*' \
	-printf '%h\n' | sed -e 's|^\./||' | LC_ALL=C sort)
# interop/ and consumers/ have their own targets; running them twice per
# `make test` wastes minutes.
UNIT_MODULES := $(filter-out interop consumers,$(MODULES))

# $(call banner,text) prints a line that stands out in long CI logs.
banner = printf '\n==== %s ====\n' "$(1)"
# $(call skip,text) prints a loud notice for a step that could not run.
skip = printf '\n!!!!!!!! SKIPPED: %s !!!!!!!!\n\n' "$(1)"

.PHONY: all help build vet staticcheck lint tools protoc unit test \
	generate check-generated check-dce interop bench-smoke bench footprint \
	fuzz fuzz-smoke soak modules consumers consumers-containerd

all: build

help:
	@echo 'Targets:'
	@echo '  build            go build ./... in every module'
	@echo '  vet              go vet ./... in every module'
	@echo '  lint             vet + staticcheck $(STATICCHECK_VERSION) in every module'
	@echo '  unit             go test -race -count=1 ./... in every module but interop/'
	@echo '  test             build, lint, check-generated, check-dce, unit, fuzz-smoke, interop, bench-smoke'
	@echo '  generate         regenerate protobuf code (scripts/generate.sh)'
	@echo '  check-generated  fail if generated code is stale (scripts/check-generated.sh)'
	@echo '  check-dce        fail if a minimal server loses method dead-code elimination or links the client call path (scripts/check-dce.sh)'
	@echo '  interop          tests against containerd/ttrpc and grpc (interop/)'
	@echo '  consumers        NRI and otelttrpc on the compat module (consumers/)'
	@echo '  consumers-containerd  containerd v2 on the compat module (slow)'
	@echo '  bench            full benchmarks (benchmarks/run.sh)'
	@echo '  bench-smoke      every benchmark once (-benchtime=1x)'
	@echo '  footprint        memory/binary footprint report (benchmarks/footprint.sh)'
	@echo '  fuzz             every Fuzz* target of the root package for FUZZTIME=$(FUZZTIME)'
	@echo '  fuzz-smoke       the same for $(FUZZ_SMOKE_TIME) each'
	@echo '  soak             long-running soak test (scripts/soak.sh)'
	@echo '  tools            install staticcheck; protoc: install protoc (as root, via apt)'

modules:
	@printf '%s\n' $(MODULES)

build:
	@$(call banner,build)
	@for m in $(MODULES); do \
		echo "go build ./... ($$m)"; \
		(cd "$$m" && $(GO) build ./...); \
	done

vet:
	@$(call banner,vet)
	@for m in $(MODULES); do \
		echo "go vet ./... ($$m)"; \
		(cd "$$m" && $(GO) vet ./...); \
	done

staticcheck: tools
	@$(call banner,staticcheck $(STATICCHECK_VERSION))
	@for m in $(MODULES); do \
		echo "staticcheck ./... ($$m)"; \
		(cd "$$m" && "$(STATICCHECK)" ./...); \
	done

lint: vet staticcheck

# Installs the pinned staticcheck unless that exact version is already there.
# v0.8.x is the first line that understands Go 1.26 toolchains.
tools:
	@if ! [ -x "$(STATICCHECK)" ] || \
		! "$(STATICCHECK)" -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION:v%=%))'; then \
		echo "installing staticcheck $(STATICCHECK_VERSION) into $(GOBIN_DIR)"; \
		GOBIN="$(GOBIN_DIR)" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

protoc:
	@if command -v protoc >/dev/null 2>&1; then \
		protoc --version; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "protoc missing: installing protobuf-compiler with apt-get"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q protobuf-compiler; \
		protoc --version; \
	else \
		echo "protoc is missing and we are not root: install protobuf-compiler (apt-get install protobuf-compiler)" >&2; \
		exit 1; \
	fi

unit:
	@$(call banner,unit tests (race))
	@for m in $(UNIT_MODULES); do \
		echo "go test -race -count=1 ./... ($$m)"; \
		(cd "$$m" && $(GO) test -race -count=1 ./...); \
	done

generate:
	@if [ -f scripts/generate.sh ]; then \
		$(MAKE) --no-print-directory protoc; \
		bash scripts/generate.sh; \
	else \
		$(call skip,generate: scripts/generate.sh does not exist yet); \
		exit 1; \
	fi

check-generated:
	@$(call banner,check-generated)
	@if [ -f scripts/check-generated.sh ]; then \
		$(MAKE) --no-print-directory protoc; \
		bash scripts/check-generated.sh; \
	else \
		$(call skip,check-generated: scripts/check-generated.sh does not exist yet); \
	fi

# A reachable reflective method call makes the linker keep every exported
# method of the whole program (about a megabyte for a small server); the
# script asks the linker itself, so it cannot flake.
check-dce:
	@$(call banner,check-dce)
	@bash scripts/check-dce.sh

interop:
	@$(call banner,interop)
	@if [ -f interop/go.mod ]; then \
		cd interop && $(GO) test -race -count=1 ./...; \
	else \
		$(call skip,interop: interop/go.mod does not exist yet); \
	fi

# Published consumers of containerd/ttrpc built on compat/ (the module that
# says `module github.com/containerd/ttrpc`) and run side by side with
# containerd/ttrpc; the tests edit copies of them, so the module graph of
# those copies is writable (GOFLAGS is set per command by the tests).
consumers:
	@$(call banner,consumers)
	cd consumers && $(GO) test -race -count=1 ./...

consumers-containerd:
	@$(call banner,consumers-containerd)
	cd consumers && $(GO) test -count=1 -timeout 40m -tags consumers_containerd -run '^TestContainerd' ./...

bench-smoke:
	@$(call banner,bench-smoke)
	@if [ -f benchmarks/go.mod ]; then \
		cd benchmarks && $(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./...; \
	else \
		$(call skip,bench-smoke: benchmarks/go.mod does not exist yet); \
	fi

bench:
	@if [ -f benchmarks/run.sh ]; then \
		bash benchmarks/run.sh; \
	else \
		$(call skip,bench: benchmarks/run.sh does not exist yet); \
		exit 1; \
	fi

footprint:
	@if [ -f benchmarks/footprint.sh ]; then \
		bash benchmarks/footprint.sh; \
	else \
		$(call skip,footprint: benchmarks/footprint.sh does not exist yet); \
		exit 1; \
	fi

# Fuzzing works on one package and one target per `go test` run, so each
# Fuzz* function of the root package gets its own run of $(1).
define run_fuzz
	@$(call banner,fuzz $(1) each)
	@list="$$($(GO) test -list '^Fuzz' .)"; \
	targets="$$(printf '%s\n' "$$list" | grep '^Fuzz' || true)"; \
	if [ -z "$$targets" ]; then \
		$(call skip,fuzz: no Fuzz* targets in the root package); \
		exit 0; \
	fi; \
	for t in $$targets; do \
		echo "fuzzing $$t for $(1)"; \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(1) -fuzzminimizetime 10s . ; \
	done
endef

fuzz:
	$(call run_fuzz,$(FUZZTIME))

fuzz-smoke:
	$(call run_fuzz,$(FUZZ_SMOKE_TIME))

soak:
	@$(call banner,soak)
	@if [ -f scripts/soak.sh ]; then \
		bash scripts/soak.sh; \
	else \
		echo "scripts/soak.sh does not exist yet: running go test -tags soak -run TestSoak"; \
		$(GO) test -count=1 -tags soak -run TestSoak -v ./...; \
	fi

test: build lint check-generated check-dce unit fuzz-smoke interop bench-smoke
	@$(call banner,make test: all steps passed)
