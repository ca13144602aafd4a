package websocket

import (
	"io"
	"sync"

	"github.com/hertzws/websocket/frame"
)

// compression is a Conn's permessage-deflate state (RFC 7692). A Conn has
// none unless the extension was negotiated.
type compression struct {
	// deflater compresses outgoing messages; it is used only by the holder
	// of msgLock.
	deflater *frame.Deflater
	// inflater decompresses incoming messages; it is used only by the
	// holder of readMu.
	inflater *frame.Inflater
	// threshold is the smallest message size compressed when the size is
	// known up front.
	threshold int
}

// newCompression builds the state for the agreed parameters. Each side
// compresses with its own window and takeover setting and decompresses with
// the peer's.
func newCompression(role frame.Role, agreed *frame.DeflateParams, opts *CompressionOptions) *compression {
	ownBits, ownTakeover := agreed.ServerWindowBits(), !agreed.ServerNoContextTakeover
	peerBits, peerTakeover := agreed.ClientWindowBits(), !agreed.ClientNoContextTakeover
	if role == frame.RoleClient {
		ownBits, peerBits = peerBits, ownBits
		ownTakeover, peerTakeover = peerTakeover, ownTakeover
	}
	d, err := frame.NewDeflater(opts.level(), ownBits, ownTakeover)
	if err != nil {
		// An invalid configured level falls back to the default rather
		// than failing a connection that is already upgraded.
		d, _ = frame.NewDeflater(DefaultCompressionLevel, ownBits, ownTakeover)
	}
	return &compression{
		deflater:  d,
		inflater:  frame.NewInflater(peerBits, peerTakeover),
		threshold: opts.threshold(),
	}
}

// compressing reports whether a message of size bytes (or of unknown size,
// when size is negative) goes out compressed. The caller holds msgLock.
func (c *Conn) compressing(size int) bool {
	if c.compression == nil || !c.compressionEnabled.Load() {
		return false
	}
	if size >= 0 && size < c.compression.threshold {
		return false
	}
	// Apply SetCompressionLevel from this message on.
	d := c.compression.deflater
	if level := int(c.compressionLevel.Load()); level != d.Level() {
		_ = d.SetLevel(level)
	}
	return true
}

// compress returns data compressed as one message's payload, in the
// deflater's buffer, which stays valid until the deflater's EndMessage.
// The caller holds msgLock.
func (c *Conn) compress(data []byte) ([]byte, error) {
	d := c.compression.deflater
	if _, err := d.Write(data); err != nil {
		d.EndMessage()
		return nil, err
	}
	payload, err := d.Finish()
	if err != nil {
		d.EndMessage()
		return nil, err
	}
	return payload, nil
}

// rawPayload reads the payload of the current message as it arrived on the
// wire (unmasked, not yet decompressed) for the inflater. Its reads run
// inside a messageReader.Read, which holds readMu.
type rawPayload struct{ c *Conn }

func (r *rawPayload) Read(p []byte) (int, error) { return r.c.readRaw(p) }

// beginInflate starts decompressing a message whose first frame carried
// RSV1. The caller holds readMu.
func (c *Conn) beginInflate() {
	c.inflating = true
	c.messageOut = 0
	c.compression.inflater.Begin(&c.rawPayload)
}

// readInflated reads decompressed bytes of the current message into p,
// enforcing the read limit on the decompressed size and validating text as
// it is produced. The caller holds readMu.
func (c *Conn) readInflated(p []byte) (int, error) {
	if !c.inflating {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.compression.inflater.Read(p)
	c.messageOut += int64(n)
	// RFC 7692 §8.1 / RFC 6455 §10.4: a small compressed message can
	// inflate to any size, so the limit applies to what comes out.
	if limit := c.readLimit.Load(); limit > 0 && c.messageOut > limit {
		return 0, errReadLimitExceeded
	}
	if c.messageText && !c.utf8.Write(p[:n]) {
		return 0, errInvalidUTF8
	}
	if err != io.EOF {
		return n, err
	}
	c.endInflate()
	// A payload may end its DEFLATE stream before its last byte (a block
	// with BFINAL set): read past the rest so framing stays in step.
	if err := c.skipRawMessage(); err != nil {
		return n, err
	}
	if c.messageText && !c.utf8.Complete() {
		return n, errInvalidUTF8
	}
	c.observeRead(c.messageOut)
	return n, io.EOF
}

// discardInflated throws away the rest of a compressed message the
// application did not read. With context takeover the bytes must still go
// through the window; without it the payload is skipped undecoded.
func (c *Conn) discardInflated() error {
	inf := c.compression.inflater
	if c.compression.peerTakeover() {
		limit := c.readLimit.Load()
		if limit > 0 {
			limit -= c.messageOut
		}
		n, err := inf.Discard(limit)
		c.messageOut += n
		if err != nil {
			return err
		}
		if limit > 0 && n > limit {
			return errReadLimitExceeded
		}
	}
	c.endInflate()
	if err := c.skipRawMessage(); err != nil {
		return err
	}
	c.observeRead(c.messageOut)
	return nil
}

func (c *Conn) endInflate() {
	c.inflating = false
	c.compression.inflater.EndMessage()
}

// peerTakeover reports whether the peer keeps its window between messages.
func (cs *compression) peerTakeover() bool { return cs.inflater.Takeover() }

// skipRawMessage discards the payload of the current message that is still
// on the wire. The caller holds readMu.
func (c *Conn) skipRawMessage() error {
	for {
		if err := c.skipFramePayload(); err != nil {
			return err
		}
		if c.messageDone {
			return nil
		}
		if _, err := c.nextDataFrame(); err != nil {
			return err
		}
	}
}

// preparedKey names one encoded form of a prepared message.
type preparedKey struct {
	compressed bool
	level      int
	windowBits int
}

// preparedForm is a prepared message encoded one way: the payload as it
// goes on the wire before masking, and for servers the whole frame.
type preparedForm struct {
	key     preparedKey
	payload []byte
	frame   []byte
}

// preparedForms caches the forms a prepared message was asked for.
type preparedForms struct {
	mu    sync.Mutex
	forms []*preparedForm
}
