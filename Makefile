# Development tasks; `make help` lists them.
#
# GO is the go command: the one on PATH, else /usr/local/go/bin/go, where the
# machines this project is built on keep it. Its directory goes first on
# PATH, so that tests which run go themselves use the same toolchain.
GO ?= $(firstword $(shell command -v go 2>/dev/null) /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)

# staticcheck v0.8.2 (2026.2.2) is the release built for the Go 1.26
# toolchain used here; `go run` builds it once and caches it.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

FUZZTIME ?= 60s
BENCH ?= .
ADDR ?= localhost:8080
TESTTIMEOUT ?= 40m
WSLOAD_CONNS ?= 10000
WSLOAD_DURATION ?= 60s
SCALE_CONNS ?= 200000

# The real-browser tests of the examples are a module of their own, since
# chromedp needs a newer Go than the library's go.mod allows.
BROWSERTEST := internal/browsertest

# The tests that judge the library against other WebSocket implementations
# (gorilla/websocket, coder/websocket, x/net/websocket, Node's ws) are a
# module of their own, so that the library's go.mod requires none of them.
INTEROP := internal/interop

# The hub's Redis broker is a module of its own, so that the library never
# depends on a Redis client; its tests start redis-server.
REDISHUB := hub/redishub
# The chat example is a module of its own: with -redis it uses
# hub/redishub and its Redis client.
CHAT := examples/chat

# The Prometheus exporter of the library's metrics is a module of its own,
# so that the library never depends on client_golang.
METRICS := metrics/prometheus

.PHONY: all help check test cross lint conformance load abuse scale bench bench-compare fuzz cover run-echo

all: lint test

## help: this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST) | sed 's/: /\t/' | expand -t 16

## check: the quick loop, a few minutes: the Windows and macOS vet (make cross), then go vet and every test of the library's module and of the interop module with -short and no race detector
check: cross
	$(GO) vet ./...
	$(GO) test -short -count=1 -timeout $(TESTTIMEOUT) ./...
	cd $(INTEROP) && $(GO) vet ./... && $(GO) test -short -count=1 -timeout $(TESTTIMEOUT) ./...

## cross: go vet of the library and its tests, and of the interop module, for Windows and macOS, which this machine cannot run
cross:
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	cd $(INTEROP) && GOOS=windows $(GO) vet ./... && GOOS=darwin $(GO) vet ./...

## test: go vet, every test with the race detector (the interop module, the browser tests, which drive examples/chat too, the hub/redishub, metrics/prometheus and examples/chat modules included), then the allocation tests without it (the race detector makes sync.Pool drop items) and the short forms of the abuse suite and of make scale (their timings and memory bounds are measured without the race detector's overhead)
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TESTTIMEOUT) $$($(GO) list ./... | grep -v /internal/abuse)
	$(GO) test -count=1 -run 'SteadyStateAllocs' .
	$(GO) test -count=1 -timeout 10m -run '^TestAbuse$$' -v ./internal/abuse/
	$(MAKE) -C bench scale-short
	cd $(INTEROP) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...
	cd $(BROWSERTEST) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 10m ./...
	cd $(REDISHUB) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...
	cd $(METRICS) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...
	cd $(CHAT) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...

## conformance: every Autobahn case family against our server (netpoll, standard) and our client; fails on any FAILED case
conformance:
	$(GO) test -race -count=1 -timeout 20m -v -run 'Conformance|Broken' ./internal/conformance/

## load: the load test at full size, on 127.0.0.1: WSLOAD_CONNS connections (10000) echoing for WSLOAD_DURATION (60s) on each transport; make test runs it with 1000 for 5s
load:
	WSLOAD_CONNS=$(WSLOAD_CONNS) WSLOAD_DURATION=$(WSLOAD_DURATION) $(GO) test -count=1 -timeout 30m -run '^TestLoadEcho$$' -v .

## abuse: every attack of internal/abuse at full size (2,000 connections announcing 32 MiB, 100 messages of 32 MiB at once, 2,000 peers that never read, 20,000-connection churn, ...) on both transports and against the event-driven mode on netpoll, with the table of peak heap, peak RSS and the well-behaved client's latency; make test runs the short form
abuse:
	ABUSE=full $(GO) test -count=1 -timeout 60m -run '^TestAbuse$$' -v ./internal/abuse/

## scale: what idle connections cost the server, at SCALE_CONNS (200,000) connections with 1% echoing once a second, for the event-driven and the blocking mode on both transports (bench/cmd/scale; spread over several server processes where the open-file limit requires); make test runs a 2,000-connection short form that fails above 4 KiB of RSS or 0.05 goroutines per idle event-driven connection
scale:
	$(MAKE) -C bench scale CONNS=$(SCALE_CONNS)

## lint: gofmt (no file may need formatting), go vet and staticcheck, and make cross
lint: cross
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd $(INTEROP) && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd $(BROWSERTEST) && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd $(REDISHUB) && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd $(METRICS) && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd $(CHAT) && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...

## bench: every benchmark, with allocations (BENCH=regexp to choose)
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...

## bench-compare: echo servers of this library and its peers under one load (bench/)
bench-compare:
	$(MAKE) -C bench compare

## fuzz: every Fuzz target of every package, FUZZTIME each (default 60s)
fuzz:
	@set -e; \
	for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		list="$$($(GO) test -list '^Fuzz' "$$pkg")"; \
		for name in $$(printf '%s\n' "$$list" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## cover: tests with coverage; writes coverage.out and prints the total
cover:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) -covermode=atomic -coverprofile=coverage.out ./...
	@$(GO) tool cover -func=coverage.out | tail -n 1
	@echo "details: go tool cover -html=coverage.out"

## run-echo: the echo example on $(ADDR) (open http://$(ADDR)/)
run-echo:
	$(GO) run ./examples/echo -addr $(ADDR)
