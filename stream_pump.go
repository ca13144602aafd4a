package websocket

import (
	"errors"
	"io"
)

// pump is the goroutine that reads the Conn for a NetConnOf stream: it
// fills chunks with the bytes of the messages received and hands them to
// Read, at most streamChunks ahead. Reading the Conn is what answers pings
// and close messages, so the pump reads for as long as there is room,
// whether or not a Read waits.
//
// It ends when reading fails; or when the stream closes, after draining the
// connection until the peer's close message arrives (or closeTimer closes
// the Conn), so that the peer gets the close handshake, not a reset.
func (s *streamConn) pump() {
	err := s.pumpMessages()
	if isClosed(s.closing) {
		s.drain()
		// The pump closes the Conn itself when it refused a message
		// of the wrong type; after Close or ctx this is a repeat.
		_ = s.c.Close()
	}
	s.pumpErr = err
	close(s.pumpDone)
}

// pumpMessages hands chunks to Read until reading fails or the stream
// closes (then it returns nil).
func (s *streamConn) pumpMessages() error {
	var msg io.Reader // the message being read, nil between messages
	for {
		var buf []byte
		select {
		case buf = <-s.free:
		case <-s.closing:
			return nil
		}
		if buf == nil {
			buf = make([]byte, streamChunk)
		}
		n, err := s.fill(&msg, buf)
		if n > 0 {
			select {
			case s.chunks <- buf[:n]:
			case <-s.closing:
				return nil
			}
		}
		if err != nil {
			return err
		}
	}
}

// fill reads into buf the next bytes of the stream: of *msg, or of the
// messages that follow once it ends. It returns as soon as it has read some,
// so that Read gets bytes as they arrive.
func (s *streamConn) fill(msg *io.Reader, buf []byte) (int, error) {
	// Each round reads bytes, ends a message or fails, except for a
	// reader that returns nothing and no error, which is given up on as
	// bufio does.
	for idle := 0; idle < maxIdleReads; {
		if *msg == nil {
			mt, r, err := s.c.NextReader()
			if err != nil {
				return 0, streamReadError(err)
			}
			if mt != s.messageType {
				return 0, s.refuse(mt)
			}
			*msg = r
		}
		n, err := (*msg).Read(buf)
		switch {
		case err == io.EOF:
			*msg = nil
			if n > 0 {
				return n, nil
			}
		case err != nil:
			return n, streamReadError(err)
		case n > 0:
			return n, nil
		default:
			idle++
		}
	}
	return 0, io.ErrNoProgress
}

// maxIdleReads is how many reads in a row may return neither bytes nor an
// error before fill gives up.
const maxIdleReads = 100

// streamReadError turns the error of a read of the Conn into the stream's:
// the peer's close with code 1000 or 1001 is the end of the stream.
func streamReadError(err error) error {
	var ce *CloseError
	if errors.As(err, &ce) && (ce.Code == CloseNormalClosure || ce.Code == CloseGoingAway) {
		return io.EOF
	}
	return err
}

// refuse fails the stream on a message of type mt, the other data type:
// RFC 6455 §7.4.1, code 1003 is for an endpoint that "cannot accept" the
// type of data it received.
func (s *streamConn) refuse(mt int) error {
	err := &codedError{
		code: CloseUnsupportedData,
		text: "websocket: NetConnOf: received a " + messageTypeName(mt) + " message on a " + messageTypeName(s.messageType) + " stream",
	}
	s.shutdown(CloseUnsupportedData, "expected "+messageTypeName(s.messageType)+" messages", err)
	return err
}

// messageTypeName names a data message type in errors and close reasons.
func messageTypeName(mt int) string {
	if mt == TextMessage {
		return "text"
	}
	return "binary"
}

// drain reads and drops what arrives on a closing stream until the peer's
// close message, or an error: the close handshake of RFC 6455 §7.1.1.
// closeTimer closes the Conn after streamCloseWait at the latest, which
// ends the loop.
func (s *streamConn) drain() {
	for {
		if _, _, err := s.c.NextReader(); err != nil {
			return
		}
	}
}
