package websocket

import (
	"errors"
	"io"
	"math"
	"syscall"
	"time"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
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
	p, err = mr.readAll()
	return messageType, p, err
}

// readAll reads the rest of the message into a buffer the caller owns.
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
func (r *messageReader) readAll() ([]byte, error) {
	c := r.c
	var mb messageBuffer
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

// messageBuffer is the buffer readAll fills.
type messageBuffer struct {
	p []byte
	// pooled is p's array while it is the first staged buffer of a large
	// announced message, the receive allowance from a shared pool: that
	// step then costs no allocation, and a message of up to exactFactor
	// allowances is read with one, its own.
	pooled *transport.Buffer
	// reserved is what the message has taken from the receive budget.
	reserved int64
}

// allowancePool holds the first staged buffers of large messages.
var allowancePool = transport.PoolFor(receiveAllowance)

// releaseMessageBuffer gives back the pooled buffer and what the message
// took from the receive budget: once delivered, its buffer is the
// application's.
func (c *Conn) releaseMessageBuffer(mb *messageBuffer) {
	if mb.pooled != nil {
		allowancePool.Put(mb.pooled)
		mb.pooled = nil
	}
	if mb.reserved > 0 {
		c.budget.give(mb.reserved)
		mb.reserved = 0
	}
}

// growMessage makes room in mb for more of the message being read. It
// reports false, with no error, when the buffer is at the read limit (or
// the receive budget, when that is smaller): the caller then probes one
// byte.
func (c *Conn) growMessage(mb *messageBuffer) (bool, error) {
	c.readMu.Lock()
	have := int64(len(mb.p))
	remaining := c.readRemaining
	// The rest of the message is announced when the frame being read is
	// the last and the bytes are not compressed.
	known := !c.fragmented && !c.messageCompressed
	buffered := int64(c.t.Len())
	limit := c.readLimit.Load()
	c.readMu.Unlock()
	if b := c.budget; b != nil && (limit <= 0 || b.limit < limit) {
		limit = b.limit
	}
	if limit > 0 && have >= limit {
		return false, nil
	}
	if known && limit > 0 && have+remaining > limit {
		return false, errReadLimitExceeded // larger than the budget
	}
	g := nextMessageSize(have, remaining, known, buffered, limit)
	if err := c.reserveMessageMemory(mb, g.reserve); err != nil {
		return false, err
	}
	if g.staged && len(mb.p) == 0 && g.size == receiveAllowance {
		mb.pooled = allowancePool.Get()
		mb.p = mb.pooled.B[:0]
		return true, nil
	}
	grown := make([]byte, len(mb.p), g.size)
	copy(grown, mb.p)
	if mb.pooled != nil {
		allowancePool.Put(mb.pooled)
		mb.pooled = nil
	}
	mb.p = grown
	return true, nil
}

// reserveMessageMemory takes from the receive budget what a message whose
// buffer may reach reserve bytes needs beyond receiveAllowance and what it
// took already. A message holding none of the budget waits for it (without
// reading, so TCP pushes back on the peer) until the message deadline; one
// that holds some is refused instead, since connections waiting while they
// hold memory could wait for each other for ever.
func (c *Conn) reserveMessageMemory(mb *messageBuffer, reserve int64) error {
	if c.budget == nil {
		return nil
	}
	if reserve > c.budget.limit {
		reserve = c.budget.limit // a message no larger than the budget can always have it
	}
	need := reserve - receiveAllowance - mb.reserved
	if need <= 0 {
		return nil
	}
	if mb.reserved == 0 {
		if err := c.budget.take(need, c.done, c.currentMessageDeadline()); err != nil {
			return err
		}
	} else if !c.budget.tryTake(need) {
		return errBudgetExhausted
	}
	mb.reserved += need
	return nil
}

// messageGrowth is how readAll's buffer grows: to size bytes, having
// reserved room for reserve bytes. staged marks a buffer smaller than the
// announced message, which a larger one will replace.
type messageGrowth struct {
	size    int64
	staged  bool
	reserve int64
}

// nextMessageSize decides how a full buffer of have bytes grows. remaining
// is what the current frame still holds, buffered what the transport has
// received and not yet handed over, known whether the rest of the message
// is exactly remaining (a final, uncompressed frame).
func nextMessageSize(have, remaining int64, known bool, buffered, limit int64) messageGrowth {
	g := messageGrowthFor(have, remaining, known, buffered, limit)
	if g.size <= receiveAllowance {
		// Within the allowance nothing is reserved: a peer must send
		// that much before its message holds any of the budget.
		g.reserve = 0
	}
	return g
}

func messageGrowthFor(have, remaining int64, known bool, buffered, limit int64) messageGrowth {
	if known {
		total := have + remaining
		arrived := have + buffered
		if arrived > total {
			arrived = total
		}
		if remaining <= receiveAllowance || total <= exactFactor*arrived {
			return messageGrowth{size: total, reserve: total}
		}
		size := 2 * have
		if size < have+receiveAllowance {
			size = have + receiveAllowance
		}
		// While the exact buffer is filled from the last staged one, both
		// are live: reserve for both.
		return messageGrowth{size: size, staged: true, reserve: total + total/(exactFactor/2)}
	}
	// Grow with what arrived: by what is left of this frame, up to
	// receiveAllowance, and at least double.
	more := remaining
	if more > receiveAllowance {
		more = receiveAllowance
	}
	if more < have {
		more = have
	}
	if more == 0 {
		more = 512 // between frames: the next size is not known yet
	}
	size := have + more
	if limit > 0 && (size > limit || limit-size < size/2) {
		// Past the limit, or so close to it that one more step would
		// copy the whole buffer for the last few bytes, with both
		// copies live at once: take the limit now.
		size = limit
	}
	return messageGrowth{size: size, reserve: size}
}

// nextDataFrame reads frame headers until a data frame, handling the control
// frames in between, and sets up the read state for its payload. The
// previous frame's payload must have been consumed.
func (c *Conn) nextDataFrame() (frame.Header, error) {
	for {
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
	n := 0
	if c.t.ReadsDirect(len(p)) {
		if err := c.applyReadDeadline(); err != nil {
			return 0, err
		}
		m, err := c.t.ReadDirect(p, true)
		if m == 0 {
			return 0, unexpectedEOF(err)
		}
		c.unmaskInPlace(p[:m])
		n = m
	} else {
		buffered, err := c.waitBuffered()
		if err != nil {
			return 0, err
		}
		n = len(p)
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
	if c.messageText && !c.messageCompressed && !c.utf8.Complete() {
		return errInvalidUTF8
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

// handleControl reads a control frame's payload and runs its handler.
// RFC 6455 §5.5: control frames may arrive between the frames of a
// fragmented message and are at most 125 bytes.
func (c *Conn) handleControl(h frame.Header) error {
	n := int(h.PayloadLen)
	payload := c.controlPayload[:n]
	if n > 0 {
		b, err := c.t.Peek(n)
		if len(b) < n {
			return unexpectedEOF(err)
		}
		if h.Masked {
			frame.MaskCopy(payload, b, h.Mask, 0)
		} else {
			copy(payload, b)
		}
		if err := c.t.Skip(n); err != nil {
			return err
		}
	}
	_ = c.t.Release()

	switch h.Opcode {
	case frame.OpPing:
		return c.PingHandler()(string(payload))
	case frame.OpPong:
		return c.PongHandler()(string(payload))
	default: // frame.OpClose; CheckHeader refused every other opcode
		code, reason, err := frame.ParseClosePayload(payload)
		if err != nil {
			return err
		}
		c.closeReceived.Store(true)
		if err := c.CloseHandler()(int(code), reason); err != nil {
			return err
		}
		c.closeIfHandshakeDone()
		return &CloseError{Code: int(code), Text: reason}
	}
}

// failRead makes err the connection's permanent read error. Violations of
// the protocol and of the read limit are answered with a close frame
// carrying their code, and the connection is closed (RFC 6455 §7.1.7).
func (c *Conn) failRead(err error) error {
	state := readState{
		closed:           c.closed.Load(),
		keepAliveExpired: c.keepAliveExpired(),
		messageTimedOut:  c.messageTimedOut(err),
	}
	f := classifyReadError(err, state)
	if f.closeCode != 0 {
		c.failConnection(f.closeCode, f.reason)
	}
	c.readErr = f.err
	if c.inflating {
		c.endInflate()
	}
	return f.err
}

// readState is what classifyReadError needs to know of the connection.
type readState struct {
	closed           bool // Close was called (by us, keepalive or the close handshake)
	keepAliveExpired bool // keepalive closed it
	messageTimedOut  bool // the read timed out at the message deadline
}

// readFailure is what a read error becomes: the error every later read
// returns and, when closeCode is not 0, the close frame to send the peer
// before closing (RFC 6455 §7.1.7).
type readFailure struct {
	err       error
	closeCode int
	reason    string
}

// classifyReadError decides, without side effects, what failRead does with
// err.
func classifyReadError(err error, st readState) readFailure {
	var pe *frame.ProtocolError
	switch {
	case errors.As(err, &pe):
		return readFailure{err, int(pe.Code), pe.Reason}
	case err == errReadLimitExceeded:
		return readFailure{ErrReadLimit, CloseMessageTooBig, "message too big"}
	case err == errBudgetExhausted:
		return readFailure{ErrReceiveBudget, CloseTryAgainLater, "server busy: receive budget exhausted"}
	case err == errBudgetDeadline || st.messageTimedOut:
		// The peer is too slow to be holding a message buffer; it may
		// still be reading, so tell it why.
		return readFailure{ErrMessageTimeout, ClosePolicyViolation, "message timeout"}
	case st.closed:
		var ce *CloseError
		switch {
		case st.keepAliveExpired:
			return readFailure{err: ErrKeepAliveTimeout}
		case !errors.As(err, &ce):
			return readFailure{err: ErrConnClosed}
		}
		return readFailure{err: err}
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// RFC 6455 §7.1.5: no close frame was received: 1006.
		return readFailure{err: &CloseError{Code: CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}}
	case errors.Is(err, syscall.ECONNRESET):
		// A reset ends the connection without a close frame too; netpoll
		// reports it as EOF, the standard transport as ECONNRESET.
		return readFailure{err: &CloseError{Code: CloseAbnormalClosure, Text: syscall.ECONNRESET.Error()}}
	}
	return readFailure{err: err}
}

// failReadLocked is failRead for a caller that does not hold readMu.
func (c *Conn) failReadLocked(err error) error {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return c.readErr
	}
	return c.failRead(err)
}

// messageTimedOut reports whether err is a read that timed out at the
// message deadline, rather than at a deadline the application set.
func (c *Conn) messageTimedOut(err error) bool {
	md := c.messageDeadline
	if md == 0 || time.Now().UnixNano() < md {
		return false
	}
	if at := c.rd.at.Load(); at != 0 && at < md {
		return false
	}
	return isTimeout(err)
}

// saturatingDouble returns 2n, or the largest int64 if that overflows.
func saturatingDouble(n int64) int64 {
	if n > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return 2 * n
}

// failConnection sends a close frame with code and reason, within a short
// time, and closes the connection.
func (c *Conn) failConnection(code int, reason string) {
	_ = c.WriteControl(CloseMessage, FormatCloseMessage(code, reason), time.Now().Add(closeWriteTimeout))
	_ = c.Close()
}

// unexpectedEOF turns the end of the stream in the middle of a frame into
// io.ErrUnexpectedEOF and passes other errors through.
func unexpectedEOF(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

var (
	errInvalidUTF8 = &frame.ProtocolError{
		Code:   frame.CloseInvalidFramePayloadData,
		Reason: "invalid UTF-8 in text message",
	}
	errReadLimitExceeded = errors.New("websocket: message exceeds the read limit")
)
