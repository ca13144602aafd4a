package conformance

import "time"

// Cases returns every case of Autobahn|Testsuite's fuzzing suite, in id
// order: families 1 to 7, 9, 10, 12 and 13 (517 cases).
func Cases() []Case {
	var out []Case
	for _, f := range []func() []Case{cases1, cases2, cases3, cases4, cases5, cases6, cases7, cases9, cases10, cases12, cases13} {
		out = append(out, f()...)
	}
	SortCases(out)
	return out
}

// ExtraCases returns cases Autobahn does not have, in family "X": the
// masking rules of RFC 6455 §5.1, which no Autobahn case breaks. The
// fuzzer sends frames masked the wrong way for its role (unmasked from a
// client, masked from a server); the peer must fail the connection with
// 1002.
func ExtraCases() []Case {
	return []Case{
		{
			ID:          "X.1.1",
			Description: "Send a small text message masked the wrong way for the role: unmasked from the fuzzing client, masked from the fuzzing server.",
			Expectation: "The connection is failed immediately (1002): RFC 6455 §5.1.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(Frame{Opcode: OpText, Payload: helloWorld, Mask: MaskWrong})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "X.1.2",
			Description: "Send a ping with payload masked the wrong way for the role.",
			Expectation: "The connection is failed immediately (1002); no pong.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(Frame{Opcode: OpPing, Payload: helloWorld, Mask: MaskWrong})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "X.1.3",
			Description: "Send a text message in 2 fragments: the first masked as the role requires, the second the wrong way.",
			Expectation: "The connection is failed immediately (1002); the message does not come back.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(Frame{Opcode: OpText, More: true, Payload: []byte("fragment1")})
				p.SendFrame(Frame{Opcode: OpContinuation, Payload: []byte("fragment2"), Mask: MaskWrong})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "X.1.4",
			Description: "Send a close frame with code 1000 masked the wrong way for the role.",
			Expectation: "The connection is failed (1002), not closed normally.",
			Run: func(p *Peer) {
				wrongCodeFails(p)
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(Frame{Opcode: OpClose, Payload: closePayload(CloseNormal, nil), Mask: MaskWrong})
				p.KillAfter(time.Second)
			},
		},
	}
}

// Families are the titles of the case families, for reports.
var Families = map[string]string{
	"1":  "Framing",
	"2":  "Pings/Pongs",
	"3":  "Reserved Bits",
	"4":  "Opcodes",
	"5":  "Fragmentation",
	"6":  "UTF-8 Handling",
	"7":  "Close Handling",
	"9":  "Limits/Performance",
	"10": "Auto-Fragmentation",
	"12": "WebSocket Compression (payloads)",
	"13": "WebSocket Compression (parameters)",
	"X":  "Masking (not in Autobahn)",
}
