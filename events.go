package websocket

import (
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket/internal/transport"
)

// EventHandler receives the events of a WebSocket served by
// HertzUpgrader.UpgradeEvents. The library reads the connection and calls
// the handler; the handler writes with the Conn's methods, from the
// callbacks or from any other goroutine.
//
// Guarantees: OnOpen runs first and once; OnMessage runs for each data
// message in the order the messages arrived, one at a time, never while
// another callback of the same connection runs; OnClose runs last and
// once, whatever ended the connection (the peer's close frame, a protocol
// error, Close, keepalive, Shutdown, a panic in a callback). Callbacks of
// different connections run concurrently, at most
// HertzUpgrader.EventWorkers at once; on netpoll a callback that waits to
// write to a peer that does not read gives its place up while it waits.
//
// A handler may also implement OnPing(c *Conn, appData string) and
// OnPong(c *Conn, appData string), which run for each ping (after the
// library has queued its pong) and each pong. Conn.SetPingHandler and
// SetPongHandler called from OnOpen work as in the blocking mode, instead.
// A handler that implements MessageBorrower receives messages in buffers
// the library lends, with no allocation per message.
type EventHandler interface {
	// OnOpen runs once the handshake is complete, before any other
	// callback. The RequestContext given to UpgradeEvents is this
	// request's own until OnOpen returns.
	OnOpen(c *Conn)
	// OnMessage runs for each text or binary message. data belongs to the
	// callee, which may keep it.
	OnMessage(c *Conn, messageType int, data []byte)
	// OnClose runs once when the connection has ended, with the error a
	// blocking ReadMessage would have returned: a *CloseError for the
	// peer's close frame, ErrReadLimit, ErrKeepAliveTimeout, ErrConnClosed
	// after Close, and so on. The Conn is closed when OnClose returns.
	OnClose(c *Conn, err error)
}

// pingObserver and pongObserver are the optional parts of an EventHandler.
type (
	pingObserver interface{ OnPing(c *Conn, appData string) }
	pongObserver interface{ OnPong(c *Conn, appData string) }
)

// MessageBorrower is implemented by an EventHandler that reads each
// message from a buffer the library lends it, instead of one it owns: the
// library then calls OnBorrowedMessage in place of OnMessage, with the same
// guarantees of order and of one callback at a time.
//
// data is valid only until OnBorrowedMessage returns; the library reuses
// its memory for another message, of this connection or another one. Use
// it, write it (WriteMessage copies or sends what it is given before it
// returns) or copy what must outlive the call. In exchange, a message of
// up to 32 KiB costs no allocation: a shared buffer is taken from a pool
// for the message and given back after the call, so an idle connection
// still holds none. A larger message gets a buffer of its own, as with
// OnMessage.
type MessageBorrower interface {
	OnBorrowedMessage(c *Conn, messageType int, data []byte)
}

// EventFuncs is an EventHandler made of functions; any of them may be nil.
// When BorrowedMessage is set, it receives the messages (see
// MessageBorrower) and Message is not called.
type EventFuncs struct {
	Open            func(c *Conn)
	Message         func(c *Conn, messageType int, data []byte)
	BorrowedMessage func(c *Conn, messageType int, data []byte)
	Close           func(c *Conn, err error)
	Ping            func(c *Conn, appData string)
	Pong            func(c *Conn, appData string)
}

// OnOpen calls f.Open.
func (f EventFuncs) OnOpen(c *Conn) {
	if f.Open != nil {
		f.Open(c)
	}
}

// OnMessage calls f.Message.
func (f EventFuncs) OnMessage(c *Conn, messageType int, data []byte) {
	if f.Message != nil {
		f.Message(c, messageType, data)
	}
}

// OnBorrowedMessage calls f.BorrowedMessage.
func (f EventFuncs) OnBorrowedMessage(c *Conn, messageType int, data []byte) {
	if f.BorrowedMessage != nil {
		f.BorrowedMessage(c, messageType, data)
	}
}

// OnClose calls f.Close.
func (f EventFuncs) OnClose(c *Conn, err error) {
	if f.Close != nil {
		f.Close(c, err)
	}
}

// OnPing calls f.Ping.
func (f EventFuncs) OnPing(c *Conn, appData string) {
	if f.Ping != nil {
		f.Ping(c, appData)
	}
}

// OnPong calls f.Pong.
func (f EventFuncs) OnPong(c *Conn, appData string) {
	if f.Pong != nil {
		f.Pong(c, appData)
	}
}

// ErrCallbackPanic is given to OnClose when a callback of the connection
// panicked; the peer was sent close code 1011 (Internal Error).
var ErrCallbackPanic = errors.New("websocket: an event callback panicked")

// errNotEventReader is returned to a goroutine that reads a connection the
// library reads for an EventHandler.
var errNotEventReader = errors.New("websocket: the connection is read by the library for its EventHandler; messages arrive in OnMessage")

// DefaultEventWorkers is the number of event callbacks that may run at once
// when HertzUpgrader.EventWorkers is zero: enough that a few callbacks
// blocked on slow peers (each bounded by WriteTimeout) leave room for the
// others.
func DefaultEventWorkers() int { return 128 * runtime.GOMAXPROCS(0) }

// callbackSlots bounds how many event callbacks run at once.
type callbackSlots struct {
	once sync.Once
	ch   chan struct{}
}

func (s *callbackSlots) get(n int) chan struct{} {
	s.once.Do(func() {
		if n <= 0 {
			n = DefaultEventWorkers()
		}
		s.ch = make(chan struct{}, n)
	})
	return s.ch
}

// eventRunner calls an EventHandler's callbacks, each in a slot and under
// recover. A callback that panics is logged, its peer gets close code 1011
// and the connection is closed; the runner then reports false.
type eventRunner struct {
	h EventHandler
	// borrower is h when it borrows its messages' buffers.
	borrower MessageBorrower
	slots    chan struct{}
}

// newEventRunner returns the runner of h's callbacks.
func newEventRunner(h EventHandler, slots chan struct{}) eventRunner {
	r := eventRunner{h: h, slots: slots}
	if b, ok := h.(MessageBorrower); ok {
		if f, isFuncs := eventFuncsOf(h); !isFuncs || f.BorrowedMessage != nil {
			r.borrower = b
		}
	}
	return r
}

// eventFuncsOf returns the EventFuncs h is, given by value or by pointer:
// its methods exist whether or not their functions are set, so the
// optional callbacks are told apart by the functions.
func eventFuncsOf(h EventHandler) (EventFuncs, bool) {
	switch f := h.(type) {
	case EventFuncs:
		return f, true
	case *EventFuncs:
		if f != nil {
			return *f, true
		}
	}
	return EventFuncs{}, false
}

func (r eventRunner) open(c *Conn) {
	r.acquire(c)
	defer r.done(c)
	ping, _ := r.h.(pingObserver)
	pong, _ := r.h.(pongObserver)
	if f, ok := eventFuncsOf(r.h); ok {
		// Install no handler for a function that is not there.
		if f.Ping == nil {
			ping = nil
		}
		if f.Pong == nil {
			pong = nil
		}
	}
	if p := ping; p != nil {
		c.SetPingHandler(func(appData string) error {
			err := c.defaultPingHandler(appData)
			p.OnPing(c, appData)
			return err
		})
	}
	if p := pong; p != nil {
		c.SetPongHandler(func(appData string) error {
			p.OnPong(c, appData)
			return nil
		})
	}
	r.h.OnOpen(c)
}

// eventMessage is a message read for the handler. lent is the pool
// buffer a borrowed message sits in, to give back once it is delivered.
type eventMessage struct {
	messageType int
	data        []byte
	lent        *transport.Buffer
}

// read reads the next message for the handler: into a lent buffer when the
// handler borrows, else into one the handler will own. The error is the
// read's: errNoMessage when an event-driven connection has nothing more
// for now, or what ended the connection.
func (r eventRunner) read(c *Conn) (eventMessage, error) {
	if r.borrower == nil {
		mt, p, err := c.ReadMessage()
		return eventMessage{messageType: mt, data: p}, err
	}
	lent := allowancePool.Get()
	mt, p, err := c.readMessageInto(lent.B[:0])
	if err != nil {
		allowancePool.Put(lent)
		return eventMessage{}, err
	}
	return eventMessage{messageType: mt, data: p, lent: lent}, nil
}

// message hands m to the handler.
func (r eventRunner) message(c *Conn, m eventMessage) {
	if m.lent != nil {
		defer allowancePool.Put(m.lent)
	}
	r.acquire(c)
	defer r.done(c)
	if r.borrower != nil {
		r.borrower.OnBorrowedMessage(c, m.messageType, m.data)
		return
	}
	r.h.OnMessage(c, m.messageType, m.data)
}

func (r eventRunner) close(c *Conn, err error) {
	r.acquire(c)
	defer r.done(c)
	r.h.OnClose(c, err)
}

// The slot of a connection's callback is held while the callback runs,
// and lent (given back early) when the callback, or any writer of the
// connection while it runs, waits for room in a slow peer's socket: the
// slots bound the callbacks doing work, and peers that do not read cannot
// take them all and stall every other connection. A lent slot is not taken
// back when the wait ends, since waiting for a slot while holding the
// connection's write lock could deadlock with callbacks that wait for
// that lock; the callback ends without one.
const (
	slotFree int32 = iota
	slotHeld
	slotLent
)

// acquire waits for a slot for c's next callback.
func (r eventRunner) acquire(c *Conn) {
	r.slots <- struct{}{}
	c.callbackSlot.Store(slotHeld)
}

// lend gives c's slot back while its callback waits on the peer.
func (r eventRunner) lend(c *Conn) {
	if c.callbackSlot.CompareAndSwap(slotHeld, slotLent) {
		<-r.slots
	}
}

// release ends c's callback: its slot is given back unless it was lent.
func (r eventRunner) release(c *Conn) {
	if c.callbackSlot.CompareAndSwap(slotHeld, slotFree) {
		<-r.slots
		return
	}
	c.callbackSlot.Store(slotFree)
}

// done frees the slot and turns a panic into close code 1011.
func (r eventRunner) done(c *Conn) {
	r.release(c)
	if p := recover(); p != nil {
		hlog.SystemLogger().Errorf("websocket: panic in an event callback for %v: %v\n%s", c.remoteAddr, p, debug.Stack())
		_ = c.WriteControl(CloseMessage, FormatCloseMessage(CloseInternalServerErr, ""), time.Now().Add(closeWriteTimeout))
		_ = c.Close()
		c.callbackPanicked.Store(true)
	}
}

// readMessages runs the callbacks on the calling goroutine: the mode for
// connections the poller cannot watch (Hertz's standard transport, TLS, a
// platform without epoll). It returns when the connection has ended.
func (r eventRunner) readMessages(c *Conn, opened func()) {
	r.open(c)
	opened()
	if !c.callbackPanicked.Load() {
		for {
			m, err := r.read(c)
			if err != nil {
				break
			}
			r.message(c, m)
			if c.callbackPanicked.Load() {
				break
			}
		}
	}
	r.close(c, c.endReason())
}

// endReason is the error OnClose receives: the read error, or
// ErrCallbackPanic when a callback panicked.
func (c *Conn) endReason() error {
	if c.callbackPanicked.Load() {
		return ErrCallbackPanic
	}
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return c.readErr
	}
	return ErrConnClosed
}
