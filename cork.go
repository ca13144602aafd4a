package websocket

import (
	"sync/atomic"
	"time"

	"github.com/hertzws/websocket/frame"
)

// Corked writes. A server that answers a batch of messages which arrived
// together (a client with several requests in flight, a browser flushing a
// queue) would otherwise make one write system call per answer. Instead,
// while the reader still has received input waiting in its buffer, small
// data frames are held in the output buffer, and they all go out in one
// system call:
//
//   - with the first write made when no input is waiting (typically the
//     answer to the last message of the batch), so a lone message, as in
//     ping-pong, is answered at once;
//   - when the reader runs out of buffered input: before a read waits for
//     the network, and before an event-driven connection gives its
//     goroutine up;
//   - when the held bytes pass corkLimit, or with any frame that is not
//     held (a control frame, a large message, a prepared message);
//   - corkBound after the first held frame at the latest, whatever the
//     application does meanwhile;
//   - when the connection is closed with Close.
//
// A held frame is copied into the output buffer, so the caller's slice is
// free when the write returns, exactly as for a frame sent at once. An
// error of the system call that finally sends it is recorded as the
// connection's write error and returned by the next write.

const (
	// corkMaxFrame is the largest payload a frame may have to be held.
	// Above it, a write call costs little next to the bytes it moves, and
	// copying the payload would cost more than the call saved.
	corkMaxFrame = 4 << 10
	// corkLimit bounds the bytes held: past it they go out.
	corkLimit = 32 << 10
	// corkBound is how long a frame is held at most. A batch is normally
	// flushed within microseconds, when its last message has been read;
	// the bound serves handlers that do something slow between writing
	// and reading again. Half a millisecond is below what a peer on a
	// local network can notice, and long enough that the timer rarely
	// fires in a busy read loop.
	corkBound = 500 * time.Microsecond
	// closeFlushTimeout bounds how long Close waits to send held frames
	// to a peer that does not read.
	closeFlushTimeout = time.Second
)

// corkState is the Conn's part in corked writes.
//
// inputWaiting and held are the two flags of a handshake between the
// reader and the writers, each of which stores its flag before it loads
// the other's: a writer that holds a frame after the reader has found its
// buffer empty sees inputWaiting false and sends the frame itself, and a
// reader that found its buffer empty after a writer held a frame sees held
// and sends it.
type corkState struct {
	// inputWaiting is set by the reader when a message ends with more
	// received bytes in its buffer, and cleared when it finds no whole
	// frame left there.
	inputWaiting atomic.Bool
	// held: the output buffer holds frames that were not flushed.
	held atomic.Bool
	// The rest is guarded by frameLock.
	// batch: the frame being written belongs to a WriteMessages batch,
	// which flushes when it ends.
	batch      bool
	heldBytes  int
	timer      *time.Timer // made on the first hold
	timerArmed bool
}

// WriteMessages sends messages, each as one data message of the given
// type, in order, as consecutive calls of WriteMessage would, but with as
// few system calls as the output buffer allows: the small ones are
// gathered (copied) and go out together, in one write where they fit in
// 32 KiB. It returns when every message has been handed to the kernel or
// the first error; messages before a failed one may have been sent.
// messages are free for reuse when it returns.
//
// No other goroutine's data message comes between the messages of a
// batch; control frames (WriteControl, pings, pongs) may. Compression
// applies to each message as for WriteMessage. It is safe to call from
// any goroutine, with the same rules as WriteMessage.
func (c *Conn) WriteMessages(messageType int, messages ...[]byte) error {
	switch messageType {
	case TextMessage, BinaryMessage:
	default:
		return errBadWriteOpCode
	}
	if err := c.acquire(&c.msgLock); err != nil {
		return err
	}
	defer c.msgLock.unlock()
	var err error
	for _, data := range messages {
		if err = c.writeDataLocked(frame.Opcode(messageType), data, true); err != nil {
			break
		}
	}
	// Send what the batch holds, the messages before a failure included.
	if lerr := c.acquire(&c.frameLock); lerr != nil {
		return lerr
	}
	if ferr := c.flushHeldLocked(); err == nil {
		err = ferr
	}
	c.frameLock.unlock()
	return err
}

// holdable reports whether a frame with a payload of n bytes may be held
// rather than sent at once. The caller holds frameLock.
func (c *Conn) holdable(h frame.Header, n int) bool {
	return !h.Opcode.IsControl() && n <= corkMaxFrame && (c.cork.batch || c.cork.inputWaiting.Load())
}

// holdLocked is called once a holdable frame of n bytes, header included,
// is in the output buffer. It reports whether the frame may stay there;
// if not, the caller flushes. The caller holds frameLock.
func (c *Conn) holdLocked(n int) bool {
	k := &c.cork
	k.heldBytes += n
	if k.heldBytes > corkLimit {
		return false
	}
	k.held.Store(true)
	if k.batch {
		return true // WriteMessages flushes at its end
	}
	if !k.inputWaiting.Load() {
		// The reader found its buffer empty meanwhile, and may have
		// missed held: send now.
		return false
	}
	if !k.timerArmed {
		k.timerArmed = true
		if k.timer == nil {
			k.timer = time.AfterFunc(corkBound, c.corkExpired)
		} else {
			k.timer.Reset(corkBound)
		}
	}
	return true
}

// flushLocked sends what the output buffer holds, held frames included.
// The caller holds frameLock.
func (c *Conn) flushLocked() error {
	k := &c.cork
	if k.held.Load() {
		k.held.Store(false)
		k.heldBytes = 0
		if k.timerArmed {
			k.timerArmed = false
			k.timer.Stop()
		}
	}
	if err := c.t.Flush(); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// flushHeldLocked sends the held frames, if any, under the connection's
// write deadline. A failure is recorded for the next write, and returned.
// The caller holds frameLock.
func (c *Conn) flushHeldLocked() error {
	switch {
	case !c.cork.held.Load():
		return nil
	case c.closed.Load():
		return ErrConnClosed
	case c.writeErr != nil:
		return c.writeErr
	}
	if err := c.applyWriteDeadline(0); err != nil {
		return c.failWrite(err)
	}
	return c.flushLocked()
}

// corkExpired runs corkBound after a frame was first held, on its own
// goroutine, and sends what is still held.
func (c *Conn) corkExpired() {
	if taken, _ := c.frameLock.lock(c.doneChan(), nil); !taken {
		return
	}
	c.cork.timerArmed = false
	_ = c.flushHeldLocked()
	c.frameLock.unlock()
}

// messageEnded is called by the reader when the last payload byte of a
// message has been consumed: the writes that answer it may be held if
// more input is waiting. The caller holds readMu.
func (c *Conn) messageEnded() {
	if waiting := c.t.Len() > 0; waiting != c.cork.inputWaiting.Load() {
		c.cork.inputWaiting.Store(waiting)
	}
}

// flushIfInputDrained is called by the reader before it reads a frame
// header: when its buffer holds no whole frame, the read would wait for
// the network (or an event-driven connection would give its goroutine
// up), so the held frames go out first. A writer holding frameLock
// decides for itself (see corkState), so the reader never waits for one.
// The caller holds readMu.
func (c *Conn) flushIfInputDrained() {
	k := &c.cork
	if !k.inputWaiting.Load() && !k.held.Load() {
		return
	}
	if c.frameBuffered() {
		return
	}
	k.inputWaiting.Store(false)
	if k.held.Load() && c.frameLock.tryLock() {
		_ = c.flushHeldLocked()
		c.frameLock.unlock()
	}
}

// frameBuffered reports whether the read buffer holds a whole frame, so
// that reading it will not wait. A header that does not decode counts as
// whole: reading it fails at once. The caller holds readMu.
func (c *Conn) frameBuffered() bool {
	n := c.t.Len()
	if n < 2 {
		return false
	}
	if n > frame.MaxHeaderSize {
		n = frame.MaxHeaderSize
	}
	b, err := c.t.Peek(n)
	if err != nil {
		return false
	}
	h, size, err := frame.ParseHeader(b)
	if err == frame.ErrShortHeader {
		return false
	}
	if err != nil {
		return true
	}
	return int64(c.t.Len()-size) >= h.PayloadLen
}

// flushHeldBeforeClose sends held frames before Close closes the
// transport, waiting at most closeFlushTimeout for a peer that does not
// read. A frame being written by another goroutine is not waited for:
// that goroutine's write fails with ErrConnClosed.
func (c *Conn) flushHeldBeforeClose() {
	if !c.cork.held.Load() || !c.frameLock.tryLock() {
		return
	}
	if c.cork.held.Load() && c.writeErr == nil {
		if err := setTransportDeadline(c.t, false, time.Now().Add(closeFlushTimeout).UnixNano()); err == nil {
			_ = c.flushLocked()
		}
	}
	if c.cork.timerArmed {
		c.cork.timerArmed = false
		c.cork.timer.Stop()
	}
	c.frameLock.unlock()
}
