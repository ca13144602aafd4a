# Development tasks. Every target works without Go on PATH: Go lives at
# /usr/local/go on the machines this project is built on.
export PATH := /usr/local/go/bin:$(PATH)

# staticcheck v0.8.2 (2026.2.2) is the release built for the Go 1.26
# toolchain used here; `go run` builds it once and caches it.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

FUZZTIME ?= 60s
BENCH ?= .
ADDR ?= localhost:8080
TESTTIMEOUT ?= 40m
WSLOAD_CONNS ?= 10000
WSLOAD_DURATION ?= 60s

# The real-browser tests of the examples are a module of their own, since
# chromedp needs a newer Go than the library's go.mod allows.
BROWSERTEST := internal/browsertest

# The hub's Redis broker is a module of its own, so that the library never
# depends on a Redis client; its tests start redis-server.
REDISHUB := hub/redishub
# The chat example is a module of its own: with -redis it uses
# hub/redishub and its Redis client.
CHAT := examples/chat

.PHONY: all test lint conformance load abuse bench bench-compare fuzz cover run-echo

all: lint test

## test: go vet, every test with the race detector (the browser tests, which drive examples/chat too, and the hub/redishub module included), then the allocation tests without it (the race detector makes sync.Pool drop items) and the short form of the abuse suite (its timings and memory bounds are measured without the race detector's overhead)
test:
	go vet ./...
	go test -race -count=1 -timeout $(TESTTIMEOUT) $$(go list ./... | grep -v /internal/abuse)
	go test -count=1 -run 'SteadyStateAllocs' .
	go test -count=1 -timeout 10m -run '^TestAbuse$$' -v ./internal/abuse/
	cd $(BROWSERTEST) && go vet ./... && go test -race -count=1 -timeout 10m ./...
	cd $(REDISHUB) && go vet ./... && go test -race -count=1 -timeout $(TESTTIMEOUT) ./...
	cd $(CHAT) && go vet ./...

## conformance: every Autobahn case family against our server (netpoll, standard) and our client; fails on any FAILED case
conformance:
	go test -race -count=1 -timeout 20m -v -run 'Conformance|Broken' ./internal/conformance/

## load: the load test at full size, on 127.0.0.1: WSLOAD_CONNS connections (10000) echoing for WSLOAD_DURATION (60s) on each transport; make test runs it with 1000 for 5s
load:
	WSLOAD_CONNS=$(WSLOAD_CONNS) WSLOAD_DURATION=$(WSLOAD_DURATION) go test -count=1 -timeout 30m -run '^TestLoadEcho$$' -v .

## abuse: every attack of internal/abuse at full size (2,000 connections announcing 32 MiB, 100 messages of 32 MiB at once, 2,000 peers that never read, 20,000-connection churn, ...) on both transports, with the table of peak heap, peak RSS and the well-behaved client's latency; make test runs the short form
abuse:
	ABUSE=full go test -count=1 -timeout 60m -run '^TestAbuse$$' -v ./internal/abuse/

## lint: gofmt (no file may need formatting), go vet and staticcheck
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; \
	fi
	go vet ./...
	go run $(STATICCHECK) ./...
	cd $(BROWSERTEST) && go vet ./... && go run $(STATICCHECK) ./...
	cd $(REDISHUB) && go vet ./... && go run $(STATICCHECK) ./...
	cd $(CHAT) && go vet ./... && go run $(STATICCHECK) ./...

## bench: every benchmark, with allocations (BENCH=regexp to choose)
bench:
	go test -run '^$$' -bench '$(BENCH)' -benchmem ./...

## bench-compare: echo servers of this library and its peers under one load (bench/)
bench-compare:
	$(MAKE) -C bench compare

## fuzz: every Fuzz target of every package, FUZZTIME each (default 60s)
fuzz:
	@set -e; \
	for pkg in $$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		list="$$(go test -list '^Fuzz' "$$pkg")"; \
		for name in $$(printf '%s\n' "$$list" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## cover: tests with coverage; writes coverage.out and prints the total
cover:
	go test -count=1 -timeout $(TESTTIMEOUT) -covermode=atomic -coverprofile=coverage.out ./...
	@go tool cover -func=coverage.out | tail -n 1
	@echo "details: go tool cover -html=coverage.out"

## run-echo: the echo example on $(ADDR) (open http://$(ADDR)/)
run-echo:
	go run ./examples/echo -addr $(ADDR)
