package transport

import (
	"errors"
	"net"
)

// errShortSkip is Skip's error for more bytes than are buffered.
var errShortSkip = errors.New("websocket: skip beyond the buffered bytes")

// socketOpError renames the operation of an error from a raw read or a
// vectored write of the socket ("raw-read", "writev") to the "read" or
// "write" a net.Conn reports, so that callers see one shape of timeout.
func socketOpError(err error, op string) error {
	if err == nil {
		return nil // before oe, which escapes: a successful call allocates nothing
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op == op {
		return err
	}
	renamed := *oe
	renamed.Op = op
	return &renamed
}

// isStreamEnd reports whether err ends the byte stream for good (unlike a
// timeout, after which the caller decides).
func isStreamEnd(err error) bool {
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}
