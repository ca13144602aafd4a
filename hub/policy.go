package hub

import (
	"fmt"

	"github.com/hertzws/websocket"
)

// Policy says what a hub does with a message for a connection whose send
// queue is full: the peer reads more slowly than the hub sends, and waiting
// for it would stall the goroutine that broadcasts to everyone else.
//
// The zero value is CloseTryAgainLater: a client that lost messages is told
// so, and can reconnect and resynchronise, instead of carrying on with a
// silent gap.
type Policy int

const (
	// CloseTryAgainLater closes the connection with code 1013 (Try Again
	// Later, RFC 6455 §11.7): the server is overloaded for this client,
	// which may reconnect. Messages still queued are discarded.
	CloseTryAgainLater Policy = iota

	// ClosePolicyViolation closes the connection with code 1008 (Policy
	// Violation, RFC 6455 §7.4.1): the client broke the rule that it must
	// keep up. Messages still queued are discarded.
	ClosePolicyViolation

	// DropNewest keeps the queue as it is and drops the message that did
	// not fit: the client gets a prefix of the stream, then a gap.
	DropNewest

	// DropOldest drops the oldest queued message to make room: the client
	// gets a gap, then the most recent messages. Suits streams where only
	// the latest state matters (prices, positions, presence).
	DropOldest
)

// String returns the policy's name as written in Go.
func (p Policy) String() string {
	switch p {
	case CloseTryAgainLater:
		return "CloseTryAgainLater"
	case ClosePolicyViolation:
		return "ClosePolicyViolation"
	case DropNewest:
		return "DropNewest"
	case DropOldest:
		return "DropOldest"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// closes reports whether the policy ends the connection, and with which
// close code.
func (p Policy) closes() (code int, ok bool) {
	switch p {
	case CloseTryAgainLater:
		return websocket.CloseTryAgainLater, true
	case ClosePolicyViolation:
		return websocket.ClosePolicyViolation, true
	}
	return 0, false
}

func (p Policy) valid() bool { return p >= CloseTryAgainLater && p <= DropOldest }
