package websocket

import (
	"io"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// ReadFrom's buffers come from pools of sizes minCopyBuffer to
// maxCopyBuffer, powers of two: a message copied from a NextReader whose
// length is known goes out as one frame up to maxCopyBuffer.
const (
	minCopyBuffer = 32 << 10
	maxCopyBuffer = 1 << 20
)

// copyPools are the pools of ReadFrom's buffers, smallest first.
var copyPools = func() (pools []*transport.Pool) {
	for n := minCopyBuffer; n <= maxCopyBuffer; n <<= 1 {
		pools = append(pools, transport.PoolFor(n))
	}
	return pools
}()

// copyBufferFor returns a pooled buffer of at least size bytes, within the
// bounds above.
func copyBufferFor(size int64) *transport.Buffer {
	i := 0
	for n := int64(minCopyBuffer); n < size && i < len(copyPools)-1; n <<= 1 {
		i++
	}
	return copyPools[i].Get()
}

// putCopyBuffer gives a buffer from copyBufferFor back to its pool.
func putCopyBuffer(pb *transport.Buffer) {
	for _, p := range copyPools {
		if p.Size() == len(pb.B) {
			p.Put(pb)
			return
		}
	}
}

// ReadFrom copies r into the message until r returns io.EOF, so that
// io.Copy and io.CopyBuffer to a message writer use it. It reads into a
// pooled buffer and sends a frame only when the buffer is full and more is
// to come; what it read last is sent by Close as the final frame. When r is
// a message from NextReader whose length the headers give, the buffer
// holds the whole message, up to 1 MiB: an echo or proxy loop forwards
// each message as one frame, with one write. Other readers go out in
// frames of 32 KiB. Either way there is no empty final frame, which Write
// followed by Close would need.
//
// r may use the Conn while ReadFrom waits in it (its ping handler answers,
// say): WriteControl, Close, and NextWriter, which ends this message with
// what was read before, all work from there; writing to this writer from
// there fails.
func (w *messageWriter) ReadFrom(r io.Reader) (int64, error) {
	mr, _ := r.(*messageReader)
	var known int64
	if mr != nil {
		known = mr.knownRemaining() // before w.mu: it takes the read lock
	}
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	if w.control {
		w.mu.Unlock()
		return w.readControlFrom(r)
	}
	var pooled *writeBuffer
	var own *transport.Buffer
	if w.copyBuf == nil {
		// Switch to a large buffer, keeping what Write buffered so far:
		// large enough for the whole message when r is a message whose
		// length is known.
		cb := copyBufferFor(int64(len(w.buf)) + known)
		n := copy(cb.B, w.buf)
		pooled, own, _ = w.detach()
		w.copyBuf, w.buf = cb, cb.B[:n]
	}
	total, err := w.copyFrom(r, mr)
	w.mu.Unlock()
	w.c.putWriteBuffers(pooled, own, nil)
	return total, err
}

// copyFrom is ReadFrom's loop. w.mu is held on entry and on return, and is
// released around every call into r, with the buffer lent: the message may
// end meanwhile, and then the buffer is ours to give back.
func (w *messageWriter) copyFrom(r io.Reader, mr *messageReader) (int64, error) {
	seq := w.seq
	var total int64
	for idle := 0; ; {
		if w.deflater != nil && len(w.buf) > 0 {
			if _, err := w.writeCompressed(w.buf); err != nil {
				return total, err
			}
			w.buf = w.buf[:0]
		}
		if len(w.buf) == cap(w.buf) {
			if mr != nil {
				cb := w.copyBuf
				w.lent = true
				w.mu.Unlock()
				eof := mr.atEOF()
				w.mu.Lock()
				if !w.openAs(seq) {
					putCopyBuffer(cb)
					return total, errWriterClosed
				}
				w.lent = false
				if eof {
					return total, nil // the buffer is the last frame: Close sends it
				}
			}
			if err := w.flushFrame(w.buf, false); err != nil {
				return total, err
			}
			w.buf = w.buf[:0]
		}
		cb, buf := w.copyBuf, w.buf
		w.lent = true
		w.mu.Unlock()
		n, err := r.Read(buf[len(buf):cap(buf)])
		w.mu.Lock()
		if !w.openAs(seq) {
			// r ended the message (Close, NextWriter) while it read:
			// what it returned has no message to go to.
			putCopyBuffer(cb)
			return total, errWriterClosed
		}
		w.lent = false
		w.buf = buf[:len(buf)+n]
		total += int64(n)
		switch {
		case err == io.EOF:
			if w.deflater != nil && len(w.buf) > 0 {
				_, err := w.writeCompressed(w.buf)
				w.buf = w.buf[:0]
				return total, err
			}
			return total, nil
		case err != nil:
			return total, err
		case n > 0:
			idle = 0
		default:
			if idle++; idle >= maxEmptyReads {
				return total, io.ErrNoProgress
			}
		}
	}
}

// readControlFrom is ReadFrom for a control message: r is read through a
// small buffer of its own and written with Write, which enforces the limit.
func (w *messageWriter) readControlFrom(r io.Reader) (int64, error) {
	buf := make([]byte, frame.MaxControlPayload+1)
	var total int64
	for idle := 0; ; {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
			idle = 0
		}
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		case n == 0:
			if idle++; idle >= maxEmptyReads {
				return total, io.ErrNoProgress
			}
		}
	}
}

// maxEmptyReads is how many reads in a row may return nothing before
// ReadFrom gives up on the reader.
const maxEmptyReads = 100
