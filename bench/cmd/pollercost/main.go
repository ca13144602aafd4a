//go:build linux

// Command pollercost measures what watching an idle connection for
// readiness costs in memory, for each poller the event-driven mode could
// have used: this library's own epoll (internal/transport's PolledSocket
// and Poller), netpoll's (a netpoll.Connection with an OnRequest
// callback), and Go's runtime poller (a net.Conn, which can only deliver
// readiness to a goroutine parked in a read: one per connection).
//
//	pollercost -mode polled -n 9000
//
// It opens n loopback connections, takes the server ends as raw
// descriptors, measures the process (Go heap in use and stacks after a
// collection, and RSS), wraps every server end in the chosen poller, and
// measures again; the report is the growth per connection. The client
// ends are made before the baseline, so they are not counted.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/hertzws/websocket/internal/transport"
)

// reading is the process's memory at one moment.
type reading struct {
	heap, stack, rss uint64
	goroutines       int
}

func measure() reading {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return reading{heap: ms.HeapInuse, stack: ms.StackInuse, rss: rss(), goroutines: runtime.NumGoroutine()}
}

// rss reads the resident set size from /proc/self/statm.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// watcher is the poller callback of the polled mode; idle connections
// never hear from it.
type watcher struct{ sock *transport.PolledSocket }

func (w *watcher) Wake(ev transport.Events) { w.sock.Notify(ev) }

func main() {
	mode := flag.String("mode", "polled", "polled (this library's epoll), netpoll (netpoll's poller), runtime (Go's runtime poller, with a goroutine parked in a read per connection)")
	n := flag.Int("n", 9000, "connections; the process needs 2n descriptors (3n for runtime, which duplicates each)")
	flag.Parse()
	raiseOpenFileLimit()

	lfd, addr, err := listen()
	if err != nil {
		fail(err)
	}
	clients := make([]net.Conn, 0, *n)
	servers := make([]int, 0, *n)
	for i := 0; i < *n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fail(err)
		}
		clients = append(clients, c)
		fd, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err != nil {
			fail(err)
		}
		servers = append(servers, fd)
	}
	base := measure()

	keep := make([]any, 0, *n) // what each mode holds, kept reachable
	switch *mode {
	case "polled":
		poller, err := transport.SharedPoller()
		if err != nil {
			fail(err)
		}
		for _, fd := range servers {
			w := &watcher{sock: transport.NewPolledSocket(fd, nil, nil, nil, 4096, 4096)}
			if err := poller.Watch(fd, w); err != nil {
				fail(err)
			}
			keep = append(keep, w)
		}
	case "netpoll":
		for _, fd := range servers {
			c, err := netpoll.NewFDConnection(fd)
			if err != nil {
				fail(err)
			}
			if err := c.SetOnRequest(func(context.Context, netpoll.Connection) error { return nil }); err != nil {
				fail(err)
			}
			keep = append(keep, c)
		}
	case "runtime":
		for _, fd := range servers {
			f := os.NewFile(uintptr(fd), "conn")
			c, err := net.FileConn(f) // a duplicate descriptor in the runtime poller
			if err != nil {
				fail(err)
			}
			f.Close()
			go func() {
				var b [1]byte
				_, _ = c.Read(b[:])
			}()
			keep = append(keep, c)
		}
	default:
		fail(fmt.Errorf("unknown -mode %q", *mode))
	}
	time.Sleep(500 * time.Millisecond) // let the readers park
	now := measure()
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(*n) }
	out := map[string]any{
		"mode":                 *mode,
		"conns":                *n,
		"heap_bytes_per_conn":  per(now.heap, base.heap),
		"stack_bytes_per_conn": per(now.stack, base.stack),
		"rss_bytes_per_conn":   per(now.rss, base.rss),
		"goroutines_per_conn":  float64(now.goroutines-base.goroutines) / float64(*n),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	runtime.KeepAlive(keep)
	runtime.KeepAlive(clients)
}

// listen opens a blocking listening socket on 127.0.0.1 and returns its
// descriptor and address.
func listen() (int, string, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, "", err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, "", err
	}
	if err := syscall.Listen(fd, 4096); err != nil {
		return 0, "", err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return 0, "", err
	}
	return fd, fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port), nil
}

func raiseOpenFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pollercost:", err)
	os.Exit(1)
}
