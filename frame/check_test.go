package frame

import (
	"errors"
	"testing"
)

func TestCheckHeader(t *testing.T) {
	var ok error // no error
	type tc struct {
		name string
		h    Header
		s    State
		want error // the sentinel error, nil for none
	}
	srv := State{Role: RoleServer}
	cli := State{Role: RoleClient}
	srvIn := State{Role: RoleServer, InMessage: true}
	cliIn := State{Role: RoleClient, InMessage: true}
	srvDeflate := State{Role: RoleServer, AllowedRsv: Rsv1}
	cliDeflate := State{Role: RoleClient, AllowedRsv: Rsv1}
	srvDeflateIn := State{Role: RoleServer, AllowedRsv: Rsv1, InMessage: true}

	// m marks a header as masked, as a client sends it.
	m := func(h Header) Header { h.Masked = true; h.Mask = testMask; return h }

	tests := []tc{
		// Plain valid frames, both roles.
		{"server text", m(Header{Fin: true, Opcode: OpText, PayloadLen: 5}), srv, ok},
		{"client text", Header{Fin: true, Opcode: OpText, PayloadLen: 5}, cli, ok},
		{"server binary first fragment", m(Header{Opcode: OpBinary, PayloadLen: 1 << 40}), srv, ok},
		{"client binary first fragment", Header{Opcode: OpBinary}, cli, ok},
		{"server continuation", m(Header{Opcode: OpContinuation}), srvIn, ok},
		{"client final continuation", Header{Fin: true, Opcode: OpContinuation}, cliIn, ok},

		// Reserved opcodes (§5.2).
		{"server opcode 0x3", m(Header{Fin: true, Opcode: 0x3}), srv, ErrReservedOpcode},
		{"client opcode 0x7", Header{Fin: true, Opcode: 0x7}, cli, ErrReservedOpcode},
		{"server opcode 0xB", m(Header{Fin: true, Opcode: 0xB}), srv, ErrReservedOpcode},
		{"client opcode 0xF", Header{Fin: true, Opcode: 0xF}, cli, ErrReservedOpcode},
		{"reserved opcode in message", Header{Fin: true, Opcode: 0x4}, cliIn, ErrReservedOpcode},

		// RSV bits (§5.2, RFC 7692 §6.1).
		{"server rsv1 not negotiated", m(Header{Fin: true, Rsv: Rsv1, Opcode: OpText}), srv, ErrUnexpectedRSV},
		{"client rsv2 not negotiated", Header{Fin: true, Rsv: Rsv2, Opcode: OpText}, cli, ErrUnexpectedRSV},
		{"client rsv3 not negotiated", Header{Fin: true, Rsv: Rsv3, Opcode: OpBinary}, cli, ErrUnexpectedRSV},
		{"server rsv1 negotiated", m(Header{Fin: true, Rsv: Rsv1, Opcode: OpText}), srvDeflate, ok},
		{"client rsv1 negotiated first fragment", Header{Rsv: Rsv1, Opcode: OpBinary}, cliDeflate, ok},
		{"server rsv2 with only rsv1 negotiated", m(Header{Fin: true, Rsv: Rsv2, Opcode: OpText}), srvDeflate, ErrUnexpectedRSV},
		{"client rsv1|rsv2 with only rsv1 negotiated", Header{Fin: true, Rsv: Rsv1 | Rsv2, Opcode: OpText}, cliDeflate, ErrUnexpectedRSV},
		{"server rsv1 on ping", m(Header{Fin: true, Rsv: Rsv1, Opcode: OpPing}), srvDeflate, ErrControlRSV},
		{"client rsv1 on close", Header{Fin: true, Rsv: Rsv1, Opcode: OpClose, PayloadLen: 2}, cliDeflate, ErrControlRSV},
		{"server rsv1 on continuation", m(Header{Fin: true, Rsv: Rsv1, Opcode: OpContinuation}), srvDeflateIn, ErrContinuationRSV},
		{"server rsv1 on ping not negotiated", m(Header{Fin: true, Rsv: Rsv1, Opcode: OpPing}), srv, ErrUnexpectedRSV},

		// Control frames (§5.5).
		{"server ping", m(Header{Fin: true, Opcode: OpPing, PayloadLen: 125}), srv, ok},
		{"client pong", Header{Fin: true, Opcode: OpPong, PayloadLen: 125}, cli, ok},
		{"server close", m(Header{Fin: true, Opcode: OpClose, PayloadLen: 2}), srv, ok},
		{"server ping inside message", m(Header{Fin: true, Opcode: OpPing}), srvIn, ok},
		{"client close inside message", Header{Fin: true, Opcode: OpClose}, cliIn, ok},
		{"server fragmented ping", m(Header{Opcode: OpPing}), srv, ErrFragmentedControl},
		{"client fragmented close", Header{Opcode: OpClose}, cli, ErrFragmentedControl},
		{"server ping 126", m(Header{Fin: true, Opcode: OpPing, PayloadLen: 126}), srv, ErrControlTooLong},
		{"client close 126", Header{Fin: true, Opcode: OpClose, PayloadLen: 126}, cli, ErrControlTooLong},
		{"client pong huge", Header{Fin: true, Opcode: OpPong, PayloadLen: 1 << 62}, cli, ErrControlTooLong},

		// Masking (§5.1).
		{"server unmasked text", Header{Fin: true, Opcode: OpText}, srv, ErrUnmaskedFromClient},
		{"server unmasked ping", Header{Fin: true, Opcode: OpPing}, srv, ErrUnmaskedFromClient},
		{"server unmasked continuation", Header{Opcode: OpContinuation}, srvIn, ErrUnmaskedFromClient},
		{"client masked text", m(Header{Fin: true, Opcode: OpText}), cli, ErrMaskedFromServer},
		{"client masked close", m(Header{Fin: true, Opcode: OpClose}), cli, ErrMaskedFromServer},
		{"client masked continuation", m(Header{Opcode: OpContinuation}), cliIn, ErrMaskedFromServer},

		// Fragmentation (§5.4).
		{"server continuation outside message", m(Header{Fin: true, Opcode: OpContinuation}), srv, ErrUnexpectedContinuation},
		{"client continuation outside message", Header{Opcode: OpContinuation}, cli, ErrUnexpectedContinuation},
		{"server text inside message", m(Header{Fin: true, Opcode: OpText}), srvIn, ErrExpectedContinuation},
		{"client binary inside message", Header{Opcode: OpBinary}, cliIn, ErrExpectedContinuation},

		// Out-of-range length (only reachable by hand-built headers).
		{"negative length", m(Header{Fin: true, Opcode: OpText, PayloadLen: -1}), srv, ErrInvalidPayloadLength},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			err := CheckHeader(tt.h, tt.s)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CheckHeader(%+v, %+v) = %v, want %v", tt.h, tt.s, err, tt.want)
			}
			var pe *ProtocolError
			if err != nil && (!errors.As(err, &pe) || pe.Code != CloseProtocolError || len(pe.Reason) > MaxCloseReason) {
				t.Fatalf("CheckHeader(%+v, %+v) = %#v, want a 1002 ProtocolError with a reason of at most %d bytes", tt.h, tt.s, err, MaxCloseReason)
			}
		})
	}
	// Failing allocates nothing: the errors are preallocated.
	bad := Header{Fin: true, Opcode: 0x3}
	if n := testing.AllocsPerRun(100, func() { _ = CheckHeader(bad, srv) }); n != 0 {
		t.Fatalf("CheckHeader allocates %.0f times on failure", n)
	}
}

func TestCheckHeaderAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpText, Masked: true, Mask: testMask, PayloadLen: 10}
	s := State{Role: RoleServer}
	allocs := testing.AllocsPerRun(100, func() {
		if err := CheckHeader(h, s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per run = %v, want 0", allocs)
	}
}

func TestRoleString(t *testing.T) {
	for _, tt := range []struct {
		r    Role
		want string
	}{{RoleServer, "server"}, {RoleClient, "client"}, {Role(7), "unknown role"}} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("Role(%d).String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestProtocolErrorMessage(t *testing.T) {
	tests := []struct {
		err  ProtocolError
		want string
	}{
		{ProtocolError{CloseProtocolError, "reserved opcode"}, "websocket: protocol error: reserved opcode"},
		{ProtocolError{CloseInvalidFramePayloadData, "text message"}, "websocket: invalid payload data: text message"},
		{ProtocolError{CloseMessageTooBig, ""}, "websocket: message too big"},
		{ProtocolError{CloseMandatoryExtension, "x"}, "websocket: protocol error (mandatory extension): x"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
