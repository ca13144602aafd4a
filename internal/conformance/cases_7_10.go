package conformance

import (
	"bytes"
	"fmt"
	"time"
)

// wrongCodeFails is the hook of Autobahn's family 7: a close with a code
// the case does not allow fails the case itself.
func wrongCodeFails(p *Peer) {
	p.OnConnectionLost(func() {
		if v, reason := p.CloseBehavior(); v == CloseWrongCode {
			p.SetBehavior(Failed, reason)
		}
	})
}

func cases7() []Case {
	hw := []byte("Hello World!")
	closeNormal := ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal}, RequireClean: true}
	out := []Case{
		{
			ID:          "7.1.1",
			Description: "Send a message, then close once it is echoed.",
			Expectation: "The message comes back, then a clean close with normal code.",
			Run: func(p *Peer) {
				wrongCodeFails(p)
				p.Expect(OK, TextMsg("Hello World!"))
				p.ExpectClose(closeNormal)
				p.SendFrame(Frame{Opcode: OpText, Payload: hw})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "7.1.2",
			Description: "Send two close frames.",
			Expectation: "Clean close with normal code; the second close frame is ignored.",
			Run: func(p *Peer) {
				wrongCodeFails(p)
				p.SuppressClose()
				p.Expect(OK)
				p.ExpectClose(closeNormal)
				p.SendClose(CloseNormal)
				p.SendFrame(Frame{Opcode: OpClose})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "7.1.3",
			Description: "Send a ping after the close frame.",
			Expectation: "Clean close with normal code; no pong.",
			Run: func(p *Peer) {
				wrongCodeFails(p)
				p.SuppressClose()
				p.Expect(OK)
				p.ExpectClose(closeNormal)
				p.SendClose(CloseNormal)
				p.SendFrame(Frame{Opcode: OpPing})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "7.1.4",
			Description: "Send a text message after the close frame.",
			Expectation: "Clean close with normal code; the text message is ignored.",
			Run: func(p *Peer) {
				wrongCodeFails(p)
				p.SuppressClose()
				p.Expect(OK)
				p.ExpectClose(closeNormal)
				p.SendClose(CloseNormal)
				p.SendFrame(Frame{Opcode: OpText, Payload: hw})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "7.1.5",
			Description: "Send the first fragment of a message, then a close frame, then the last fragment.",
			Expectation: "Clean close with normal code.",
			Run: func(p *Peer) {
				wrongCodeFails(p)
				p.SuppressClose()
				p.Expect(OK)
				p.ExpectClose(closeNormal)
				p.SendFrame(Frame{Opcode: OpText, More: true, Payload: []byte("fragment1")})
				p.SendClose(CloseNormal)
				p.SendFrame(Frame{Opcode: OpContinuation, Payload: []byte("fragment2")})
				p.KillAfter(time.Second)
			},
		},
		{
			ID:          "7.1.6",
			Description: "Send a 256 KiB text message, then a small one, then a close frame, then a ping, back to back.",
			Expectation: "Implementation defined: if the close frame is processed before the echo of the messages is written, they may not come back or only in part.",
			MaxMessage:  256 << 10,
			Run: func(p *Peer) {
				p.SuppressClose()
				p.Expect(OK, TextMsg("Hello World!"))
				p.Expect(NonStrict)
				p.ExpectClose(closeNormal)
				p.SendFrame(Frame{Opcode: OpText, Payload: []byte("BAsd7&jh23"), PayloadLen: 256 << 10})
				p.SendFrame(Frame{Opcode: OpText, Payload: hw})
				p.SendClose(CloseNormal)
				p.SendFrame(Frame{Opcode: OpPing})
				p.KillAfter(time.Second)
				p.OnConnectionLost(func() {
					switch p.Behavior() {
					case OK:
						p.SetBehavior(Informational, "The text message was processed before the close.")
					case NonStrict:
						p.SetBehavior(Informational, "The close was processed before the text message could be returned.")
					default:
						p.SetBehavior(Informational, "Received "+formatEvents(p.received)+" before the close.")
					}
					p.SetCloseBehavior(CloseInformational)
				})
			},
		},
	}

	closeCase := func(id, desc, exp string, code int, reason []byte, ec ExpectedClose) Case {
		return Case{
			ID:          id,
			Description: desc,
			Expectation: exp,
			Run: func(p *Peer) {
				wrongCodeFails(p)
				p.SuppressClose()
				p.Expect(OK)
				p.ExpectClose(ec)
				p.SendCloseFrame(code, reason)
				p.KillAfter(time.Second)
			},
		}
	}
	protoErr := ExpectedClose{ClosedByMe: true, Codes: []int{CloseProtocolError}}
	out = append(out,
		closeCase("7.3.1", "Send a close frame with payload length 0 (no code, no reason).",
			"Clean close with normal code.", NoCode, nil, closeNormal),
		closeCase("7.3.2", "Send a close frame with payload length 1.",
			"Clean close with protocol error (1002), or the TCP connection dropped.", NoCode, []byte("a"), protoErr),
		closeCase("7.3.3", "Send a close frame with payload length 2 (a code, no reason).",
			"Clean close with normal code.", CloseNormal, nil, closeNormal),
		closeCase("7.3.4", "Send a close frame with a code and a reason.",
			"Clean close with normal code.", CloseNormal, []byte("Hello World!"), closeNormal),
		closeCase("7.3.5", "Send a close frame with a code and a reason of the maximum length (123).",
			"Clean close with normal code.", CloseNormal, bytes.Repeat([]byte("*"), 123), closeNormal),
		closeCase("7.3.6", "Send a close frame with a code and a reason too long (124): frame payload of 126 octets.",
			"Clean close with protocol error (1002), or the TCP connection dropped.", CloseNormal, bytes.Repeat([]byte("*"), 124), protoErr),
		closeCase("7.5.1", "Send a close frame whose reason is not valid UTF-8.",
			"Clean close with protocol error (1002) or invalid payload (1007), or the TCP connection dropped.",
			CloseNormal, cat(kosme, []byte{0xed, 0xa0, 0x80}, []byte("edited")),
			ExpectedClose{ClosedByMe: true, Codes: []int{CloseProtocolError, CloseInvalidPayload}}),
	)
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		out = append(out, closeCase(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send a close frame with valid close code %d.", code),
			"Clean close with normal code or the same code.", code, nil,
			ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal, code}, RequireClean: true}))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		out = append(out, closeCase(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send a close frame with invalid close code %d.", code),
			"Clean close with protocol error (1002), or the TCP connection dropped.", code, nil, protoErr))
	}
	for i, code := range []int{5000, 65535} {
		code := code
		out = append(out, Case{
			ID:          fmt.Sprintf("7.13.%d", i+1),
			Description: fmt.Sprintf("Send a close frame with close code %d.", code),
			Expectation: "What happens is not defined by the spec (informational).",
			Run: func(p *Peer) {
				p.SuppressClose()
				p.Expect(OK)
				p.ExpectClose(ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal, code, CloseProtocolError}})
				p.SendCloseFrame(code, nil)
				p.KillAfter(time.Second)
				p.OnConnectionLost(func() {
					code := "none"
					if p.remoteCloseCode != NoCode {
						code = fmt.Sprint(p.remoteCloseCode)
					}
					p.SetBehavior(Informational, "Not defined by the spec; the peer answered with close code "+code+".")
					p.SetCloseBehavior(CloseInformational)
				})
			},
		})
	}
	return out
}

// bigEcho is a case of family 9 that sends one message (by send) and
// judges the echo itself: its type, length and content.
func bigEcho(id, desc string, binary bool, payload []byte, wait time.Duration, send func(p *Peer, payload []byte)) Case {
	kind := "text"
	if binary {
		kind = "binary"
	}
	return Case{
		ID:          id,
		Description: desc,
		Expectation: fmt.Sprintf("The %s message comes back with the payload as sent.", kind),
		Timeout:     wait + 10*time.Second,
		MaxMessage:  len(payload),
		Run: func(p *Peer) {
			p.ExpectClose(ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal}, RequireClean: true})
			p.SetBehavior(Failed, fmt.Sprintf("Did not receive the message within %v.", wait))
			p.OnMessage(func(e Event) {
				switch {
				case e.Binary != binary:
					p.SetBehavior(Failed, fmt.Sprintf("Expected a %s message, got %s.", kind, e))
				case len(e.Payload) != len(payload):
					p.SetBehavior(Failed, fmt.Sprintf("Expected a %s message of %d bytes, got %d.", kind, len(payload), len(e.Payload)))
				case !bytes.Equal(e.Payload, payload):
					p.SetBehavior(Failed, fmt.Sprintf("The %s message of %d bytes came back with other content.", kind, len(payload)))
				default:
					p.SetBehavior(OK, fmt.Sprintf("Received the %s message of %d bytes.", kind, len(payload)))
				}
				p.SendClose(CloseNormal)
			})
			send(p, payload)
			p.CloseAfter(wait)
		},
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dk", n>>10)
	}
	return fmt.Sprint(n)
}

func cases9() []Case {
	var out []Case
	textFill, binFill := []byte("BAsd7&jh23"), []byte{0x00, 0xfe, 0x23, 0xfa, 0xf0}
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	waits := []time.Duration{10, 10, 20, 60, 100, 200}
	for g, binary := range []bool{false, true} {
		for i, n := range sizes {
			binary := binary
			kind, op, fill := "text", OpText, textFill
			if binary {
				kind, op, fill = "binary", OpBinary, binFill
			}
			out = append(out, bigEcho(fmt.Sprintf("9.%d.%d", 1+g, i+1),
				fmt.Sprintf("Send a %s message with a payload of %s bytes.", kind, sizeName(n)),
				binary, repeat(fill, n), waits[i]*time.Second,
				func(p *Peer, payload []byte) { p.SendFrame(Frame{Opcode: op, Payload: payload}) }))
		}
	}
	fragSizes := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	for g, binary := range []bool{false, true} {
		for i, frag := range fragSizes {
			binary, frag := binary, frag
			kind, op, fill := "text", OpText, []byte("*")
			if binary {
				kind, op, fill = "binary", OpBinary, []byte{0xfe}
			}
			out = append(out, bigEcho(fmt.Sprintf("9.%d.%d", 3+g, i+1),
				fmt.Sprintf("Send a fragmented %s message with a payload of 4M bytes, in fragments of %s.", kind, sizeName(frag)),
				binary, repeat(fill, 4<<20), 100*time.Second,
				func(p *Peer, payload []byte) { p.SendMessageFragmented(op, payload, frag) }))
		}
	}
	for g, binary := range []bool{false, true} {
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			binary, chop := binary, chop
			kind, op, fill := "text", OpText, textFill
			if binary {
				kind, op, fill = "binary", OpBinary, binFill
			}
			out = append(out, bigEcho(fmt.Sprintf("9.%d.%d", 5+g, i+1),
				fmt.Sprintf("Send a %s message with a payload of 1M bytes, written out in chops of %d octets.", kind, chop),
				binary, repeat(fill, 1<<20), 100*time.Second,
				func(p *Peer, payload []byte) { p.SendFrame(Frame{Opcode: op, Payload: payload, Chop: chop}) }))
		}
	}
	for g, binary := range []bool{false, true} {
		for i, t := range []struct {
			size int
			wait time.Duration
		}{{0, 60}, {16, 60}, {64, 60}, {256, 120}, {1024, 240}, {4096, 480}} {
			binary, size, wait := binary, t.size, t.wait*time.Second
			kind, op, fill := "text", OpText, []byte("*")
			if binary {
				kind, op, fill = "binary", OpBinary, []byte{0xfe}
			}
			const count = 1000
			out = append(out, Case{
				ID:          fmt.Sprintf("9.%d.%d", 7+g, i+1),
				Description: fmt.Sprintf("Send %d %s messages of payload size %d, each after the echo of the previous one, to measure the round trip time.", count, kind, size),
				Expectation: fmt.Sprintf("Every %s message comes back with the payload as sent.", kind),
				Timeout:     wait + 10*time.Second,
				MaxMessage:  size,
				Run: func(p *Peer) {
					payload := repeat(fill, size)
					p.ExpectClose(ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal}, RequireClean: true})
					p.SetBehavior(Failed, fmt.Sprintf("The case did not finish within %v.", wait))
					sent := 1
					start := time.Now()
					p.OnMessage(func(e Event) {
						switch {
						case e.Binary != binary || !bytes.Equal(e.Payload, payload):
							p.SetBehavior(Failed, fmt.Sprintf("Message %d came back different: %s.", sent, e))
							p.SendClose(CloseNormal)
						case sent < count:
							sent++
							p.SendFrame(Frame{Opcode: op, Payload: payload})
						default:
							p.SetBehavior(OK, fmt.Sprintf("All %d messages came back (%v per round trip).", count, (time.Since(start)/count).Round(time.Microsecond)))
							p.SendClose(CloseNormal)
						}
					})
					p.SendFrame(Frame{Opcode: op, Payload: payload})
					p.CloseAfter(wait)
				},
			})
		}
	}
	return out
}

func cases10() []Case {
	return []Case{{
		ID:          "10.1.1",
		Description: "Send a text message of 65536 bytes, auto-fragmented into frames of 1300 bytes.",
		Expectation: "The message comes back whole; the fuzzer sent 1 text frame and 50 continuation frames; clean close with normal code.",
		MaxMessage:  65536,
		Run: func(p *Peer) {
			payload := bytes.Repeat([]byte("*"), 65536)
			p.SetAutoFragmentSize(1300)
			expectEcho(p, TextMsg(string(payload)))
			p.SendMessage(OpText, payload)
			p.KillAfter(10 * time.Second)
			p.OnConnectionLost(func() {
				wantCont, wantText := 65536/1300, 1
				if got, gotText := p.TxFrames(OpContinuation), p.TxFrames(OpText); got != wantCont || gotText != wantText {
					p.SetBehavior(Failed, fmt.Sprintf("The fuzzer sent %d text and %d continuation frames, want %d and %d.", gotText, got, wantText, wantCont))
				}
			})
		},
	}}
}
