// Command server runs one WebSocket echo server implementation for the
// benchmark:
//
//	server -impl hertzws-netpoll -addr 127.0.0.1:18080
//
// Every implementation serves the same three paths on the same address:
//
//	/echo         every message is sent back, unchanged, to its sender
//	/broadcast    every message received on any /broadcast connection is
//	              sent to every /broadcast connection (the sender included),
//	              as a prepared message where the library has one
//	/debug/stats  JSON: pid, goroutines and Go memory counters
//
// Compression is never negotiated and the read limit is 4 MiB everywhere.
// The server prints "ready" on stdout once it accepts connections, prints
// its stats on stderr on SIGUSR1, and exits on SIGTERM or SIGINT.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof" // only served with -pprof
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hertzws/websocket/bench/internal/netwait"
	"github.com/hertzws/websocket/bench/internal/result"
)

// readLimit is the largest message every server accepts.
const readLimit = 4 << 20

// impl starts one implementation listening on addr and returns at once;
// serving continues in the background. It reports fatal serve errors on
// errc.
type impl struct {
	desc  string
	start func(addr string, errc chan<- error) error
}

var impls = map[string]impl{
	"hertzws-netpoll":         {"this library on Hertz, netpoll transport", func(a string, e chan<- error) error { return startHertzWS(a, "netpoll", e) }},
	"hertzws-standard":        {"this library on Hertz, standard (net) transport", func(a string, e chan<- error) error { return startHertzWS(a, "standard", e) }},
	"hertzws-events":          {"this library's event-driven mode (UpgradeEvents) on Hertz, netpoll transport", func(a string, e chan<- error) error { return startHertzEvents(a, "netpoll", e) }},
	"hertzws-events-standard": {"this library's event-driven mode on Hertz's standard transport (a goroutine per connection)", func(a string, e chan<- error) error { return startHertzEvents(a, "standard", e) }},
	"gorilla-adaptor":         {"gorilla/websocket on Hertz (netpoll) through adaptor.HertzHandler", startGorillaAdaptor},
	"gorilla-nethttp":         {"gorilla/websocket on net/http", startGorillaNetHTTP},
	"gws":                     {"lxzan/gws on net/http", startGWS},
	"coder":                   {"coder/websocket on net/http", startCoder},
}

var implName string

// echoFlag is -echo.
var echoFlag string

// broadcastFlag is -broadcast.
var broadcastFlag string

// broadcastMode returns how a library's /broadcast fans out: "hub", the
// library's own facility with a queue and a writer per connection (this
// library's hub package; gws has its Broadcaster either way), or "loop",
// the shared hub of this harness, which writes to every connection in turn
// from the sender's goroutine.
func broadcastMode(lib string) string {
	if broadcastFlag != "auto" {
		return broadcastFlag
	}
	if lib == "hertzws" {
		return "hub"
	}
	return "loop"
}

// messageSize is -size: the size of the messages the workload will send,
// zero when unknown.
var messageSize int

// largeEcho is the message size from which ReadMessage/WriteMessage
// ("message") beats the stream loop for gorilla.
const largeEcho = 1 << 20

// echoMode returns the echo loop for a library under -echo auto: the
// fastest of its idiomatic loops for the workload's message size, as
// measured with this harness (see README, "Echo loops"). For this library
// that is ReadMessageInto ("into") at every size; for gorilla the stream
// loop below 1 MiB and the message loop at 1 MiB; for coder the stream
// loop at every size.
func echoMode(lib string) string {
	switch {
	case echoFlag != "auto":
		return echoFlag
	case lib == "hertzws":
		return "into"
	case lib == "gorilla" && messageSize >= largeEcho:
		return "message"
	}
	return "stream"
}

func main() {
	var (
		addr  = flag.String("addr", "127.0.0.1:18080", "listen address (host:port)")
		list  = flag.Bool("list", false, "list the implementations and exit")
		pprof = flag.String("pprof", "", "if set, serve net/http/pprof on this extra address (for investigation; off in comparisons)")
	)
	flag.StringVar(&implName, "impl", "hertzws-netpoll", "implementation: "+strings.Join(implNames(), ", "))
	flag.StringVar(&echoFlag, "echo", "auto", "echo loop of the hertzws-*, gorilla-* and coder servers: message (ReadMessage/WriteMessage, coder Read/Write), into (hertzws only: ReadMessageInto/WriteMessage; the others take message), owned (hertzws only: into plus a copy of each message into fresh memory, the cost ReadMessage's contract cannot avoid; the others take message), stream (NextReader/NextWriter, coder Reader/Writer, through io.CopyBuffer) or auto (each library's fastest for -size, see echoMode)")
	flag.IntVar(&messageSize, "size", 0, "size of the workload's messages, for -echo auto (0: unknown)")
	flag.StringVar(&broadcastFlag, "broadcast", "auto", "fan-out of the hertzws servers' /broadcast: hub (the library's hub package: a queue and a writer per connection), loop (the harness's shared hub, writing in turn from the sender's goroutine) or auto (hub)")
	flag.Parse()

	if *list {
		for _, n := range implNames() {
			fmt.Printf("%-18s %s\n", n, impls[n].desc)
		}
		return
	}
	im, ok := impls[implName]
	if !ok {
		fatalf("unknown -impl %q (have %s)", implName, strings.Join(implNames(), ", "))
	}
	if broadcastFlag != "auto" && broadcastFlag != "hub" && broadcastFlag != "loop" {
		fmt.Fprintln(os.Stderr, "server: -broadcast must be hub, loop or auto")
		os.Exit(2)
	}
	if echoFlag != "auto" && echoFlag != "message" && echoFlag != "into" && echoFlag != "owned" && echoFlag != "stream" {
		fatalf("-echo must be auto, message, into, owned or stream")
	}

	if *pprof != "" {
		go func() { _ = http.ListenAndServe(*pprof, nil) }()
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)

	errc := make(chan error, 1)
	if err := im.start(*addr, errc); err != nil {
		fatalf("%s: %v", implName, err)
	}
	if err := netwait.Listening(*addr, 15*time.Second); err != nil {
		fatalf("%s: %v", implName, err)
	}
	fmt.Println("ready")

	for {
		select {
		case err := <-errc:
			fatalf("%s: serve: %v", implName, err)
		case s := <-sigs:
			if s == syscall.SIGUSR1 {
				b, _ := json.Marshal(stats())
				fmt.Fprintf(os.Stderr, "stats %s\n", b)
				continue
			}
			// A benchmark server has nothing to flush: exit at once rather
			// than wait for hijacked connections a graceful shutdown
			// cannot see.
			os.Exit(0)
		}
	}
}

func implNames() []string {
	names := make([]string, 0, len(impls))
	for n := range impls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "server: "+format+"\n", args...)
	os.Exit(1)
}

// stats is served on /debug/stats by every implementation.
func stats() result.ServerStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return result.ServerStats{
		Impl:       implName,
		PID:        os.Getpid(),
		Goroutines: runtime.NumGoroutine(),
		HeapInuse:  ms.HeapInuse,
		HeapSys:    ms.HeapSys,
		StackInuse: ms.StackInuse,
		Sys:        ms.Sys,
		NumGC:      ms.NumGC,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
}

func statsJSON() []byte {
	b, _ := json.Marshal(stats())
	return b
}
