package websocket

import (
	"math"

	"github.com/hertzws/websocket/frame"
)

// nextDataFrame reads frame headers until a data frame, handling the control
// frames in between, and sets up the read state for its payload. The
// previous frame's payload must have been consumed.
func (c *Conn) nextDataFrame() (frame.Header, error) {
	for {
		c.flushIfInputDrained()
		if e := c.events.Load(); e != nil && !c.fragmented && e.waitsForEvent() {
			// Between messages with nothing to read: an event-driven
			// connection gives its goroutine up here.
			return frame.Header{}, errNoMessage
		}
		if err := c.applyReadDeadline(); err != nil {
			return frame.Header{}, err
		}
		h, err := frame.ReadHeader(c.t)
		if err != nil {
			return h, err
		}
		c.framesSeen.Add(1)
		if err := frame.CheckHeader(h, frame.State{Role: c.role, AllowedRsv: c.allowedRsv, InMessage: c.fragmented}); err != nil {
			return h, err
		}
		if h.Opcode.IsControl() {
			if err := c.handleControl(h); err != nil {
				return h, err
			}
			continue
		}

		// RFC 6455 §10.4: limit the message size before reading a byte of it.
		if h.Opcode != frame.OpContinuation {
			c.messageDeadline = 0 // set by the first wait (currentMessageDeadline)
			c.messageLen = 0
			c.messageText = h.Opcode == frame.OpText
			c.messageCompressed = h.Rsv&frame.Rsv1 != 0
			c.utf8.Reset()
		}
		c.messageLen += h.PayloadLen
		if limit := c.readLimit.Load(); limit > 0 {
			if c.messageCompressed {
				// The limit applies to the inflated size (readInflated);
				// this bounds only the wire bytes, which a valid DEFLATE
				// stream keeps well under twice the output.
				limit = saturatingDouble(limit)
			}
			if h.PayloadLen > limit || c.messageLen > limit {
				return h, errReadLimitExceeded
			}
		}
		c.hdr = h
		c.readRemaining = h.PayloadLen
		c.readMaskPos = 0
		c.fragmented = !h.Fin
		c.messageDone = false
		if err := c.endFrameIfEmpty(); err != nil {
			return h, err
		}
		return h, nil
	}
}

// readFramePayload copies and unmasks up to len(p) bytes of the current
// frame's payload. It waits only until at least one byte is there, so a
// peer that sends a message slowly is validated (and failed) as its bytes
// arrive.
//
// Buffered bytes are copied and unmasked in one pass. Where the transport
// reads around its buffer (ReadsDirect), bytes go straight from the socket
// into p and are unmasked in place: a large read with nothing buffered, the
// rest of p after the buffered bytes (topped up with what the socket holds
// already), and on Hertz's standard transport every read.
func (c *Conn) readFramePayload(p []byte) (int, error) {
	if int64(len(p)) > c.readRemaining {
		p = p[:c.readRemaining]
	}
	var n int
	var err error
	if c.t.ReadsDirect(len(p)) {
		n, err = c.readPayloadDirect(p)
	} else {
		n, err = c.readPayloadBuffered(p)
	}
	if err != nil {
		return 0, err
	}
	c.readRemaining -= int64(n)
	c.framesSeen.Add(1)
	// RFC 6455 §8.1: fail as soon as the text stops being valid UTF-8.
	// Compressed text is validated as it is inflated.
	if c.messageText && !c.messageCompressed && !c.utf8.Write(p[:n]) {
		return 0, errInvalidUTF8
	}
	return n, c.endFrameIfEmpty()
}

// readPayloadDirect reads payload bytes straight from the socket into p,
// waiting for at least one, and unmasks them in place.
func (c *Conn) readPayloadDirect(p []byte) (int, error) {
	if err := c.applyReadDeadline(); err != nil {
		return 0, err
	}
	n, err := c.t.ReadDirect(p, true)
	if n == 0 {
		return 0, unexpectedEOF(err)
	}
	c.unmaskInPlace(p[:n])
	return n, nil
}

// readPayloadBuffered copies and unmasks the buffered payload bytes into p
// in one pass, waiting for at least one, then tops p up with what the
// socket holds already when the transport reads the rest directly.
func (c *Conn) readPayloadBuffered(p []byte) (int, error) {
	buffered, err := c.waitBuffered()
	if err != nil {
		return 0, err
	}
	n := len(p)
	if n > buffered {
		n = buffered
	}
	b, err := c.t.Peek(n)
	if len(b) < n {
		return 0, unexpectedEOF(err)
	}
	if c.hdr.Masked {
		c.readMaskPos = frame.MaskCopy(p, b, c.hdr.Mask, c.readMaskPos)
	} else {
		copy(p, b)
	}
	if err := c.t.Skip(n); err != nil {
		return 0, err
	}
	if rest := p[n:]; len(rest) > 0 && c.t.ReadsDirect(len(rest)) {
		// An error here is met again by the next read.
		m, _ := c.t.ReadDirect(rest, false)
		c.unmaskInPlace(rest[:m])
		n += m
	}
	return n, nil
}

// unmaskInPlace unmasks payload bytes read straight into the caller's
// buffer.
func (c *Conn) unmaskInPlace(b []byte) {
	if c.hdr.Masked {
		c.readMaskPos = frame.Mask(c.hdr.Mask, c.readMaskPos, b)
	}
}

// skipFramePayload discards the rest of the current frame's payload.
func (c *Conn) skipFramePayload() error {
	for c.readRemaining > 0 {
		buffered, err := c.waitBuffered()
		if err != nil {
			return err
		}
		n := int64(buffered)
		if n > c.readRemaining {
			n = c.readRemaining
		}
		if err := c.t.Skip(int(n)); err != nil {
			return err
		}
		c.readRemaining -= n
		if err := c.endFrameIfEmpty(); err != nil {
			return err
		}
	}
	return nil
}

// endFrameIfEmpty runs when a payload may be used up: it releases the
// transport's consumed buffers and, at the end of the final frame, checks
// that a text message ended on a whole UTF-8 sequence.
func (c *Conn) endFrameIfEmpty() error {
	if c.readRemaining > 0 {
		return nil
	}
	_ = c.t.Release()
	if c.fragmented {
		return nil
	}
	c.messageDone = true
	c.messageDeadline = 0
	c.messageEnded()
	if c.messageText && !c.messageCompressed && !c.utf8.Complete() {
		return errInvalidUTF8
	}
	if !c.messageCompressed {
		c.observeRead(c.messageLen) // a compressed message ends in readInflated
	}
	return nil
}

// waitBuffered blocks until the transport holds at least one unread byte and
// returns how many it holds.
func (c *Conn) waitBuffered() (int, error) {
	if n := c.t.Len(); n > 0 {
		return n, nil
	}
	if err := c.applyReadDeadline(); err != nil {
		return 0, err
	}
	if _, err := c.t.Peek(1); err != nil {
		if n := c.t.Len(); n > 0 {
			return n, nil
		}
		return 0, unexpectedEOF(err)
	}
	return c.t.Len(), nil
}

// saturatingDouble returns 2n, or the largest int64 if that overflows.
func saturatingDouble(n int64) int64 {
	if n > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return 2 * n
}
