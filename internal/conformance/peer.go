package conformance

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"net"
	"strings"
	"sync"
	"time"
)

// NoCode stands for a close frame without a status code.
const NoCode = closeNoCode

// Connection states of the fuzzing peer, as Autobahn's.
const (
	stateOpen = iota
	stateClosing
	stateClosed
)

// Peer is the fuzzing end of one connection, playing one case. Its
// methods are for the case's script and run on the peer's event loop: the
// script, the callbacks of ContinueLater and the hooks never run at the
// same time.
//
// It follows Autobahn's fuzzing peer closely, so that the judging is the
// same: frames are written as the script says, valid or not; what the peer
// under test sends back is checked (masking, reserved bits, opcodes,
// UTF-8, close codes) and any violation makes the fuzzer fail the
// connection with a close frame; pings are answered; messages and pongs
// are recorded as events and compared with the expected ones when the
// connection is gone.
type Peer struct {
	isServer bool
	conn     net.Conn
	br       *bufio.Reader
	opts     *Options
	c        *Case
	pmd      *pmdState
	rnd      *rand.Rand
	deadline time.Time

	queue eventQueue

	// Write side (event loop only).
	pending  []byte // frames written since the last flush
	writeErr error
	txFrames map[byte]int
	comp     *compressor

	// Connection state, as Autobahn tracks it.
	state             int
	connectionWasOpen bool
	closedByMe        bool
	failedByMe        bool
	droppedByMe       bool
	peerDropped       bool
	wasClean          bool
	wasNotCleanReason string
	remoteCloseCode   int
	remoteCloseReason []byte
	violations        []string
	timers            []*time.Timer
	closeHSTimer      *time.Timer
	timedOut          bool

	// The case's judging.
	received         []Event
	expected         []expectation
	expectedClose    ExpectedClose
	behavior         Verdict
	behaviorClose    CloseVerdict
	result           string
	resultClose      string
	suppressClose    bool
	autoFragmentSize int
	rxCompressed     int // compressed messages received
	onMessage        func(Event)
	onLost           func()
}

type expectation struct {
	verdict Verdict
	events  []Event
}

// ---- script API ----

// IsServer reports whether the fuzzer is the server (testing a client).
func (p *Peer) IsServer() bool { return p.isServer }

// Open reports whether the connection is still open: no close frame sent
// or received, TCP still up.
func (p *Peer) Open() bool { return p.state == stateOpen }

// Compressed reports whether permessage-deflate was negotiated.
func (p *Peer) Compressed() bool { return p.pmd != nil }

// Expect adds an outcome: when the events received by the end of the
// connection equal events, the case's behavior is v. Outcomes are tried in
// the order they were added.
func (p *Peer) Expect(v Verdict, events ...Event) {
	if events == nil {
		events = []Event{}
	}
	p.expected = append(p.expected, expectation{verdict: v, events: events})
}

// ExpectClose says how the connection must end.
func (p *Peer) ExpectClose(e ExpectedClose) { p.expectedClose = e }

// SuppressClose stops the fuzzer from starting the closing handshake once
// the expected events have arrived (cases that close on their own).
func (p *Peer) SuppressClose() { p.suppressClose = true }

// Record appends an event to the received ones (the timeout marks of the
// fail-fast cases).
func (p *Peer) Record(e Event) { p.received = append(p.received, e) }

// SetBehavior sets the case's behavior and its explanation, for scripts
// that judge by themselves (families 9, 12 and 13).
func (p *Peer) SetBehavior(v Verdict, reason string) { p.behavior, p.result = v, reason }

// Behavior returns the case's behavior so far.
func (p *Peer) Behavior() Verdict { return p.behavior }

// CloseBehavior returns the close verdict (valid in OnConnectionLost).
func (p *Peer) CloseBehavior() (CloseVerdict, string) { return p.behaviorClose, p.resultClose }

// SetCloseBehavior overrides the close verdict (in OnConnectionLost).
func (p *Peer) SetCloseBehavior(v CloseVerdict) { p.behaviorClose = v }

// ConnectionWasOpen reports whether the opening handshake completed.
func (p *Peer) ConnectionWasOpen() bool { return p.connectionWasOpen }

// OnMessage replaces the default handling of a received message
// (recording it and closing once the expected events are in).
func (p *Peer) OnMessage(f func(Event)) { p.onMessage = f }

// OnConnectionLost registers a hook that runs after the standard judging,
// as Autobahn's cases override onConnectionLost.
func (p *Peer) OnConnectionLost(f func()) { p.onLost = f }

// SetAutoFragmentSize makes SendMessage split messages into frames of n
// payload bytes (Autobahn's autoFragmentSize); 0 sends one frame.
func (p *Peer) SetAutoFragmentSize(n int) { p.autoFragmentSize = n }

// TxFrames returns how many frames with opcode the fuzzer has sent.
func (p *Peer) TxFrames(opcode byte) int { return p.txFrames[opcode] }

// SendFrame writes one frame as f describes.
func (p *Peer) SendFrame(f Frame) {
	if p.state == stateClosed {
		return
	}
	payload := f.payload()
	masked, key := p.maskFor(f)
	b := encodeFrame(f.Opcode, !f.More, f.Rsv, payload, masked, key)
	p.txFrames[f.Opcode&0x0F]++
	switch {
	case f.Chop > 0:
		p.flush()
		p.writeChopped(b, f.Chop)
	case f.Sync:
		p.flush()
		p.writeNow(b)
		time.Sleep(syncDelay)
	default:
		p.pending = append(p.pending, b...)
	}
}

// EncodeFrame returns the octets of f, masked as the role requires, for a
// script that writes them in pieces with WriteRaw.
func (p *Peer) EncodeFrame(f Frame) []byte {
	masked, key := p.maskFor(f)
	p.txFrames[f.Opcode&0x0F]++
	return encodeFrame(f.Opcode, !f.More, f.Rsv, f.payload(), masked, key)
}

// WriteRaw writes b in one write, after whatever is pending.
func (p *Peer) WriteRaw(b []byte) {
	if p.state == stateClosed {
		return
	}
	p.flush()
	p.writeNow(b)
}

// SendMessage sends a data message: compressed when permessage-deflate
// was negotiated, and split into frames of the auto-fragment size when one
// is set.
func (p *Peer) SendMessage(opcode byte, payload []byte) {
	p.SendMessageFragmented(opcode, payload, p.autoFragmentSize)
}

// SendMessageFragmented sends a data message in frames of fragSize
// payload bytes (0: one frame), compressed when permessage-deflate was
// negotiated (the compressed bytes are what is split).
func (p *Peer) SendMessageFragmented(opcode byte, payload []byte, fragSize int) {
	if p.state == stateClosed {
		return
	}
	var rsv byte
	if p.pmd != nil {
		payload = p.comp.compress(payload)
		rsv = 4
	}
	if fragSize <= 0 || len(payload) <= fragSize {
		p.SendFrame(Frame{Opcode: opcode, Rsv: rsv, Payload: payload})
		return
	}
	op := opcode
	for len(payload) > 0 {
		n := fragSize
		if n > len(payload) {
			n = len(payload)
		}
		p.SendFrame(Frame{Opcode: op, Rsv: rsv, Payload: payload[:n], More: n < len(payload)})
		payload = payload[n:]
		op, rsv = OpContinuation, 0
	}
}

// SendClose starts the closing handshake with code (NoCode for an empty
// close frame), unless it has already started.
func (p *Peer) SendClose(code int) { p.sendCloseFrame(code, nil, false) }

// SendCloseFrame starts the closing handshake with any code and reason
// bytes, valid or not, unless it has already started.
func (p *Peer) SendCloseFrame(code int, reason []byte) { p.sendCloseFrame(code, reason, false) }

// FailConnection fails the connection: a close frame with code and reason,
// unless closing has already started.
func (p *Peer) FailConnection(code int, reason string) {
	if p.state == stateClosed {
		return
	}
	p.failedByMe = true
	if p.state == stateOpen {
		p.sendCloseFrame(code, []byte(reason), false)
	}
}

// KillAfter fails the connection (close code 1001) after d if it is still
// open then.
func (p *Peer) KillAfter(d time.Duration) {
	p.after(d, func() { p.FailConnection(CloseGoingAway, "Going Away") })
}

// CloseAfter starts the closing handshake (empty close frame) after d if
// the connection is still open then.
func (p *Peer) CloseAfter(d time.Duration) {
	p.after(d, func() { p.SendClose(NoCode) })
}

// ContinueLater runs f after d unless the connection is gone by then.
func (p *Peer) ContinueLater(d time.Duration, f func()) { p.after(d, f) }

// ---- internals ----

// Delays between separate writes: Autobahn hands each chop and each sync
// frame to the network separately, with a reactor turn in between.
const (
	syncDelay    = 100 * time.Microsecond
	maxSlowChops = 512
	readLimit    = 80 << 20 // the largest message the fuzzer accepts
)

func (p *Peer) maskFor(f Frame) (bool, [4]byte) {
	var key [4]byte
	switch f.Mask {
	case MaskKey:
		return true, f.Key
	case MaskNone:
		return false, key
	case MaskWrong:
		if p.isServer {
			p.rnd.Read(key[:])
			return true, key
		}
		return false, key
	}
	if p.isServer {
		return false, key
	}
	p.rnd.Read(key[:])
	return true, key
}

func (p *Peer) writeNow(b []byte) {
	if p.writeErr != nil || len(b) == 0 {
		return
	}
	_ = p.conn.SetWriteDeadline(p.deadline)
	if _, err := p.conn.Write(b); err != nil {
		p.writeErr = err
	}
}

func (p *Peer) flush() {
	if len(p.pending) > 0 {
		b := p.pending
		p.pending = nil
		p.writeNow(b)
	}
}

// writeChopped writes b in pieces of chop bytes, each a write of its own;
// a frame of few pieces is trickled with a short pause between them.
func (p *Peer) writeChopped(b []byte, chop int) {
	pieces := (len(b) + chop - 1) / chop
	for len(b) > 0 && p.writeErr == nil {
		n := chop
		if n > len(b) {
			n = len(b)
		}
		p.writeNow(b[:n])
		b = b[n:]
		if pieces <= maxSlowChops && len(b) > 0 {
			time.Sleep(syncDelay)
		}
	}
}

func (p *Peer) sendCloseFrame(code int, reason []byte, isReply bool) {
	if p.state != stateOpen {
		return
	}
	p.SendFrame(Frame{Opcode: OpClose, Payload: closePayload(code, reason)})
	p.state = stateClosing
	p.closedByMe = !isReply
	if p.closedByMe {
		p.closeHSTimer = p.afterUnscaled(p.opts.closeTimeout(), p.onCloseHandshakeTimeout)
	} else if !p.isServer {
		p.afterUnscaled(p.opts.closeTimeout(), p.onServerDropTimeout)
	}
}

func (p *Peer) onCloseHandshakeTimeout() {
	if p.state == stateClosed {
		return
	}
	p.wasClean = false
	p.wasNotCleanReason = "peer did not respond (in time) in closing handshake"
	p.dropConnection()
}

func (p *Peer) onServerDropTimeout() {
	if p.state == stateClosed {
		return
	}
	p.wasClean = false
	p.wasNotCleanReason = "server did not drop TCP connection (in time)"
	p.dropConnection()
}

func (p *Peer) dropConnection() {
	if p.state == stateClosed {
		return
	}
	p.flush()
	p.droppedByMe = true
	p.state = stateClosed
	_ = p.conn.Close()
}

func (p *Peer) protocolViolation(code int, reason string) {
	p.violations = append(p.violations, reason)
	p.FailConnection(code, reason)
}

// after runs f on the event loop after d (times Options.TimeScale),
// unless the connection is closed by then.
func (p *Peer) after(d time.Duration, f func()) *time.Timer {
	return p.afterUnscaled(p.opts.scale(d), f)
}

// afterUnscaled is after for a delay that is already scaled.
func (p *Peer) afterUnscaled(d time.Duration, f func()) *time.Timer {
	t := time.AfterFunc(d, func() {
		p.queue.push(loopEvent{kind: evTimer, fn: f})
	})
	p.timers = append(p.timers, t)
	return t
}

func (p *Peer) finishWhenDone() {
	for _, e := range p.expected {
		if !eventsEqual(p.received, e.events) {
			return
		}
	}
	if p.expectedClose.ClosedByMe && !p.suppressClose && len(p.expectedClose.Codes) > 0 {
		p.SendClose(p.expectedClose.Codes[0])
	}
}

// ---- event loop ----

const (
	evMessage = iota
	evPing
	evPong
	evClose
	evViolation
	evLost
	evTimer
)

type loopEvent struct {
	kind       int
	payload    []byte
	binary     bool
	compressed bool
	code       int
	reason     string
	err        error
	fn         func()
}

// eventQueue is an unbounded queue: the reader never waits for the loop,
// so a loop busy writing a large message cannot deadlock with a peer busy
// echoing one.
type eventQueue struct {
	mu     sync.Mutex
	items  []loopEvent
	notify chan struct{}
}

func (q *eventQueue) push(e loopEvent) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take() []loopEvent {
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.mu.Unlock()
	return items
}

// play runs the case on an open connection and judges it.
func (p *Peer) play() Result {
	start := time.Now()
	p.queue.notify = make(chan struct{}, 1)
	p.txFrames = map[byte]int{}
	p.state = stateOpen
	p.connectionWasOpen = true
	p.remoteCloseCode = NoCode
	p.behavior = Failed
	p.behaviorClose = CloseFailed
	p.result = "Actual events differ from any expected."
	p.resultClose = "TCP connection was dropped without close handshake"
	if p.pmd != nil {
		p.comp = newCompressor(p.pmd.sendWindowBits, p.pmd.sendNoTakeover)
	}

	reader := &frameReader{p: p, r: p.br, isServer: p.isServer}
	if p.pmd != nil {
		reader.inflater = newInflater(p.pmd.recvWindowBits, p.pmd.recvNoTakeover)
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		reader.run()
	}()

	caseTimer := time.NewTimer(time.Until(p.deadline))
	defer caseTimer.Stop()

	p.c.Run(p)
	p.flush()
	lost := false
	for !lost {
		select {
		case <-p.queue.notify:
		case <-caseTimer.C:
			p.timedOut = true
			p.violations = append(p.violations, "case did not finish within its timeout")
			p.dropConnection()
			lost = true
			continue
		}
		for _, e := range p.queue.take() {
			if p.handle(e) {
				lost = true
			}
			p.flush()
		}
	}
	for _, t := range p.timers {
		t.Stop()
	}
	_ = p.conn.Close()
	<-readerDone
	p.judge()
	if p.timedOut {
		p.behavior = Failed
		p.result = "case did not finish within its timeout; " + p.result
	}
	r := Result{
		ID:            p.c.ID,
		Description:   p.c.Description,
		Verdict:       combine(p.behavior, p.behaviorClose),
		Behavior:      p.behavior,
		Reason:        p.result,
		CloseBehavior: p.behaviorClose,
		CloseReason:   p.resultClose,
		CloseCode:     p.remoteCloseCode,
		CloseText:     string(p.remoteCloseReason),
		ClosedByMe:    p.closedByMe,
		DroppedByMe:   p.droppedByMe,
		PeerDropped:   p.peerDropped,
		WasClean:      p.wasClean,
		Received:      p.received,
		Duration:      time.Since(start),
	}
	if len(p.violations) > 0 && r.Verdict != OK {
		r.Reason += "; fuzzer: " + strings.Join(p.violations, "; ")
	}
	return r
}

// handle processes one event; it reports whether the connection is gone.
func (p *Peer) handle(e loopEvent) bool {
	switch e.kind {
	case evTimer:
		if p.state != stateClosed {
			e.fn()
		}
	case evMessage:
		if p.state == stateClosed {
			return false
		}
		ev := Event{Kind: "message", Payload: e.payload, Binary: e.binary}
		if e.compressed {
			p.rxCompressed++
		}
		if p.onMessage != nil {
			p.onMessage(ev)
			return false
		}
		p.received = append(p.received, ev)
		p.finishWhenDone()
	case evPong:
		if p.state == stateClosed {
			return false
		}
		p.received = append(p.received, PongEvent(e.payload))
		p.finishWhenDone()
	case evPing:
		if p.state == stateOpen {
			p.SendFrame(Frame{Opcode: OpPong, Payload: e.payload})
		}
	case evViolation:
		if p.state != stateClosed {
			p.protocolViolation(e.code, e.reason)
		}
	case evClose:
		if p.state != stateClosed {
			p.onCloseFrame(e.code, []byte(e.reason))
		}
	case evLost:
		if p.state != stateClosed {
			p.state = stateClosed
			p.peerDropped = true
			if p.closeHSTimer != nil {
				p.closeHSTimer.Stop()
			}
		}
		return true
	}
	return false
}

// onCloseFrame handles the peer's close frame as Autobahn does.
func (p *Peer) onCloseFrame(code int, reason []byte) {
	p.remoteCloseCode = code
	p.remoteCloseReason = reason
	if code != NoCode && !validCloseCode(code) {
		p.protocolViolation(CloseProtocolError, fmt.Sprintf("peer sent invalid close code %d", code))
	} else if !validUTF8(reason) {
		p.violations = append(p.violations, "peer sent a close reason that is not UTF-8")
		p.FailConnection(CloseInvalidPayload, "invalid close reason (non-UTF-8 payload)")
	}
	switch p.state {
	case stateClosing:
		if p.closeHSTimer != nil {
			p.closeHSTimer.Stop()
		}
		p.wasClean = true
		if p.isServer {
			p.dropConnection()
		} else {
			p.afterUnscaled(p.opts.closeTimeout(), p.onServerDropTimeout)
		}
	case stateOpen:
		p.wasClean = true
		p.sendCloseFrame(CloseNormal, nil, true)
		if p.isServer {
			p.dropConnection()
		}
	}
}

// judge is Autobahn's Case.onConnectionLost, then the case's own hook.
func (p *Peer) judge() {
	for _, e := range p.expected {
		if eventsEqual(p.received, e.events) {
			p.behavior = e.verdict
			p.result = "Actual events match at least one expected."
			break
		}
	}
	if p.behavior == Failed && len(p.expected) > 0 && p.result == "Actual events differ from any expected." {
		var exp []string
		for _, e := range p.expected {
			exp = append(exp, string(e.verdict)+" "+formatEvents(e.events))
		}
		p.result = fmt.Sprintf("received %s, expected %s", formatEvents(p.received), strings.Join(exp, " or "))
	}
	if p.connectionWasOpen {
		ec := p.expectedClose
		switch {
		case ec.ClosedByMe != p.closedByMe:
			p.behaviorClose = CloseFailed
			if p.closedByMe {
				p.resultClose = "The connection was failed by the wrong endpoint (the fuzzer had to close it)"
			} else {
				p.resultClose = "The connection was failed by the wrong endpoint (the peer closed it)"
			}
		case ec.RequireClean && !p.wasClean:
			p.behaviorClose = CloseUnclean
			p.resultClose = "The spec requires the connection to be failed cleanly here"
			if p.wasNotCleanReason != "" {
				p.resultClose += " (" + p.wasNotCleanReason + ")"
			} else if p.peerDropped {
				p.resultClose += " (peer dropped TCP without a closing handshake)"
			}
		case p.remoteCloseCode != NoCode && !containsInt(ec.Codes, p.remoteCloseCode):
			p.behaviorClose = CloseWrongCode
			p.resultClose = fmt.Sprintf("The close code should have been %s or empty, got %d", joinInts(ec.Codes), p.remoteCloseCode)
		case !p.isServer && p.droppedByMe:
			p.behaviorClose = CloseFailedByPeer
			p.resultClose = "It is preferred that the server close the TCP connection"
			if p.wasNotCleanReason != "" {
				p.resultClose += " (" + p.wasNotCleanReason + ")"
			}
		default:
			p.behaviorClose = CloseOK
			p.resultClose = "Connection was properly closed"
		}
		if ec.WrongEndpointFatal && ec.ClosedByMe != p.closedByMe {
			p.behavior = Failed
			if p.result == "Actual events match at least one expected." {
				p.result = "the peer did not fail the connection"
			}
		}
	} else {
		p.behaviorClose = CloseFailed
		p.resultClose = "The WebSocket opening handshake was never completed!"
	}
	if p.onLost != nil {
		p.onLost()
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ",")
}

// ---- reading ----

// frameReader parses what the peer under test sends, on its own
// goroutine, and hands events to the loop. It checks every frame as a
// strict endpoint would and reports violations; it keeps reading after
// one (the fuzzer fails the connection with a close frame and waits for
// the answer), unless the stream cannot be parsed any further.
type frameReader struct {
	p        *Peer
	r        io.Reader
	isServer bool
	inflater *inflater

	inMessage  bool
	msgOpcode  byte
	compressed bool
	skipping   bool // the message in progress was found invalid
	buf        []byte
}

func (fr *frameReader) violation(code int, format string, args ...interface{}) {
	fr.p.queue.push(loopEvent{kind: evViolation, code: code, reason: fmt.Sprintf(format, args...)})
}

func (fr *frameReader) run() {
	scratch := make([]byte, 8)
	for {
		h, err := readHeader(fr.r, scratch)
		if err != nil {
			if err == errBadLength {
				fr.violation(CloseProtocolError, "%v", err)
				_, _ = io.Copy(io.Discard, fr.r)
			}
			fr.p.queue.push(loopEvent{kind: evLost, err: err})
			return
		}
		if h.length > readLimit {
			fr.violation(CloseMessageTooBig, "frame of %d bytes is above the fuzzer's limit of %d", h.length, readLimit)
			_, _ = io.Copy(io.Discard, fr.r)
			fr.p.queue.push(loopEvent{kind: evLost})
			return
		}
		payload := make([]byte, h.length)
		if _, err := io.ReadFull(fr.r, payload); err != nil {
			fr.p.queue.push(loopEvent{kind: evLost, err: unexpected(err)})
			return
		}
		if h.masked {
			maskBytes(payload, h.key, 0)
		}
		fr.frame(h, payload)
	}
}

func (fr *frameReader) frame(h frameHeader, payload []byte) {
	if h.masked != fr.isServer {
		if fr.isServer {
			fr.violation(CloseProtocolError, "client sent an unmasked frame (opcode %d)", h.opcode)
		} else {
			fr.violation(CloseProtocolError, "server sent a masked frame (opcode %d)", h.opcode)
		}
	}
	if !isDefined(h.opcode) {
		fr.violation(CloseProtocolError, "peer sent reserved opcode %d", h.opcode)
		return
	}
	if isControl(h.opcode) {
		switch {
		case h.rsv != 0:
			fr.violation(CloseProtocolError, "peer sent control frame (opcode %d) with RSV bits %d", h.opcode, h.rsv)
			return
		case !h.fin:
			fr.violation(CloseProtocolError, "peer sent fragmented control frame (opcode %d)", h.opcode)
			return
		case len(payload) > maxControlPayloadLen:
			fr.violation(CloseProtocolError, "peer sent control frame (opcode %d) with %d bytes of payload", h.opcode, len(payload))
			return
		}
		switch h.opcode {
		case OpPing:
			fr.p.queue.push(loopEvent{kind: evPing, payload: payload})
		case OpPong:
			fr.p.queue.push(loopEvent{kind: evPong, payload: payload})
		case OpClose:
			if len(payload) == 1 {
				fr.violation(CloseProtocolError, "peer sent close frame with 1 byte of payload")
				return
			}
			code := NoCode
			var reason []byte
			if len(payload) >= 2 {
				code = int(payload[0])<<8 | int(payload[1])
				reason = payload[2:]
			}
			fr.p.queue.push(loopEvent{kind: evClose, code: code, reason: string(reason)})
		}
		return
	}

	// Data frames.
	if h.opcode == OpContinuation {
		if !fr.inMessage {
			fr.violation(CloseProtocolError, "peer sent continuation frame with no message to continue")
			return
		}
		if h.rsv != 0 {
			fr.violation(CloseProtocolError, "peer sent continuation frame with RSV bits %d", h.rsv)
			fr.skipping = true
		}
	} else {
		if fr.inMessage {
			fr.violation(CloseProtocolError, "peer started a new message (opcode %d) inside a fragmented one", h.opcode)
			fr.skipping = true
			return
		}
		fr.inMessage, fr.msgOpcode, fr.skipping, fr.buf = true, h.opcode, false, nil
		fr.compressed = h.rsv&4 != 0
		switch {
		case h.rsv&3 != 0:
			fr.violation(CloseProtocolError, "peer sent data frame with RSV bits %d", h.rsv)
			fr.skipping = true
		case fr.compressed && fr.inflater == nil:
			fr.violation(CloseProtocolError, "peer sent RSV1 without permessage-deflate")
			fr.skipping = true
		}
	}
	if !fr.skipping {
		if len(fr.buf)+len(payload) > readLimit {
			fr.violation(CloseMessageTooBig, "message bigger than the fuzzer's limit of %d bytes", readLimit)
			fr.skipping = true
		} else {
			fr.buf = append(fr.buf, payload...)
		}
	}
	if !h.fin {
		return
	}
	fr.inMessage = false
	if fr.skipping {
		fr.skipping = false
		return
	}
	msg := fr.buf // owned by the event from here on
	fr.buf = nil
	if fr.compressed {
		out, err := fr.inflater.inflate(msg, readLimit)
		if err != nil {
			fr.violation(CloseProtocolError, "peer's compressed message does not decompress: %v", err)
			return
		}
		msg = out
	}
	if msg == nil {
		msg = []byte{}
	}
	if fr.msgOpcode == OpText && !validUTF8(msg) {
		fr.violation(CloseInvalidPayload, "peer sent a text message that is not valid UTF-8: %s", describeBytes(msg))
		return
	}
	fr.p.queue.push(loopEvent{kind: evMessage, payload: msg, binary: fr.msgOpcode == OpBinary, compressed: fr.compressed})
}
