package websocket

import (
	"context"
	"net"
	"time"
)

// streamCloseWait bounds the close handshake of a NetConnOf stream: the
// sending of its close message and the wait for the peer's.
const streamCloseWait = time.Second

// Close closes the stream, as described at NetConnOf: it sends a close
// message with code 1000, lets the pump read until the peer's close
// arrives (streamCloseWait at most), closes the Conn, and returns once the
// stream's goroutines have ended. It returns nil when this call closed the
// stream, and ErrConnClosed when it was closed already.
func (s *streamConn) Close() error {
	first := s.shutdown(CloseNormalClosure, "", ErrConnClosed)
	<-s.pumpDone
	s.closeTimer.Stop()
	_ = s.c.Close()
	<-s.watchDone
	if !first {
		return ErrConnClosed
	}
	return nil
}

// shutdown starts closing the stream, with close code and reason for the
// peer and cause for Read and Write, and reports whether this call did so
// (a stream closes once). It does not wait for the peer: the pump drains
// the connection until the peer's close arrives, and closeTimer closes the
// Conn streamCloseWait from now if it has not by then.
func (s *streamConn) shutdown(code int, reason string, cause error) bool {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.cause = cause
		s.closeTimer = time.AfterFunc(streamCloseWait, func() { _ = s.c.Close() })
		close(s.closing) // wakes Read and the pump
	})
	if !first {
		return false
	}
	s.rd.stop()
	// A Write blocked on a peer that does not read holds the frame lock:
	// then this gives up at the deadline, and closeTimer closes the Conn,
	// which wakes the Write. ErrCloseSent means the peer's close came
	// first and has been answered.
	_ = s.c.WriteControl(CloseMessage, FormatCloseMessage(code, reason), time.Now().Add(streamCloseWait))
	return true
}

// watch closes the stream when ctx is done, unless it is closed first or
// the Conn closes under it (its handler returned, keepalive gave up).
func (s *streamConn) watch(ctx context.Context, done <-chan struct{}) {
	defer close(s.watchDone)
	select {
	case <-done:
	case <-s.closing:
		return
	case <-s.c.doneChan():
		return
	}
	err := ctx.Err()
	if s.shutdown(ClosePolicyViolation, err.Error(), &streamContextError{err: err}) {
		<-s.pumpDone
		s.closeTimer.Stop()
		_ = s.c.Close()
	}
}

// streamContextError is what Read and Write return once a stream has been
// closed because its context was done. It matches both the context's
// error and net.ErrClosed with errors.Is.
type streamContextError struct{ err error }

func (e *streamContextError) Error() string {
	return "websocket: NetConnOf: connection closed: " + e.err.Error()
}

func (e *streamContextError) Unwrap() error { return e.err }

func (e *streamContextError) Is(target error) bool { return target == net.ErrClosed }
