package websocket

import (
	"errors"
	"sync/atomic"

	"github.com/hertzws/websocket/internal/transport"
)

// An event-driven connection on the poller holds no goroutine while it has
// nothing to do. The poller (internal/transport's Poller) calls Wake when
// bytes arrive; Wake starts a goroutine that reads and delivers every
// message the socket holds, then ends. A message that has only partly
// arrived keeps its goroutine until it is whole, waiting on Go's runtime
// poller with the connection's deadlines, exactly as a blocking read
// would: the protocol code is the blocking mode's, stopped at message
// boundaries (nextDataFrame) when nothing is left to read.
//
// state makes sure that one goroutine at a time serves a connection and that
// no wakeup is lost: an edge that comes while a goroutine serves turns
// eventRunning into eventPending, and the goroutine, before it leaves,
// looks at the socket once more.
const (
	eventIdle    int32 = iota // no goroutine; the next Wake starts one
	eventRunning              // a goroutine serves the connection
	eventPending              // and must look at the socket again before it leaves
	eventEnded                // OnClose has run; Wake does nothing
)

// eventSocket is what an event-driven connection needs from its
// transport besides transport.Conn (internal/transport's PolledSocket).
type eventSocket interface {
	ReadAvailable() (int, error)
	Notify(transport.Events)
	Descriptor() int
}

// eventConn is the poller's handle on an event-driven connection.
type eventConn struct {
	c      *Conn
	sock   eventSocket
	runner eventRunner
	live   *liveConns
	state  atomic.Int32
	// reading is set while the serving goroutine reads, the only time
	// NextReader may run.
	reading atomic.Bool
}

// Wake is called by the poller when the socket has news, and by Close.
// A read or write waiting inside a message is woken; news for the reader
// between messages starts a goroutine to read it.
func (e *eventConn) Wake(ev transport.Events) {
	e.sock.Notify(ev)
	if ev&transport.Readable == 0 {
		return
	}
	for {
		switch s := e.state.Load(); s {
		case eventIdle:
			if e.state.CompareAndSwap(eventIdle, eventRunning) {
				go e.serve()
				return
			}
		case eventRunning:
			if e.state.CompareAndSwap(eventRunning, eventPending) {
				return
			}
		default:
			return
		}
	}
}

// WriteWaits is called when a write to the connection must wait for the
// peer to read: the callback running, if any, gives its slot back.
func (e *eventConn) WriteWaits() { e.runner.lend(e.c) }

// serve delivers what the socket holds, then leaves the connection idle.
func (e *eventConn) serve() {
	for {
		if !e.deliver() {
			return
		}
		if e.state.CompareAndSwap(eventRunning, eventIdle) {
			return
		}
		e.state.Store(eventRunning) // a wakeup came meanwhile: look again
	}
}

// deliver reads messages and hands them to OnMessage until the socket has
// nothing more. It reports false once the connection has ended.
func (e *eventConn) deliver() bool {
	c := e.c
	for {
		e.reading.Store(true)
		m, err := e.runner.read(c)
		e.reading.Store(false)
		if err == errNoMessage {
			return true
		}
		if err == nil {
			e.runner.message(c, m)
			if !c.callbackPanicked.Load() {
				continue
			}
		}
		e.end()
		return false
	}
}

// end runs OnClose and lets the connection go.
func (e *eventConn) end() {
	e.state.Store(eventEnded)
	if poller, err := transport.SharedPoller(); err == nil {
		poller.Forget(e.sock.Descriptor(), e)
	}
	e.runner.close(e.c, e.c.endReason())
	e.live.remove(e.c)
	e.c.release()
}

// waitsForEvent reports whether a read between messages should give up
// the goroutine: nothing is buffered and the socket holds nothing either.
// An error (the end of the stream) is left for the read to meet.
func (e *eventConn) waitsForEvent() bool {
	if e.c.t.Len() > 0 {
		return false
	}
	n, err := e.sock.ReadAvailable()
	return n == 0 && err == nil
}

// errNoMessage tells the serving goroutine of an event-driven connection
// that no message has arrived yet; it is never returned to an application.
var errNoMessage = errors.New("websocket: no message yet")
