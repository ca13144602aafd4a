package websocket_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
)

func TestCloseCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"peer's close", &websocket.CloseError{Code: websocket.CloseNormalClosure}, 1000},
		{"no close frame", &websocket.CloseError{Code: websocket.CloseAbnormalClosure}, 1006},
		{"wrapped", fmt.Errorf("session 7: %w", &websocket.CloseError{Code: websocket.CloseGoingAway}), 1001},
		{"protocol error", &websocket.ProtocolError{Code: frame.CloseProtocolError, Reason: "bad opcode"}, 1002},
		{"invalid UTF-8", &websocket.ProtocolError{Code: frame.CloseInvalidFramePayloadData}, 1007},
		{"read limit", websocket.ErrReadLimit, 1009},
		{"message timeout", websocket.ErrMessageTimeout, 1008},
		{"receive budget", fmt.Errorf("reading: %w", websocket.ErrReceiveBudget), 1013},
		{"keepalive", websocket.ErrKeepAliveTimeout, 1001},
		{"closed by us", websocket.ErrConnClosed, -1},
		{"other", io.ErrUnexpectedEOF, -1},
		{"nil", nil, -1},
	}
	for _, tt := range tests {
		if got := websocket.CloseCode(tt.err); got != tt.want {
			t.Errorf("%s: CloseCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
	// The timeouts are net.Errors that time out; the others are not.
	for _, err := range []error{websocket.ErrMessageTimeout, websocket.ErrKeepAliveTimeout} {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%v is not a net.Error whose Timeout reports true", err)
		}
	}
	for _, err := range []error{websocket.ErrReadLimit, websocket.ErrReceiveBudget} {
		var ne net.Error
		if errors.As(err, &ne) {
			t.Errorf("%v is a net.Error", err)
		}
	}
	// The sentinels keep comparing as before.
	if !errors.Is(fmt.Errorf("x: %w", websocket.ErrReadLimit), websocket.ErrReadLimit) || websocket.ErrReadLimit.Error() != "websocket: read limit exceeded" {
		t.Fatal("ErrReadLimit changed")
	}
}

// CloseCode tells, from any error a read returned, which close code ended
// the connection: the peer's, or the one this side sent.
func ExampleCloseCode() {
	for _, err := range []error{
		fmt.Errorf("chat session: %w", &websocket.CloseError{Code: websocket.CloseGoingAway, Text: "tab closed"}),
		websocket.ErrReadLimit,
		websocket.ErrMessageTimeout,
		io.EOF,
	} {
		fmt.Println(websocket.CloseCode(err))
	}
	// Output:
	// 1001
	// 1009
	// 1008
	// -1
}
