# The README's two commands: `make run` (the stack) and `make test` (the suite).
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
WORKFLOWCHECK_VERSION := v0.6.0
STATICCHECK_VERSION := v0.8.2
GOFLAGS_TEST ?= -race -count=1 -timeout 20m

.PHONY: tools build run test lint demo bench clean fixtures

## tools: the pinned Temporal CLI, workflowcheck and staticcheck, built from the Go module proxy (once)
tools: $(BIN)/temporal $(BIN)/workflowcheck $(BIN)/staticcheck

$(BIN)/temporal:
	@command -v $(GO) >/dev/null || { echo "make: Go is not installed (https://go.dev/dl, 1.26 or newer)"; exit 1; }
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (about 3 minutes the first time)…"
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(BIN)/workflowcheck:
	GOBIN=$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## build: the worker, the simulator, the starter and the stack runner into bin/
build:
	$(GO) build -o $(BIN)/worker ./worker
	$(GO) build -o $(BIN)/herokusim ./internal/dev/cmd/herokusim
	$(GO) build -o $(BIN)/devstack ./internal/dev/cmd/devstack
	$(GO) build -o $(BIN)/starter ./starter
	$(GO) build -o $(BIN)/demo ./internal/dev/cmd/demo

## run: the whole stack on the embedded default, in this terminal (Ctrl-C stops it)
run: tools build
	@$(BIN)/devstack

## test: the whole suite with the race detector, integration tests included
test: tools build
	$(GO) test $(GOFLAGS_TEST) ./...

## lint: formatting, a tidy go.mod, go vet, staticcheck and Temporal's determinism check of the workflows
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go mod tidy would change go.mod/go.sum: run it"; exit 1; }
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck ./workflows/...

## demo: a partner integration and a customer, end to end, against `make run`
demo: build
	@$(BIN)/demo

## bench: throughput, latency, Heroku budget and memory, with baselines (BENCH_FLAGS=-h lists the flags)
bench: tools build
	$(GO) run ./internal/dev/cmd/bench $(BENCH_FLAGS)

clean:
	rm -rf $(BIN)/worker $(BIN)/herokusim $(BIN)/devstack $(BIN)/starter $(BIN)/demo

## fixtures: record replay fixtures from the dev server (commit workflow changes first)
fixtures: tools
	$(GO) run ./internal/dev/cmd/fixturegen
