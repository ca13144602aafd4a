//go:build !windows

package transport

import (
	"net"
	"os"

	"github.com/cloudwego/hertz/pkg/network"
	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
	"github.com/cloudwego/netpoll"
)

// A WebSocket upgraded on Hertz's netpoll transport leaves netpoll before
// the 101 response is sent, and lives on a net.Conn of its own, read and
// written by a Socket on Go's runtime poller.
//
// Why: Hertz ends a connection when its hijack handler returns, so on
// netpoll a WebSocket would keep the goroutine that served the HTTP
// request, parked under Hertz's deep call stack (8 KiB of stack), together
// with the request's RequestContext and netpoll's input and output buffers
// (about 6 KiB), for as long as the connection is open. Detached, an idle
// connection costs its handler's goroutine, started with a shallow stack,
// and a few hundred bytes of structures: no buffer is held while it waits.
// Wakeups also go straight from the runtime poller to the reading
// goroutine, without netpoll's hand-off between goroutines.
//
// How, without losing a byte: the upgrader tells Hertz to write no
// response. The hijack handler, still on netpoll's serving goroutine,
// renders the 101 as Hertz would have (middleware has run by then) and
// calls HandOver, which takes the bytes already buffered beyond the
// request and detaches the connection: netpoll unregisters it from its
// poller once the hijack handler returns, and leaves its descriptor open.
// netpoll then runs the connection's close callbacks; ours takes what else
// was buffered and starts the WebSocket's goroutine, which adopts the
// descriptor and only then sends the 101. RFC 6455 §4.1 forbids a client
// to send frames before it has the 101, so by the time one can, netpoll
// no longer reads the socket.

// Detachable is a netpoll connection that can leave netpoll.
type Detachable interface {
	Fd() int
	Detach() error
	AddCloseCallback(netpoll.CloseCallback) error
}

// DetachableOf returns raw's netpoll connection when raw can leave netpoll,
// or nil (other transports, or a netpoll without Detach).
func DetachableOf(raw network.Conn) Detachable {
	hc, ok := raw.(*hnetpoll.Conn)
	if !ok {
		return nil
	}
	np, _ := hc.Conn.(Detachable)
	return np
}

// HandOver takes raw, whose netpoll connection is np, off netpoll. It runs
// as the hijack handler, on netpoll's serving goroutine, and returns at
// once. Once netpoll has let go of the descriptor, adopt runs on a new
// goroutine with the descriptor, which it then owns (it may make a
// net.Conn of it with AdoptDescriptor), and the bytes read from raw beyond
// the request, which the connection must read first.
func HandOver(raw network.Conn, np Detachable, adopt func(fd int, pending []byte)) error {
	pending := takeBuffered(raw, nil)
	_ = np.AddCloseCallback(func(c netpoll.Connection) error {
		// netpoll calls this once the hijack handler has returned and the
		// descriptor is out of its poller, on the goroutine that ran
		// Hertz's Serve, after it returned.
		pending = takeBuffered(c.Reader(), pending)
		go adopt(np.Fd(), pending)
		return nil
	})
	return np.Detach()
}

// AdoptDescriptor returns a net.Conn on the runtime poller for a duplicate
// of fd, and closes fd.
func AdoptDescriptor(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "websocket")
	conn, err := net.FileConn(f)
	_ = f.Close()
	return conn, err
}

// bufferedReader is the part of a netpoll or Hertz reader takeBuffered
// needs.
type bufferedReader interface {
	Len() int
	Peek(n int) ([]byte, error)
	Skip(n int) error
	Release() error
}

// takeBuffered appends the bytes r has buffered to dst and consumes them.
func takeBuffered(r bufferedReader, dst []byte) []byte {
	if n := r.Len(); n > 0 {
		if b, err := r.Peek(n); err == nil {
			dst = append(dst, b...)
			_ = r.Skip(len(b))
		}
	}
	_ = r.Release()
	return dst
}
