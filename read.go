package websocket

import (
	"errors"
	"io"

	"github.com/hertzws/websocket/frame"
)

// noFrame is the message type returned with an error.
const noFrame = -1

// messageReader is the io.Reader NextReader hands out. The Conn keeps two
// and alternates between them, so a reader is a pointer into the Conn (no
// allocation per message) and a reader kept past the next NextReader call
// is recognised as stale by its sequence number.
type messageReader struct {
	c   *Conn
	seq uint32
}

// NextReader returns the next data message received from the peer. The
// returned messageType is either TextMessage or BinaryMessage.
//
// There can be at most one open reader on a connection. NextReader discards
// the previous message if the application has not already consumed it.
//
// Control frames that arrive before or between the frames of the message are
// handled on the way, by the ping, pong and close handlers.
//
// Applications must break out of the application's read loop when this
// method returns a non-nil error value. Errors returned from this method are
// permanent: once an error is returned, every later call returns it too.
func (c *Conn) NextReader() (messageType int, r io.Reader, err error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return noFrame, nil, c.readErr
	}
	if c.closed.Load() {
		// Never touch the transport after Close: once the handler has
		// returned, Hertz has taken the connection back.
		return noFrame, nil, c.failRead(ErrConnClosed)
	}
	if e := c.events.Load(); e != nil && !e.reading.Load() {
		return noFrame, nil, errNotEventReader
	}
	c.readSeq++
	// Discard what the application left of the previous message.
	if c.inflating {
		if err := c.discardInflated(); err != nil {
			return noFrame, nil, c.failRead(err)
		}
	}
	for {
		if err := c.skipFramePayload(); err != nil {
			return noFrame, nil, c.failRead(err)
		}
		h, err := c.nextDataFrame()
		if err == errNoMessage {
			return noFrame, nil, err
		}
		if err != nil {
			return noFrame, nil, c.failRead(err)
		}
		if h.Opcode == frame.OpContinuation {
			continue // a frame of the message being discarded
		}
		if c.messageCompressed {
			c.beginInflate()
		}
		mr := &c.readers[c.readSeq&1]
		mr.c, mr.seq = c, c.readSeq
		return int(h.Opcode), mr, nil
	}
}

// Read reads the message payload into p: unmasked while it is copied, and
// decompressed when the message is compressed. It returns io.EOF at the end
// of the message.
func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if r.seq != c.readSeq {
		return 0, errStaleReader
	}
	if c.readErr != nil {
		return 0, c.readErr
	}
	if c.closed.Load() {
		return 0, c.failRead(ErrConnClosed)
	}
	var n int
	var err error
	if c.messageCompressed {
		n, err = c.readInflated(p)
	} else {
		n, err = c.readRaw(p)
	}
	if err != nil && err != io.EOF {
		return n, c.failRead(err)
	}
	return n, err
}

// atEOF reports whether the message has no byte left to read, so that the
// next Read returns io.EOF. Compressed messages never say so before that
// Read: the inflater may still hold output.
func (r *messageReader) atEOF() bool {
	c := r.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	return r.seq == c.readSeq && c.readErr == nil && c.messageDone && c.readRemaining == 0 && !c.messageCompressed
}

// knownRemaining returns how many bytes of the message are left to read
// when the headers tell (the current frame is the last and the message is
// not compressed), or zero.
func (r *messageReader) knownRemaining() int64 {
	c := r.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if r.seq != c.readSeq || c.fragmented || c.messageCompressed {
		return 0
	}
	return c.readRemaining
}

// readRaw reads the current message's payload as it arrived: frame after
// frame, control frames handled in between. The caller holds readMu.
func (c *Conn) readRaw(p []byte) (int, error) {
	for {
		if c.readRemaining > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			return c.readFramePayload(p)
		}
		if c.messageDone {
			return 0, io.EOF
		}
		if _, err := c.nextDataFrame(); err != nil {
			return 0, err
		}
	}
}

// ReadMessage is a helper method for getting a reader using NextReader and
// reading from that reader to a buffer.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	messageType, r, err := c.NextReader()
	if err != nil {
		return messageType, nil, err
	}
	mr := r.(*messageReader)
	if p, ok, err := mr.readWhole(nil); ok {
		return messageType, p, err
	}
	p, err = mr.readInto(nil)
	return messageType, p, err
}

// ReadMessageInto is ReadMessage reading into the capacity of buf, which
// the caller owns and passes back message after message, so that a loop
// of reads costs no allocation once its buffer has grown to the size of
// its messages:
//
//	var buf []byte
//	for {
//		mt, p, err := conn.ReadMessageInto(buf[:0])
//		if err != nil {
//			return
//		}
//		buf = p // keep the larger buffer when the message did not fit
//		// use p until the next ReadMessageInto
//	}
//
// p is buf[:n] when the message fits in cap(buf); otherwise it is a new
// buffer, as ReadMessage would return. buf's contents are overwritten
// either way, and so is p's on the next call that passes it. Limits,
// errors and close codes are those of ReadMessage.
func (c *Conn) ReadMessageInto(buf []byte) (messageType int, p []byte, err error) {
	return c.readMessageInto(buf)
}

// readMessageInto is ReadMessage reading into buf's spare capacity, as far
// as it holds the message and the read limit allows; a message that does
// not fit continues in a buffer of its own, and p is then not buf.
func (c *Conn) readMessageInto(buf []byte) (messageType int, p []byte, err error) {
	messageType, r, err := c.NextReader()
	if err != nil {
		return messageType, nil, err
	}
	if limit := c.messageLimit(); limit > 0 && int64(cap(buf)) > limit {
		// The buffer must be full at the limit for readInto to probe
		// past it.
		buf = buf[:0:limit]
	}
	mr := r.(*messageReader)
	if p, ok, err := mr.readWhole(buf[:0]); ok {
		return messageType, p, err
	}
	p, err = mr.readInto(buf[:0])
	return messageType, p, err
}

// readWhole reads a message that has arrived whole, in one frame, into
// buf's spare capacity or else a buffer of exactly its size, in one step
// under one hold of readMu: the common case of a small message, which
// readInto would take in three steps, each taking the lock. ok is false,
// with nothing read, for any other message (fragmented, compressed, not
// all buffered yet, empty, or larger than receiveAllowance or the read
// limit); readInto then reads it.
func (r *messageReader) readWhole(buf []byte) (p []byte, ok bool, err error) {
	c := r.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	n := c.readRemaining
	if r.seq != c.readSeq || c.readErr != nil || c.closed.Load() ||
		c.fragmented || c.messageCompressed || n == 0 || n > receiveAllowance ||
		int64(c.t.Len()) < n {
		return nil, false, nil
	}
	if limit := c.messageLimit(); limit > 0 && n > limit {
		return nil, false, nil
	}
	if int64(cap(buf)) >= n {
		p = buf[:n]
	} else {
		p = make([]byte, n)
	}
	for off := 0; off < len(p); {
		// Every byte is buffered: no call waits.
		m, err := c.readFramePayload(p[off:])
		if err != nil {
			return nil, true, c.failRead(err)
		}
		off += m
	}
	return p, true, nil
}

// readInto reads the rest of the message into buf's spare capacity, then
// into buffers of its own, which the caller owns; buf (nil for
// ReadMessage) must not hold more than the read limit.
//
// The buffer follows the bytes that have arrived, never the size a frame
// header announces: a peer that announces a large message and sends a few
// bytes makes the server hold at most receiveAllowance more than it sent.
// A message whose size is announced gets a buffer of exactly that size, at
// once when it is small (up to receiveAllowance) and otherwise once
// 1/exactFactor of it has arrived; until then its bytes go into staged
// buffers that double as they fill. A message whose size is not announced
// (fragmented, or compressed) doubles with what has arrived. Past
// receiveAllowance, the memory is taken from the receive budget (see
// HertzUpgrader.ReceiveBudget) and given back when the message is
// delivered. The buffer never grows past the read limit: a full buffer at
// the limit is probed with one byte, which ends the message or breaks the
// limit.
func (r *messageReader) readInto(buf []byte) ([]byte, error) {
	c := r.c
	mb := messageBuffer{p: buf}
	defer c.releaseMessageBuffer(&mb)
	for {
		buf := mb.p[len(mb.p):cap(mb.p)]
		probing := false
		if len(buf) == 0 {
			// A buffer sized from the header is full exactly when the
			// message ends: no need to grow it to learn of io.EOF.
			if r.atEOF() {
				return mb.p, nil
			}
			room, err := c.growMessage(&mb)
			if err != nil {
				return nil, c.failReadLocked(err)
			}
			if room {
				buf = mb.p[len(mb.p):cap(mb.p)]
			} else {
				buf, probing = c.probe[:], true
			}
		}
		n, err := r.Read(buf)
		if probing {
			if n > 0 && err == nil {
				// The message goes on past the receive budget, which
				// no message can exceed.
				return nil, c.failReadLocked(errReadLimitExceeded)
			}
			mb.p = append(mb.p, buf[:n]...)
		} else {
			mb.p = mb.p[:len(mb.p)+n]
		}
		if err == io.EOF {
			return mb.p, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var (
	errInvalidUTF8 = &frame.ProtocolError{
		Code:   frame.CloseInvalidFramePayloadData,
		Reason: "invalid UTF-8 in text message",
	}
	errReadLimitExceeded = errors.New("websocket: message exceeds the read limit")
)
