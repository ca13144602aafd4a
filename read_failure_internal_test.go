package websocket

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/hertzws/websocket/frame"
)

func TestClassifyReadError(t *testing.T) {
	protocol := &frame.ProtocolError{Code: frame.CloseProtocolError, Reason: "reserved opcode"}
	peerClose := &CloseError{Code: CloseNormalClosure}
	other := errors.New("some transport error")
	tests := []struct {
		name      string
		err       error
		st        readState
		want      error // compared with errors.Is, or nil to check wantClose1006
		wantCode  int
		want1006  bool
		wantEqual bool // want is the very error
	}{
		{"protocol error", protocol, readState{}, protocol, 1002, false, true},
		{"wrapped protocol error", fmt.Errorf("x: %w", protocol), readState{}, protocol, 1002, false, false},
		{"read limit", errReadLimitExceeded, readState{}, ErrReadLimit, 1009, false, true},
		{"budget exhausted", errBudgetExhausted, readState{}, ErrReceiveBudget, 1013, false, true},
		{"budget wait past the message deadline", errBudgetDeadline, readState{}, ErrMessageTimeout, 1008, false, true},
		{"read past the message deadline", other, readState{messageTimedOut: true}, ErrMessageTimeout, 1008, false, true},
		{"closed by keepalive", io.EOF, readState{closed: true, keepAliveExpired: true}, ErrKeepAliveTimeout, 0, false, true},
		{"closed by us", io.EOF, readState{closed: true}, ErrConnClosed, 0, false, true},
		{"closed after the peer's close", peerClose, readState{closed: true}, peerClose, 0, false, true},
		{"EOF: no close frame", io.EOF, readState{}, nil, 0, true, false},
		{"cut mid-frame", io.ErrUnexpectedEOF, readState{}, nil, 0, true, false},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), readState{}, nil, 0, true, false},
		{"anything else passes through", other, readState{}, other, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := classifyReadError(tt.err, tt.st)
			if f.closeCode != tt.wantCode {
				t.Errorf("close code %d, want %d", f.closeCode, tt.wantCode)
			}
			if tt.want1006 {
				var ce *CloseError
				if !errors.As(f.err, &ce) || ce.Code != CloseAbnormalClosure {
					t.Errorf("error %v, want a 1006 CloseError", f.err)
				}
				return
			}
			if tt.wantEqual && f.err != tt.want || !errors.Is(f.err, tt.want) {
				t.Errorf("error %v, want %v", f.err, tt.want)
			}
		})
	}
}
