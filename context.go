package websocket

import (
	"context"
	"io"
	"time"

	"github.com/hertzws/websocket/frame"
)

// The ...Context methods are the gorilla-style calls bound to a
// context.Context, for code written in coder/websocket's style and for
// handlers that tie a connection's work to a request or a shutdown.
//
// A context that is already done when a call starts makes it return
// ctx.Err() at once, touching nothing: the connection stays usable. A
// context that ends while the call is blocked (waiting for a message, or
// for a peer that does not read to take a write) ends the connection: the
// peer is sent close code 1001 (Going Away) when no frame is being
// written, the Conn is closed, and the call returns ctx.Err(). Every later
// call returns an error (ErrConnClosed, or the error the read or write
// failed with).
//
// The connection cannot be kept because a call blocked on the network may
// be stopped anywhere inside a frame: a read that gives up after half a
// frame header, or a write that has sent half a frame, leaves the two ends
// disagreeing about where the next frame starts, and RFC 6455 has no way
// to resynchronise them. An expired read or write deadline ends a
// connection's reads or writes for the same reason; a context closes the
// connection outright, as coder/websocket does, because the caller has
// said it no longer waits for this peer.

// ReadMessageContext is ReadMessage bound to ctx: if ctx ends while the
// call waits for a message or for the rest of one, the connection is
// closed and the call returns ctx.Err(). See the package documentation
// above ("context") for what a cancelled call leaves behind.
func (c *Conn) ReadMessageContext(ctx context.Context) (messageType int, p []byte, err error) {
	b, err := c.bind(ctx)
	if err != nil {
		return noFrame, nil, err
	}
	messageType, p, err = c.ReadMessage()
	return messageType, p, b.release(err)
}

// NextReaderContext is NextReader bound to ctx: ctx applies to the wait
// for the next message and to every Read of the returned reader, which
// return ctx.Err() and close the connection if ctx ends while they wait.
func (c *Conn) NextReaderContext(ctx context.Context) (messageType int, r io.Reader, err error) {
	b, err := c.bind(ctx)
	if err != nil {
		return noFrame, nil, err
	}
	messageType, r, err = c.NextReader()
	if err = b.release(err); err != nil {
		return messageType, nil, err
	}
	if ctx.Done() == nil {
		return messageType, r, nil
	}
	return messageType, &contextReader{c: c, ctx: ctx, r: r}, nil
}

// contextReader binds each Read of a message reader to a context.
type contextReader struct {
	c   *Conn
	ctx context.Context
	r   io.Reader
}

func (cr *contextReader) Read(p []byte) (int, error) {
	b, err := cr.c.bind(cr.ctx)
	if err != nil {
		return 0, err
	}
	n, err := cr.r.Read(p)
	if err == io.EOF {
		b.release(nil)
		return n, io.EOF
	}
	return n, b.release(err)
}

// ReadJSONContext is ReadJSON bound to ctx, as ReadMessageContext is.
func (c *Conn) ReadJSONContext(ctx context.Context, v interface{}) error {
	b, err := c.bind(ctx)
	if err != nil {
		return err
	}
	return b.release(c.ReadJSON(v))
}

// WriteMessageContext is WriteMessage bound to ctx: if ctx ends while the
// write waits (for another writer, or for a peer that does not read to
// take the message), the connection is closed and the call returns
// ctx.Err(). A context deadline earlier than the connection's write
// deadline does not shorten it: it closes the connection when it passes.
func (c *Conn) WriteMessageContext(ctx context.Context, messageType int, data []byte) error {
	b, err := c.bind(ctx)
	if err != nil {
		return err
	}
	return b.release(c.WriteMessage(messageType, data))
}

// WriteJSONContext is WriteJSON bound to ctx, as WriteMessageContext is.
func (c *Conn) WriteJSONContext(ctx context.Context, v interface{}) error {
	b, err := c.bind(ctx)
	if err != nil {
		return err
	}
	return b.release(c.WriteJSON(v))
}

// binding ties one call to a context: when the context ends before
// release, the connection is closed (see closeForContext), which wakes the
// call.
type binding struct {
	ctx  context.Context
	stop func() bool // nil when the context can never end
}

// bind starts watching ctx for the call about to be made; a context that
// has already ended is returned as an error and nothing is watched.
func (c *Conn) bind(ctx context.Context) (binding, error) {
	if ctx.Done() == nil {
		return binding{}, nil
	}
	if err := ctx.Err(); err != nil {
		return binding{}, err
	}
	return binding{ctx: ctx, stop: afterContext(ctx, c.closeForContext)}, nil
}

// release stops watching and returns the call's error, or the context's
// when the context ended the connection and the call failed.
func (b binding) release(err error) error {
	if b.stop == nil || b.stop() {
		return err
	}
	// The context ended first and closed the connection; a call that
	// still succeeded keeps its result.
	if err != nil {
		return b.ctx.Err()
	}
	return nil
}

// contextCloseGrace bounds the write of the close frame a cancelled call
// sends, for a peer that takes no more data.
const contextCloseGrace = 100 * time.Millisecond

// closeForContext ends the connection for a context that ended during a
// call: it sends close code 1001 (Going Away) if no other frame is being
// written and none was sent, then closes the Conn, which wakes the call.
func (c *Conn) closeForContext() {
	if c.frameLock.tryLock() {
		if !c.closeSent.Load() {
			payload := FormatCloseMessage(CloseGoingAway, "context ended")
			h := frame.Header{Fin: true, Opcode: frame.OpClose}
			if c.writeFrameLocked(h, payload, time.Now().Add(contextCloseGrace).UnixNano()) == nil {
				c.closeSent.Store(true)
			}
		}
		c.frameLock.unlock()
	}
	_ = c.Close()
}
