package frame_test

import (
	"fmt"

	"github.com/hertzws/websocket/frame"
)

func ExampleAppendHeader() {
	// The header of an unfragmented, masked text frame carrying "Hello",
	// as in the example of RFC 6455 §5.7.
	h := frame.Header{
		Fin:        true,
		Opcode:     frame.OpText,
		Masked:     true,
		Mask:       [4]byte{0x37, 0xfa, 0x21, 0x3d},
		PayloadLen: 5,
	}
	b := frame.AppendHeader(nil, h)
	fmt.Printf("% x\n", b)

	// A 256-byte binary frame from a server uses the 16-bit length form.
	b = frame.AppendHeader(b[:0], frame.Header{Fin: true, Opcode: frame.OpBinary, PayloadLen: 256})
	fmt.Printf("% x\n", b)
	// Output:
	// 81 85 37 fa 21 3d
	// 82 7e 01 00
}

func ExampleMaskCopy() {
	// Unmask the payload of the masked "Hello" frame from RFC 6455 §5.7,
	// which arrives in two pieces.
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	wire := [][]byte{{0x7f, 0x9f}, {0x4d, 0x51, 0x58}}

	out := make([]byte, 5)
	pos, n := 0, 0
	for _, piece := range wire {
		pos = frame.MaskCopy(out[n:], piece, key, pos)
		n += len(piece)
	}
	fmt.Println(string(out))
	// Output:
	// Hello
}

func ExampleParseClosePayload() {
	payload := frame.AppendClosePayload(nil, frame.CloseGoingAway, "server restart")
	code, reason, err := frame.ParseClosePayload(payload)
	fmt.Println(int(code), code, reason, err)

	// A close frame with a code that must never be sent on the wire.
	_, _, err = frame.ParseClosePayload([]byte{0x03, 0xee})
	fmt.Println(err)

	// An empty close frame carries no status code.
	code, _, _ = frame.ParseClosePayload(nil)
	fmt.Println(int(code), code)
	// Output:
	// 1001 going away server restart <nil>
	// websocket: protocol error: invalid close code
	// 1005 no status received
}

func ExampleUTF8Validator() {
	var v frame.UTF8Validator
	// "€" (e2 82 ac) split across two fragments.
	fmt.Println(v.Write([]byte("price: \xe2\x82")), v.Complete())
	fmt.Println(v.Write([]byte("\xac")), v.Complete())

	// A surrogate is rejected as soon as its second byte arrives.
	v.Reset()
	fmt.Println(v.Write([]byte("\xed\xa0")))
	// Output:
	// true false
	// true true
	// false
}

func ExampleCheckHeader() {
	// A server receiving an unmasked frame must fail the connection.
	h := frame.Header{Fin: true, Opcode: frame.OpText, PayloadLen: 2}
	err := frame.CheckHeader(h, frame.State{Role: frame.RoleServer})
	if pe, ok := err.(*frame.ProtocolError); ok {
		fmt.Println(int(pe.Code), pe.Reason)
	}
	// Output:
	// 1002 unmasked frame from client
}
