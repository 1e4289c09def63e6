# The README's two commands: `make run` (the stack) and `make test` (the suite).
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
WORKFLOWCHECK_VERSION := v0.6.0
STATICCHECK_VERSION := v0.8.2
# make cluster's production topology, built from the Go module proxy: the Temporal server and
# its SQL tool, and the Temporal UI server (the versions inside the pinned CLI; docker-compose.yml
# runs the same as images, and a test keeps the three in step).
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_UI_VERSION := v2.42.1
CLUSTER_TOOLS := $(BIN)/temporal-server-$(TEMPORAL_SERVER_VERSION) $(BIN)/temporal-sql-tool-$(TEMPORAL_SERVER_VERSION) $(BIN)/temporal-ui-server-$(TEMPORAL_UI_VERSION)
# go install names a binary after its folder (the server and the UI server are both `server`):
# install into a folder of its own, then give it its versioned name.
GO_INSTALL_AS = d=$$(mktemp -d) && GOBIN=$$d $(GO) install $(1) && mv $$d/* $(2) && rmdir $$d
# Heroku's own clients, from npm: the published Platform API definitions (make tools) and the
# CLI (make fidelity). Each version installs into its own folder under bin/npm.
HEROKU_SCHEMA_VERSION := 2.0.1
HEROKU_CLI_VERSION := 11.10.0
NPM_DIR := $(BIN)/npm
HEROKU_SCHEMA := $(NPM_DIR)/schema-$(HEROKU_SCHEMA_VERSION)/node_modules/@heroku-cli/schema/lib/index.d.ts
HEROKU_CLI := $(NPM_DIR)/heroku-$(HEROKU_CLI_VERSION)/node_modules/.bin/heroku
CONNECT_PLUGIN_SRC ?= $(abspath $(CURDIR)/../shared)
CONNECT_PLUGIN_DIR ?= $(NPM_DIR)/heroku-connect-plugin
NPM_INSTALL = @command -v npm >/dev/null || { echo "make: npm is not installed: Node.js 20 or newer with npm (Debian: apt-get install nodejs npm)"; exit 1; }; npm install --no-audit --no-fund --ignore-scripts --loglevel=error
GOFLAGS_TEST ?= -race -count=1 -timeout 20m
# Go fuzz targets (package:function): their seed corpora run with every `go test`; make test
# also fuzzes each for FUZZ_SHORT, and make fuzz for FUZZTIME.
FUZZ_TARGETS := ./workflows/contract:FuzzConnectionInputValidation ./workflows/contract:FuzzPartnerSpecValidation \
	./workflows/contract:FuzzWorkflowIDs ./internal/returnstate:FuzzVerify ./internal/strictjson:FuzzDecode \
	./internal/logo:FuzzCheck ./internal/heroku:FuzzDecodeAnswers ./internal/dev/herokusim:FuzzHandlers
FUZZ_SHORT ?= 2s
FUZZTIME ?= 1m
# A run that fails is shown and run again: a crash it found is kept in testdata/fuzz and fails
# the second run too, while the fuzzing engine's own hiccups on a loaded machine (a worker
# that did not answer within a 2 s run) do not fail the build.
FUZZ = for t in $(FUZZ_TARGETS); do echo "fuzzing $$t for $(1)"; log=$$(mktemp); \
	$(GO) test -run '^$$' -fuzz "^$${t\#\#*:}\$$" -fuzztime $(1) "$${t%%:*}" >$$log 2>&1 || { tail -20 $$log; echo "fuzzing $$t again"; \
	$(GO) test -run '^$$' -fuzz "^$${t\#\#*:}\$$" -fuzztime $(1) "$${t%%:*}" >$$log 2>&1 || { tail -20 $$log; rm -f $$log; exit 1; }; }; rm -f $$log; done

.PHONY: tools build run test lint demo bench clean fixtures fidelity fuzz chaos cluster-tools cluster cluster-test

## tools: the pinned Temporal CLI, workflowcheck and staticcheck, built from the Go module proxy, and Heroku's published resource definitions from npm (once)
tools: $(BIN)/temporal $(BIN)/workflowcheck $(BIN)/staticcheck $(HEROKU_SCHEMA)

$(HEROKU_SCHEMA):
	$(NPM_INSTALL) --prefix $(NPM_DIR)/schema-$(HEROKU_SCHEMA_VERSION) @heroku-cli/schema@$(HEROKU_SCHEMA_VERSION)

$(HEROKU_CLI):
	@echo "installing the Heroku CLI $(HEROKU_CLI_VERSION) from npm into bin/npm (about a minute the first time)…"
	$(NPM_INSTALL) --prefix $(NPM_DIR)/heroku-$(HEROKU_CLI_VERSION) heroku@$(HEROKU_CLI_VERSION)

$(BIN)/temporal:
	@command -v $(GO) >/dev/null || { echo "make: Go is not installed (https://go.dev/dl, 1.26 or newer)"; exit 1; }
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (about 3 minutes the first time)…"
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

## cluster-tools: the Temporal server, its SQL tool and the UI server for make cluster, built from the Go module proxy (a few minutes the first time)
cluster-tools: $(CLUSTER_TOOLS)

$(BIN)/temporal-server-$(TEMPORAL_SERVER_VERSION):
	@echo "building the Temporal server $(TEMPORAL_SERVER_VERSION) into bin/ (a few minutes the first time)…"
	@$(call GO_INSTALL_AS,go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION),$@)

$(BIN)/temporal-sql-tool-$(TEMPORAL_SERVER_VERSION):
	@echo "building Temporal's SQL schema tool $(TEMPORAL_SERVER_VERSION) into bin/…"
	@$(call GO_INSTALL_AS,go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION),$@)

$(BIN)/temporal-ui-server-$(TEMPORAL_UI_VERSION):
	@echo "building the Temporal UI server $(TEMPORAL_UI_VERSION) into bin/ (a few minutes the first time)…"
	@$(call GO_INSTALL_AS,github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_VERSION),$@)

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
	$(GO) build -o $(BIN)/cluster ./internal/dev/cmd/cluster

## run: the whole stack on the embedded default, in this terminal (Ctrl-C stops it)
run: tools build
	@$(BIN)/devstack

## cluster: the production topology as local processes (PostgreSQL, Temporal server, UI server, codec server, herokusim, two versioned workers, Prometheus), in this terminal; NEXT_WORKER=path adds a second build's worker beside them
cluster: tools cluster-tools build
	@$(BIN)/cluster $(if $(NEXT_WORKER),-next-worker $(abspath $(NEXT_WORKER)) $(if $(NEXT_BUILD_ID),-next-build-id $(NEXT_BUILD_ID)))

## cluster-test: on that topology, onboardings through worker kills and a server restart, the upgrade drill, and the UI decoding payloads in headless Chromium (CI runs it)
cluster-test: tools cluster-tools build
	set -o pipefail; $(GO) test -tags cluster -race -count=1 -timeout 30m -v ./internal/dev/clustertest/ | grep -v "^=== "

## test: the whole suite with the race detector, integration tests included
test: tools build
	HEROKU_SCHEMA_DTS=$(HEROKU_SCHEMA) $(GO) test $(GOFLAGS_TEST) ./...
	@$(call FUZZ,$(FUZZ_SHORT))

## fuzz: every fuzz target for FUZZTIME (1m each); a crash's input lands in its testdata/fuzz to be fixed and kept
fuzz:
	@$(call FUZZ,$(FUZZTIME))

## lint: formatting, a tidy go.mod, go vet, staticcheck, Temporal's determinism check of the workflows, and the Prometheus rules (promtool)
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go mod tidy would change go.mod/go.sum: run it"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags cluster ./internal/dev/clustertest/
	$(BIN)/staticcheck ./...
	$(BIN)/staticcheck -tags cluster ./internal/dev/clustertest/
	$(BIN)/workflowcheck ./workflows/...
	@command -v promtool >/dev/null || { echo "promtool is missing: install Debian's prometheus package (apt-get install prometheus)"; exit 1; }
	promtool check rules docker/prometheus/rules.yml
	promtool check config docker/prometheus/prometheus.yml
	cd docker/prometheus && promtool test rules rules_test.yml

## demo: a partner integration and a customer, end to end, against `make run`
demo: build
	@$(BIN)/demo

## bench: throughput, latency, Heroku budget and memory, with baselines (BENCH_FLAGS=-h lists the flags)
bench: tools build
	$(GO) run ./internal/dev/cmd/bench $(BENCH_FLAGS)

clean:
	rm -rf $(BIN)/worker $(BIN)/herokusim $(BIN)/devstack $(BIN)/starter $(BIN)/demo $(BIN)/cluster

## chaos: the guarantees under worker kills, a Temporal restart and a Heroku fault storm, with numbers (CHAOS_FLAGS=-h lists the flags)
chaos: tools build
	$(GO) run ./internal/dev/cmd/chaos $(CHAOS_FLAGS)

## fidelity: the real Heroku CLI (npm, pinned) through an ISV operator's add-on and app commands, and Heroku's Connect CLI plugin on an onboarded customer's connection, against herokusim
fidelity: build $(HEROKU_CLI) $(CONNECT_PLUGIN_DIR)/dist/commands/connect/state.js
	$(GO) run ./internal/dev/cmd/fidelity -heroku $(HEROKU_CLI) -herokusim $(BIN)/herokusim -connect-plugin $(CONNECT_PLUGIN_DIR)

# Heroku's Connect CLI plugin is not on the npm registry reached here: it is built from its
# source (CONNECT_PLUGIN_SRC, see ../shared/heroku-connect-plugin.md), unless
# CONNECT_PLUGIN_DIR names a built one.
$(CONNECT_PLUGIN_DIR)/dist/commands/connect/state.js:
	@test -x $(CONNECT_PLUGIN_SRC)/tools/build-connect-plugin.sh || { echo "make: Heroku's Connect CLI plugin source is missing at $(CONNECT_PLUGIN_SRC): set CONNECT_PLUGIN_SRC, or CONNECT_PLUGIN_DIR to a built plugin"; exit 1; }
	$(CONNECT_PLUGIN_SRC)/tools/build-connect-plugin.sh $(CONNECT_PLUGIN_DIR)

## fixtures: record replay fixtures from the dev server (commit workflow changes first)
fixtures: tools
	$(GO) run ./internal/dev/cmd/fixturegen
