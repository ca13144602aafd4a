package conformance_test

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/conformance"
)

var casesFlag = flag.String("conformance.cases", "", "case patterns to run (comma-separated, Autobahn style: 6.*,7.9.1); empty runs all")

func init() {
	hlog.SetOutput(io.Discard)
}

type transport struct {
	name string
	opts []config.Option
}

var transports = []transport{
	{name: "netpoll"},
	{name: "standard", opts: []config.Option{server.WithTransport(standard.NewTransporter)}},
}

// startEchoServer serves our echo on 127.0.0.1 with Hertz on tr and
// returns its ws:// URL: the blocking handler echo, or with events the
// event-driven mode (HertzUpgrader.UpgradeEvents) writing every message
// back from OnMessage.
func startEchoServer(t testing.TB, tr transport, events bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]config.Option{server.WithListener(ln), server.WithExitWaitTime(time.Second)}, tr.opts...)
	h := server.New(opts...)
	u := &websocket.HertzUpgrader{
		EnableCompression: true,
		ReadLimit:         64 << 20,
		CheckOrigin:       func(*app.RequestContext) bool { return true },
	}
	h.GET("/", func(_ context.Context, ctx *app.RequestContext) {
		if events {
			_ = u.UpgradeEvents(ctx, echoEvents)
			return
		}
		_ = u.Upgrade(ctx, echo)
	})
	go func() { _ = h.Run() }()
	addr := ln.Addr().String()
	waitListening(t, addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return "ws://" + addr + "/"
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server at %s never listened", addr)
}

// echo sends back every message through NextReader/NextWriter, so that a
// fragmented message is streamed, not buffered.
func echo(c *websocket.Conn) {
	for {
		mt, r, err := c.NextReader()
		if err != nil {
			return
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return
		}
		if _, err := io.Copy(w, r); err != nil {
			return
		}
		if err := w.Close(); err != nil {
			return
		}
	}
}

// echoEvents is echo for the event-driven mode.
var echoEvents = &websocket.EventFuncs{
	Message: func(c *websocket.Conn, mt int, data []byte) { _ = c.WriteMessage(mt, data) },
}

// suiteOptions are the options of the tests: Short in -short mode (no
// message above 1 MiB, 3 messages per compression case), and in full mode
// fullMessages messages per case of families 12 and 13 instead of
// Autobahn's 1000, which under the race detector would take an hour.
// CONFORMANCE_MESSAGES=N sets the count.
func suiteOptions(fullMessages int) conformance.Options {
	opts := conformance.Options{
		Short:    testing.Short(),
		Parallel: 4,
		// Race-detector builds beside other test binaries are slow:
		// double Autobahn's waits so that speed is not judged.
		TimeScale: 2,
	}
	if !testing.Short() {
		opts.CompressionMessages = fullMessages
	}
	if n, err := strconv.Atoi(os.Getenv("CONFORMANCE_MESSAGES")); err == nil && n > 0 {
		opts.CompressionMessages = n
	}
	return opts
}

// verbose logs every result as it comes when CONFORMANCE_VERBOSE is set.
func verbose(t *testing.T, opts *conformance.Options) {
	if os.Getenv("CONFORMANCE_VERBOSE") != "" {
		opts.Progress = func(r conformance.Result) { t.Log(r.String() + " -- " + r.Reason + " / " + r.CloseReason) }
	}
}

func selectedCases(extra bool) []conformance.Case {
	cases := conformance.Cases()
	if extra {
		cases = append(cases, conformance.ExtraCases()...)
	}
	if *casesFlag != "" {
		cases = conformance.Select(cases, conformance.SplitPatterns(*casesFlag), nil)
	}
	return cases
}

// checkResults fails the test on any FAILED case and logs the report.
func checkResults(t *testing.T, title string, results []conformance.Result) {
	t.Helper()
	rep := conformance.Report{Title: title, Results: results}
	t.Log("\n" + rep.String())
	for _, r := range rep.Failed() {
		t.Errorf("case %s FAILED: %s", r.ID, r.Explain())
	}
}

// TestServerConformance runs the whole suite (and the masking cases)
// against our server on both Hertz transports, in the blocking and in the
// event-driven mode.
func TestServerConformance(t *testing.T) {
	cases := selectedCases(true)
	for _, mode := range []struct {
		name   string
		events bool
	}{{"blocking", false}, {"events", true}} {
		for _, tr := range transports {
			mode, tr := mode, tr
			t.Run(tr.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				runServerConformance(t, tr, mode.events, cases)
			})
		}
	}
}

// runServerConformance runs cases against an echo server.
func runServerConformance(t *testing.T, tr transport, events bool, cases []conformance.Case) {
	url := startEchoServer(t, tr, events)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	opts := suiteOptions(6)
	verbose(t, &opts)
	results := conformance.RunClient(ctx, url, cases, opts)
	what := "server on Hertz " + tr.name
	if events {
		what += ", event-driven"
	}
	checkResults(t, what, results)
}
