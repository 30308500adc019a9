# imscopy's front door. Every target goes through the Go toolchain chosen here, because
# go.temporal.io/server v1.32.2 needs Go 1.26.10 or newer and machines often have an older Go
# with GOTOOLCHAIN=local, which would refuse to build. The module proxy serves go1.27.3.

GO_NEEDED := 1.26.10
GO_FALLBACK := go1.27.3
# Ask the local Go from outside any module, so go.mod's go line cannot make it refuse to answer.
GO_LOCAL := $(shell cd / && GOTOOLCHAIN=local go env GOVERSION 2>/dev/null | sed -e 's/^go//')
GO_OLDEST := $(shell printf '%s\n%s\n' "$(GO_NEEDED)" "$(GO_LOCAL)" | sort -V | head -n1)
ifeq ($(GO_OLDEST),$(GO_NEEDED))
export GOTOOLCHAIN := local
else
export GOTOOLCHAIN := $(GO_FALLBACK)
endif

GO ?= go
BIN := bin
# The whole suite must stay well inside CI's 90 minutes on 2 cores; 30 minutes is the alarm.
TEST_TIMEOUT ?= 30m

.PHONY: all build temporal-bins test fuzz workflowcheck vet fmt demo emulator cluster bench chaos clean toolchain

all: build

toolchain:
	@echo "local Go: $(GO_LOCAL); using GOTOOLCHAIN=$(GOTOOLCHAIN)"
	@$(GO) version

# build: imscopy's programs, and the upstream Temporal server and its SQL tool at go.mod's version
# (go.mod's tool directives), named as in the temporalio images; `make cluster` and its tests run them.
build: temporal-bins
	$(GO) build -o $(BIN)/ ./cmd/...

temporal-bins:
	$(GO) build -o $(BIN)/temporal-server go.temporal.io/server/cmd/server
	$(GO) build -o $(BIN)/temporal-sql-tool go.temporal.io/server/cmd/tools/sql

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# test: formatting, vet, Temporal's workflowcheck, then every package. -p 2 matches the 2-core CI
# machines; the integration package links the Temporal server once and starts real processes, so it
# needs the build of `build`. Among the packages: deploy loads docker-compose.yml with the Compose
# loader and checks it against the code, cmd/worker scrapes the metrics endpoint after real copies,
# integration connects worker and starter over mTLS and records every workflow path, and workflows
# replays the recorded histories in workflows/copyimage/testdata/histories.
test: build workflowcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	IMSCOPY_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -p 2 -timeout $(TEST_TIMEOUT) ./...

# fuzz: each fuzz target of a decoder of outside input, for FUZZTIME each, one after another (go
# test fuzzes one target per run). Their seed corpora (testdata/fuzz too) already run in `make test`.
# -parallel 1 keeps it to one fuzzing process on the 2-core machines. A failure stops it; the input
# is saved under the package's testdata/fuzz, where it stays as a seed once the bug is fixed.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./workflows/copyimage:FuzzDecodeInput \
	./internal/planfile:FuzzParse \
	./imsapi:FuzzValidateCopyRequest \
	./cmd/starter:FuzzParseCopy \
	./cmd/starter:FuzzParsePromote
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -parallel 1 $$pkg; \
	done

# workflowcheck: Temporal's static analyser of workflow determinism (no wall clock, no map
# iteration order, no goroutines, no global state in workflow code) on every workflow package and
# on the bench's comparison workflows (cmd/bench's StrategyCopy and its waits); then
# on a workflow that calls time.Now, which it must reject for that call, so an analyser that checks
# nothing fails. A non-zero exit alone would not do: a crash, a build failure or a missing
# directory exits non-zero too, so its verdict must name time.Now, and what it said is shown if not.
WORKFLOWCHECK_VERSION := v0.6.0
WORKFLOWCHECK_REJECTS := StampedCopy is non-deterministic, reason: calls non-deterministic function time.Now
workflowcheck:
	GOBIN=$(CURDIR)/$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	$(BIN)/workflowcheck ./workflows/... ./cmd/bench
	@out=$$($(BIN)/workflowcheck ./workflows/testdata/nondeterministic 2>&1); status=$$?; \
	  if [ $$status -eq 0 ] || ! printf '%s\n' "$$out" | grep -qF '$(WORKFLOWCHECK_REJECTS)'; then \
	    printf '%s\n' "$${out:-(no output)}"; \
	    echo "workflowcheck (exit $$status, output above) did not reject workflows/testdata/nondeterministic for calling time.Now: the analyser is broken or checks nothing"; \
	    exit 1; \
	  fi

# demo: the emulator, the embedded Temporal server and a worker, then the seed copy with live progress.
demo: build
	$(BIN)/demo

# emulator: run the IMS emulator alone in the foreground (flags in docs/emulator.md).
emulator: build
	$(BIN)/imsemu $(EMU_ARGS)

# cluster: the production shape without Docker, from docker-compose.yml's settings: PostgreSQL from
# the installed packages, the upstream Temporal server on it, the emulator and two workers, until
# Ctrl-C (flags via CLUSTER_ARGS, e.g. "-dir .cluster -emulator-args '-job-duration 5s'").
cluster: build
	$(BIN)/cluster $(CLUSTER_ARGS)

# bench: the polling strategies side by side on the same seeded jobs (flags in docs/benchmarks.md, e.g.
# BENCH_ARGS="-n 1000 -strategies adaptive"); results.json and chart.svg go to bench-results/. Then a
# release's cross-region targets promoted by imscopy and by a naive fan-out (PROMOTE_ARGS, e.g.
# "-targets 12 -seed 2"); its results.json goes to bench-results/promote/. "-temporal cluster" in
# the arguments runs them on the upstream Temporal server on PostgreSQL (internal/cluster), whose
# binaries are built first.
bench:
	$(GO) build -o $(BIN)/bench ./cmd/bench
	$(if $(findstring cluster,$(BENCH_ARGS) $(PROMOTE_ARGS)),$(MAKE) temporal-bins)
	$(BIN)/bench $(BENCH_ARGS)
	$(BIN)/bench promote $(PROMOTE_ARGS)

# chaos: 500 copies, two workers, injected IMS faults, worker and server kills; exits non-zero if
# anything is lost (flags in docs/benchmarks.md, via CHAOS_ARGS; "-temporal cluster" runs it on the
# upstream Temporal server on PostgreSQL).
chaos:
	$(GO) build -o $(BIN)/bench ./cmd/bench
	$(if $(findstring cluster,$(CHAOS_ARGS)),$(MAKE) temporal-bins)
	$(BIN)/bench chaos $(CHAOS_ARGS)

clean:
	rm -rf $(BIN) .imscopy
