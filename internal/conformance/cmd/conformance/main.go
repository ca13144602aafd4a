// Command conformance runs the Autobahn-style conformance suite of
// internal/conformance against a WebSocket server, or serves it to a
// WebSocket client, and prints the report: a table of verdicts by case
// family, then every case that is not OK with its reason.
//
// Test a server (the fuzzer is the client):
//
//	go run ./internal/conformance/cmd/conformance -url ws://127.0.0.1:9001/
//	go run ./internal/conformance/cmd/conformance -url ws://127.0.0.1:9001/ -short -cases '1,2,6.4.*'
//
// Test a client (the fuzzer is the server): start it with -serve, then
// point the client at ws://ADDR/runCase?case=ID for every case (or at
// /getCaseCount and /runCase?case=N, N from 1, as with Autobahn's
// fuzzingserver); the client must echo every message. The report is
// printed once every selected case has run, or on interrupt.
//
//	go run ./internal/conformance/cmd/conformance -serve 127.0.0.1:9002 -cases '1,2,3'
//
// The exit status is 1 when a case FAILED.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/hertzws/websocket/internal/conformance"
)

func main() {
	var (
		url      = flag.String("url", "", "WebSocket server to test (ws://host:port/path)")
		serve    = flag.String("serve", "", "instead of -url: serve the suite on this address (host:port) to a client under test")
		short    = flag.Bool("short", false, "quick run: skip messages above 1 MiB (9.x), 3 messages per compression case")
		cases    = flag.String("cases", "*", "case patterns to run, comma-separated, Autobahn style: '*', '6.*', '1.1.1,7.9.*'; a bare family number means the family")
		exclude  = flag.String("exclude", "", "case patterns to leave out")
		extra    = flag.Bool("extra", true, "also run the masking cases of family X, which Autobahn lacks")
		parallel = flag.Int("parallel", 4, "cases run at once (the cases of families 9, 12 and 13 run after, two at a time)")
		messages = flag.Int("messages", 0, "messages per case of families 12 and 13 (0: Autobahn's 1000, or 3 with -short)")
		timeout  = flag.Duration("timeout", 0, "stop the whole run after this long (0: no limit)")
		origin   = flag.String("origin", "", "Origin header for the handshakes (testing a server)")
		verbose  = flag.Bool("v", false, "print every case's result as it completes")
		jsonOut  = flag.String("json", "", "also write the results as JSON to this file")
	)
	flag.Parse()
	if (*url == "") == (*serve == "") {
		fmt.Fprintln(os.Stderr, "conformance: give exactly one of -url (test a server) or -serve (test a client)")
		flag.Usage()
		os.Exit(2)
	}

	all := conformance.Cases()
	if *extra {
		all = append(all, conformance.ExtraCases()...)
	}
	selected := conformance.Select(all, conformance.SplitPatterns(*cases), conformance.SplitPatterns(*exclude))
	if len(selected) == 0 {
		fmt.Fprintln(os.Stderr, "conformance: no case matches", *cases)
		os.Exit(2)
	}

	opts := conformance.Options{
		Short:               *short,
		Parallel:            *parallel,
		CompressionMessages: *messages,
	}
	if *origin != "" {
		opts.Header = http.Header{"Origin": {*origin}}
	}
	if *verbose {
		opts.Progress = func(r conformance.Result) { fmt.Println(r) }
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if *timeout > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, *timeout)
		defer c()
	}

	var results []conformance.Result
	title := ""
	if *url != "" {
		title = "server " + *url
		results = conformance.RunClient(ctx, *url, selected, opts)
	} else {
		title = "client tested at " + *serve
		results = runServer(ctx, *serve, selected, opts)
	}

	rep := conformance.Report{Title: title, Results: results}
	fmt.Print(rep.String())
	if *jsonOut != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonOut, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
		}
	}
	if len(rep.Failed()) > 0 {
		os.Exit(1)
	}
}

// runServer serves the cases until each has a result or ctx ends.
func runServer(ctx context.Context, addr string, cases []conformance.Case, opts conformance.Options) []conformance.Result {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	srv := conformance.NewServer(cases, opts)
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("serving %d cases at ws://%s/runCase?case=ID (or case=1..%d); /getCaseCount answers the count\n", len(cases), ln.Addr(), len(cases))
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for len(srv.Results()) < len(cases) {
		select {
		case <-ctx.Done():
			fmt.Println("stopped:", ctx.Err())
			_ = ln.Close()
			return srv.Results()
		case <-tick.C:
		}
	}
	_ = ln.Close()
	return srv.Results()
}
