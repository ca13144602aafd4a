package frame

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Compression levels accepted by [NewDeflater] and [CompressMessage], as in
// compress/flate.
const (
	// HuffmanOnly entropy-codes the bytes without looking for repeats.
	HuffmanOnly = -2
	// DefaultCompressionLevel lets the flate library choose (level 5).
	DefaultCompressionLevel = -1
	// NoCompression sends stored blocks: framed as compressed, no smaller.
	NoCompression = 0
	// BestSpeed is the fastest level that finds repeats.
	BestSpeed = 1
	// BestCompression is the slowest, smallest level.
	BestCompression = 9
)

// Window bits bounds of RFC 7692 §7.1.2: the LZ77 window is 2^bits bytes.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// deflateTail is the empty stored block a sync flush ends with. RFC 7692
// §7.2.1 removes it from the end of every compressed message and §7.2.2
// puts it back before decompressing.
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// ErrInvalidCompressionLevel is returned for a level outside -2..9.
var ErrInvalidCompressionLevel = errors.New("websocket: invalid compression level")

// ValidCompressionLevel reports whether level is one [NewDeflater] accepts.
func ValidCompressionLevel(level int) bool {
	return level >= HuffmanOnly && level <= BestCompression
}

// compressedSink collects what the flate writer produces.
type compressedSink struct{ b []byte }

func (s *compressedSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// pooledWriter is a flate writer and the sink it writes to, kept together
// in a pool so that compressing a message allocates nothing once warm.
type pooledWriter struct {
	fw   *flate.Writer
	sink compressedSink
	pool *sync.Pool
}

// writerPools holds idle flate writers by the encoder they need: one pool
// per level for the full 32 KiB window (levels -2 and 0 never look back, so
// any window suits them), and one per window size below 15 bits for the
// levels that do (-1 and 1..9), which all use the windowed encoder.
var writerPools [BestCompression - HuffmanOnly + 1 + MaxWindowBits - MinWindowBits]sync.Pool

// fullWindowWriter reports whether level may use the plain 32 KiB encoder
// with a window of 2^windowBits: only if that is the full window or the
// level makes no back-references at all.
func fullWindowWriter(level, windowBits int) bool {
	return windowBits >= MaxWindowBits || level == HuffmanOnly || level == NoCompression
}

func writerPoolIndex(level, windowBits int) int {
	if fullWindowWriter(level, windowBits) {
		return level - HuffmanOnly
	}
	return BestCompression - HuffmanOnly + 1 + windowBits - MinWindowBits
}

// getWriter returns a flate writer for level whose back-references never
// reach further than 2^windowBits bytes, reset to an empty sink.
func getWriter(level, windowBits int) *pooledWriter {
	pool := &writerPools[writerPoolIndex(level, windowBits)]
	if pw, ok := pool.Get().(*pooledWriter); ok {
		pw.sink.b = pw.sink.b[:0]
		pw.fw.Reset(&pw.sink)
		return pw
	}
	pw := &pooledWriter{pool: pool}
	var err error
	if fullWindowWriter(level, windowBits) {
		pw.fw, err = flate.NewWriter(&pw.sink, level)
	} else {
		// RFC 7692 §7.1.2.1: the sender must not use a larger window than
		// server_max_window_bits (or client_max_window_bits) allows.
		pw.fw, err = flate.NewWriterWindow(&pw.sink, 1<<windowBits)
	}
	if err != nil {
		// Levels and window bits are checked before we get here.
		panic("frame: " + err.Error())
	}
	return pw
}

// maxIdleSink is the largest output buffer a writer keeps while pooled or
// idle; a larger one, left by a big message, is dropped.
const maxIdleSink = 64 << 10

func (pw *pooledWriter) trimSink() {
	if cap(pw.sink.b) > maxIdleSink {
		pw.sink.b = nil
	}
	pw.sink.b = pw.sink.b[:0]
}

func (pw *pooledWriter) release() {
	pw.trimSink()
	pw.pool.Put(pw)
}

// Deflater compresses the messages one endpoint sends, as RFC 7692 §7.2.1
// describes: each message is a run of DEFLATE blocks ended by a sync flush
// whose 4-byte tail is removed. With context takeover the LZ77 window
// carries over from message to message and the Deflater keeps its state for
// the life of the connection; without it, each message starts afresh and
// the state goes back to a shared pool between messages, so an idle
// connection holds none.
//
// A message is written with Write and framed piece by piece from Pending
// and Consume; Finish returns its last bytes, and EndMessage, once they are
// sent, readies the Deflater for the next message. A Deflater is not safe
// for concurrent use.
type Deflater struct {
	level      int
	windowBits int
	takeover   bool
	finished   bool // the current message was flushed by Finish
	w          *pooledWriter
	// lz and msg are the lean encoder (deflate_lz.go), used instead of w
	// at BestSpeed with context takeover: lz is the state the connection
	// keeps, msg the message in progress.
	lz  *lzState
	msg *lzMessage
}

// usesLean reports whether a Deflater compresses with the lean encoder:
// at BestSpeed with context takeover, where a klauspost/compress writer
// would stay with the connection for its whole life.
func usesLean(level int, takeover bool) bool { return takeover && level == BestSpeed }

// NewDeflater returns a Deflater that compresses at level (-2..9) with back
// references no longer than 2^windowBits bytes (8..15). Levels -1 and 1 to 9
// with a window under 15 bits all use the windowed encoder, whose speed and
// ratio sit near level 5. takeover keeps the window between messages.
func NewDeflater(level, windowBits int, takeover bool) (*Deflater, error) {
	if !ValidCompressionLevel(level) {
		return nil, ErrInvalidCompressionLevel
	}
	d := &Deflater{level: level, windowBits: clampWindowBits(windowBits), takeover: takeover}
	d.resetLean()
	return d, nil
}

// resetLean gives the Deflater a fresh lean state if its level and takeover
// call for one, and none otherwise.
func (d *Deflater) resetLean() {
	d.releaseMessage()
	d.lz = nil
	if usesLean(d.level, d.takeover) {
		st := newLZState(d.windowBits)
		d.lz = &st
	}
}

// releaseMessage gives back the lean encoder's message state.
func (d *Deflater) releaseMessage() {
	if d.msg != nil {
		d.msg.release()
		d.msg = nil
	}
}

func clampWindowBits(bits int) int {
	if bits < MinWindowBits {
		return MinWindowBits
	}
	if bits > MaxWindowBits {
		return MaxWindowBits
	}
	return bits
}

// Level returns the compression level of the next message.
func (d *Deflater) Level() int { return d.level }

// WindowBits returns the window size, in bits, the Deflater compresses with.
func (d *Deflater) WindowBits() int { return d.windowBits }

// SetLevel changes the level from the next message on. With context
// takeover the next message starts with an empty window, which the peer's
// decoder accepts like any other message.
func (d *Deflater) SetLevel(level int) error {
	if !ValidCompressionLevel(level) {
		return ErrInvalidCompressionLevel
	}
	if level != d.level {
		d.level = level
		d.dropWriter()
		d.resetLean()
	}
	return nil
}

// ForgetContext makes the next message start with an empty window. Call it
// after a message whose bytes this Deflater did not produce (a prepared
// message) was sent compressed on the same connection: the peer's window now
// holds that message, the Deflater's does not, and back-references made
// from the old window would point at the wrong bytes.
func (d *Deflater) ForgetContext() {
	if d.lz != nil {
		if d.msg == nil {
			d.lz.forget()
		}
		return
	}
	if d.w != nil && len(d.w.sink.b) == 0 {
		d.w.fw.Reset(&d.w.sink)
	}
}

func (d *Deflater) writer() *pooledWriter {
	if d.w == nil {
		d.w = getWriter(d.level, d.windowBits)
	}
	return d.w
}

// Write compresses p into the pending output.
func (d *Deflater) Write(p []byte) (int, error) {
	d.finished = false
	if d.lz != nil {
		if d.msg == nil {
			d.msg = getLZMessage()
		}
		d.lz.write(d.msg, p)
		return len(p), nil
	}
	return d.writer().fw.Write(p)
}

// output is the compressed output of the current message so far.
func (d *Deflater) output() []byte {
	switch {
	case d.msg != nil:
		return d.msg.bw.out
	case d.w != nil:
		return d.w.sink.b
	}
	return nil
}

// Pending returns compressed bytes of the current message that can be sent
// now: everything produced so far except the last four bytes, which may turn
// out to be the tail that Finish removes.
func (d *Deflater) Pending() []byte {
	out := d.output()
	if len(out) <= len(deflateTail) {
		return nil
	}
	return out[:len(out)-len(deflateTail)]
}

// Consume drops the first n bytes of the pending output once they are sent.
func (d *Deflater) Consume(n int) {
	if d.msg != nil {
		b := d.msg.bw.out
		d.msg.bw.out = b[:copy(b, b[n:])]
		return
	}
	b := d.w.sink.b
	d.w.sink.b = b[:copy(b, b[n:])]
}

// Finish ends the message with a sync flush and returns the rest of its
// compressed bytes, tail removed (RFC 7692 §7.2.1). The bytes stay valid
// until EndMessage.
func (d *Deflater) Finish() ([]byte, error) {
	if d.lz != nil {
		if d.msg == nil {
			d.msg = getLZMessage()
		}
		b, err := withoutTail(d.lz.finish(d.msg))
		d.finished = err == nil
		return b, err
	}
	w := d.writer()
	if err := w.fw.Flush(); err != nil {
		return nil, err
	}
	b, err := withoutTail(w.sink.b)
	d.finished = err == nil
	return b, err
}

// withoutTail strips the sync-flush tail from a flushed DEFLATE stream.
func withoutTail(b []byte) ([]byte, error) {
	if !bytes.HasSuffix(b, deflateTail[:]) {
		return nil, errors.New("websocket: deflate output lacks its sync tail")
	}
	return b[:len(b)-len(deflateTail)], nil
}

// EndMessage readies the Deflater for the next message once the bytes
// Finish returned are sent. Without context takeover the compression state
// goes back to the pool. It may also abandon a message half written; the
// next message then starts with an empty window.
func (d *Deflater) EndMessage() {
	if d.lz != nil {
		if !d.finished && d.msg != nil {
			// Abandoned: the peer never saw these bytes.
			d.lz.forget()
		}
		d.finished = false
		d.releaseMessage()
		return
	}
	if d.w == nil {
		return
	}
	if d.takeover && d.finished {
		d.w.trimSink()
		return
	}
	d.dropWriter()
}

func (d *Deflater) dropWriter() {
	d.finished = false
	if d.w != nil {
		d.w.release()
		d.w = nil
	}
}

// Close releases the Deflater's state. It may be used again afterwards, as
// if new.
func (d *Deflater) Close() {
	d.dropWriter()
	d.resetLean()
}

// AppendCompressed appends to dst the compressed form of a whole message as
// a fresh DEFLATE stream (no earlier window), tail removed, at level with a
// window of 2^windowBits bytes. Such bytes are valid on any connection that
// negotiated permessage-deflate with at least that window, with or without
// context takeover, which is what a message prepared once for many
// connections needs.
func AppendCompressed(dst, msg []byte, level, windowBits int) ([]byte, error) {
	if !ValidCompressionLevel(level) {
		return dst, ErrInvalidCompressionLevel
	}
	pw := getWriter(level, clampWindowBits(windowBits))
	defer pw.release()
	if _, err := pw.fw.Write(msg); err != nil {
		return dst, err
	}
	if err := pw.fw.Flush(); err != nil {
		return dst, err
	}
	b, err := withoutTail(pw.sink.b)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// ErrInvalidCompressedData is the error an [Inflater] returns when a
// message's payload is not a valid DEFLATE stream. RFC 7692 §8 leaves no
// choice but to fail the connection; the close code is 1007, as for any
// payload that does not decode.
var ErrInvalidCompressedData = &ProtocolError{
	Code:   CloseInvalidFramePayloadData,
	Reason: "invalid compressed data",
}

// inflateTrailer follows a message's compressed payload on its way into the
// flate reader: first the tail that RFC 7692 §7.2.2 puts back, then an empty
// final stored block, so that the reader reports io.EOF exactly at the end
// of the message and a payload cut short is told apart from a whole one.
var inflateTrailer = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// trailedSource is a message's compressed payload followed by
// inflateTrailer.
type trailedSource struct {
	payload io.Reader // nil once it reported io.EOF
	served  int       // bytes of inflateTrailer already read
	err     error     // the payload's error, other than io.EOF
	read    bool      // the payload produced at least one byte
}

func (s *trailedSource) Read(p []byte) (int, error) {
	if s.payload != nil {
		n, err := s.payload.Read(p)
		if n > 0 {
			s.read = true
		}
		switch {
		case err == io.EOF:
			s.payload = nil
			if !s.read {
				// An empty payload is an empty message. The tail completes
				// a stored block whose header the payload would hold, so
				// only the final block follows.
				s.served = len(deflateTail)
			}
		case err != nil:
			s.err = err
			return n, err
		}
		if n > 0 || s.payload != nil {
			return n, nil
		}
	}
	n := copy(p, inflateTrailer[s.served:])
	s.served += n
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// inflateState is the memory decompressing a message takes: a flate reader
// and the read buffer in front of it. Inflaters take one from a pool for
// each message.
type inflateState struct {
	fr      flateReader
	br      *bufio.Reader
	discard [1024]byte
}

type flateReader interface {
	io.Reader
	flate.Resetter
}

var inflatePool = sync.Pool{New: func() interface{} {
	return &inflateState{
		fr: flate.NewReader(nil).(flateReader),
		br: bufio.NewReaderSize(nil, 4096),
	}
}}

// Inflater decompresses the messages one endpoint receives (RFC 7692
// §7.2.2). Decompression is streaming: Read hands out the message bytes as
// the compressed payload arrives, so the caller bounds how much it takes.
// The flate reader and its buffers come from a pool for each message and go
// back at its end; with context takeover the Inflater keeps the last 2^bits
// bytes of output (in a buffer an eighth larger) to seed the next message's
// window. An Inflater is not safe for concurrent use.
type Inflater struct {
	takeover bool
	window   int
	hist     []byte
	st       *inflateState
	src      trailedSource
}

// NewInflater returns an Inflater for a peer that compresses with a window
// of at most 2^windowBits bytes (8..15), keeping that window between
// messages when takeover is set.
func NewInflater(windowBits int, takeover bool) *Inflater {
	return &Inflater{takeover: takeover, window: 1 << clampWindowBits(windowBits)}
}

// Takeover reports whether the window carries over between messages.
func (f *Inflater) Takeover() bool { return f.takeover }

// Begin starts a message whose compressed payload, tail removed, is read
// from payload until it returns io.EOF. A message still open is abandoned.
func (f *Inflater) Begin(payload io.Reader) {
	if f.st == nil {
		f.st = inflatePool.Get().(*inflateState)
	}
	f.src = trailedSource{payload: payload}
	f.st.br.Reset(&f.src)
	var dict []byte
	if f.takeover {
		dict = f.hist
		if len(dict) > f.window {
			dict = dict[len(dict)-f.window:]
		}
	}
	_ = f.st.fr.Reset(f.st.br, dict)
}

// Read reads decompressed bytes of the current message into p. It returns
// io.EOF at the end of the message, the payload reader's own error as is,
// and ErrInvalidCompressedData when the payload does not decode.
func (f *Inflater) Read(p []byte) (int, error) {
	if f.st == nil {
		return 0, io.EOF
	}
	n, err := f.st.fr.Read(p)
	if f.takeover && n > 0 {
		f.remember(p[:n])
	}
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case f.src.err != nil:
		return n, f.src.err
	default:
		return n, ErrInvalidCompressedData
	}
}

// remember appends out to the history that seeds the next window, sliding
// the last window's worth to the front when the buffer is full.
//
// The buffer is allocated once, at the window plus an eighth of it: the
// history a connection keeps is what RFC 7692 requires and little more,
// and sliding costs a copy of the window per eighth of a window of output.
func (f *Inflater) remember(out []byte) {
	if f.hist == nil {
		f.hist = make([]byte, 0, f.window+f.window/4)
	}
	if len(out) >= f.window {
		f.hist = append(f.hist[:0], out[len(out)-f.window:]...)
		return
	}
	if len(f.hist)+len(out) > cap(f.hist) {
		f.hist = f.hist[:copy(f.hist, f.hist[len(f.hist)+len(out)-f.window:])]
	}
	f.hist = append(f.hist, out...)
}

// Discard decompresses the rest of the current message and throws it away,
// as a message nobody reads must still pass through the window when context
// takeover is on. It returns nil at the end of the message or the first
// error; it stops early, returning nil, once the discarded bytes reach
// limit (if limit is above zero) and reports how many it discarded, so the
// caller can enforce its read limit.
func (f *Inflater) Discard(limit int64) (int64, error) {
	var total int64
	for f.st != nil {
		n, err := f.Read(f.st.discard[:])
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if limit > 0 && total > limit {
			return total, nil
		}
	}
	return total, nil
}

// EndMessage returns the pooled state. Call it when Read has returned
// io.EOF or an error, or to abandon a message.
func (f *Inflater) EndMessage() {
	if f.st == nil {
		return
	}
	f.st.br.Reset(nil)
	_ = f.st.fr.Reset(f.st.br, nil)
	inflatePool.Put(f.st)
	f.st = nil
	f.src = trailedSource{}
}
