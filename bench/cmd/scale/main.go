// Command scale measures what idle WebSocket connections cost a server:
// it opens N connections to one implementation of cmd/server, keeps them
// idle with a small share active (each active connection echoes one
// message a second), measures the server, then closes them all.
//
//	scale -impl hertzws-events -conns 200000
//
// A process can hold only as many sockets as its open-file limit allows
// (RLIMIT_NOFILE; the hard limit is 20,000 on the machines this project
// runs on, and root without CAP_SYS_RESOURCE cannot raise it). scale
// therefore spreads a run over as many server processes as the limit
// requires, each on its own port with at most -per-proc connections, with
// one client process each, and adds their figures up: per-connection
// memory is the growth of all the servers together divided by all the
// connections. Where the limit allows, one server process holds them all.
//
// Clients connect from several loopback source addresses (127.0.0.2,
// 127.0.0.3, ...), so that ephemeral ports do not run out, and hold their
// idle connections without a goroutine each. The report, a Markdown table
// row and a JSON object, gives per run: server RSS growth and Go heap
// (HeapInuse) growth per connection, goroutines per connection, handshakes
// per second, p50 and p99 of the active echoes, server CPU while the
// connections are idle (in % of one core, with the active share running),
// and the time from the close of every connection until the servers' open
// descriptors are back to where they started.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.impl, "impl", "hertzws-events", "cmd/server implementation to measure")
	flag.StringVar(&o.server, "server", "bin/server", "cmd/server binary")
	flag.IntVar(&o.conns, "conns", 10000, "connections in all")
	flag.Float64Var(&o.active, "active", 0.01, "share of the connections that echo a message every second")
	flag.IntVar(&o.perProc, "per-proc", 0, "most connections per server process (0: from the open-file limit)")
	flag.IntVar(&o.basePort, "port", 19400, "port of the first server process; the others follow")
	flag.IntVar(&o.sources, "sources", 8, "loopback source addresses the clients connect from (127.0.0.2 on)")
	flag.IntVar(&o.dialers, "dialers", 16, "concurrent handshakes per client process")
	flag.IntVar(&o.size, "size", 16, "size of the active connections' messages")
	flag.DurationVar(&o.settle, "settle", 20*time.Second, "wait after the last handshake before measuring")
	flag.DurationVar(&o.window, "window", 10*time.Second, "how long CPU and echo latencies are measured")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "limit for the whole run")
	flag.StringVar(&o.out, "out", "", "append the JSON result to this file")
	flag.Float64Var(&o.maxRSS, "max-rss-per-conn", 0, "fail (exit 1) when server RSS per connection exceeds this many bytes (0: no check)")
	flag.Float64Var(&o.maxGoroutines, "max-goroutines-per-conn", -1, "fail when goroutines per connection exceed this (negative: no check)")
	client := flag.Bool("client", false, "internal: run as a client process")
	addr := flag.String("addr", "", "internal: the client's server")
	src := flag.String("src", "", "internal: the client's source addresses, comma-separated")
	n := flag.Int("n", 0, "internal: the client's connections")
	activeN := flag.Int("active-n", 0, "internal: the client's active connections")
	flag.Parse()

	raiseOpenFileLimit()
	if *client {
		runClient(*addr, strings.Split(*src, ","), *n, *activeN, o.dialers, o.size)
		return
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(2)
	}
	fmt.Println(tableHeader)
	fmt.Println(res.row())
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if o.out != "" {
		if err := appendLine(o.out, b); err != nil {
			fmt.Fprintln(os.Stderr, "scale:", err)
		}
	}
	if failures := res.check(o); len(failures) > 0 {
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "scale: FAIL:", f)
		}
		os.Exit(1)
	}
}

// options are the flags of a run.
type options struct {
	impl, server, out string
	conns, perProc    int
	active            float64
	basePort, sources int
	dialers, size     int
	settle, window    time.Duration
	timeout           time.Duration
	maxRSS            float64
	maxGoroutines     float64
}

// raiseOpenFileLimit raises the soft open-file limit to the hard one.
func raiseOpenFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// openFileLimit returns the soft open-file limit.
func openFileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 1024
	}
	return int(l.Cur)
}

// perProcess returns how many connections one process may hold: the
// open-file limit less room for the runtime, listeners and pipes.
func perProcess(o options) int {
	if o.perProc > 0 {
		return o.perProc
	}
	limit := openFileLimit() - 1000
	if limit > 1_000_000 {
		limit = 1_000_000
	}
	if limit < 100 {
		limit = 100
	}
	return limit
}

func appendLine(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

// startClient starts a client process for count connections to addr and
// returns it with its stdin (commands) and stdout (reports).
func startClient(self, addr string, sources []string, count, active int, o options) (*exec.Cmd, *bufio.Writer, *bufio.Scanner, error) {
	cmd := exec.Command(self, "-client", "-addr", addr, "-src", strings.Join(sources, ","),
		"-n", fmt.Sprint(count), "-active-n", fmt.Sprint(active),
		"-dialers", fmt.Sprint(o.dialers), "-size", fmt.Sprint(o.size))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return cmd, bufio.NewWriter(in), sc, nil
}
