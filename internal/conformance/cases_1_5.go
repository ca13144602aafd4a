package conformance

import (
	"fmt"
	"strings"
	"time"
)

// Expectation helpers shared by the families.

// expectEcho: the given events, then a clean close started by the fuzzer
// with 1000.
func expectEcho(p *Peer, events ...Event) {
	p.Expect(OK, events...)
	p.ExpectClose(ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal}, RequireClean: true})
}

// expectFail: the peer fails the connection with code (or drops TCP);
// before that the events of ok are OK, and, when nonStrict is set, no
// event at all is NON-STRICT (the peer failed before answering what was
// valid).
func expectFail(p *Peer, code int, nonStrict bool, ok ...Event) {
	p.Expect(OK, ok...)
	if nonStrict {
		p.Expect(NonStrict)
	}
	p.ExpectClose(ExpectedClose{ClosedByMe: false, Codes: []int{code}})
}

var helloWorld = []byte("Hello, world!")

func cases1() []Case {
	var out []Case
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536, 65536}
	for fam, binary := range []bool{false, true} {
		binary := binary
		for i, n := range sizes {
			n, chop := n, 0
			if i == 7 {
				chop = 997
			}
			kind, opcode, fill := "text", OpText, []byte("*")
			if binary {
				kind, opcode, fill = "binary", OpBinary, []byte{0xfe}
			}
			desc := fmt.Sprintf("Send %s message with payload of length %d.", kind, n)
			if chop > 0 {
				desc = fmt.Sprintf("Send %s message with payload of length %d, written out in chops of %d octets.", kind, n, chop)
			}
			out = append(out, Case{
				ID:          fmt.Sprintf("1.%d.%d", fam+1, i+1),
				Description: desc,
				Expectation: fmt.Sprintf("The %s message comes back with the same payload; clean close with normal code.", kind),
				MaxMessage:  n,
				Run: func(p *Peer) {
					payload := repeat(fill, n)
					ev := TextMsg(string(payload))
					if binary {
						ev = BinaryMsg(payload)
					}
					expectEcho(p, ev)
					p.SendFrame(Frame{Opcode: opcode, Payload: payload, Chop: chop})
					if n >= 65535 {
						p.KillAfter(10 * time.Second)
					} else {
						p.KillAfter(time.Second)
					}
				},
			})
		}
	}
	return out
}

func cases2() []Case {
	binPayload := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	pingEcho := func(id, desc string, payload []byte, chop int, wait time.Duration) Case {
		return Case{
			ID:          id,
			Description: desc,
			Expectation: "A pong with the ping's payload comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, PongEvent(payload))
				p.SendFrame(Frame{Opcode: OpPing, Payload: payload, Chop: chop})
				p.CloseAfter(wait)
			},
		}
	}
	out := []Case{
		pingEcho("2.1", "Send a ping without payload.", []byte{}, 0, time.Second),
		pingEcho("2.2", "Send a ping with a small text payload.", helloWorld, 0, time.Second),
		pingEcho("2.3", "Send a ping with a small binary (non UTF-8) payload.", binPayload, 0, time.Second),
		pingEcho("2.4", "Send a ping with a binary payload of 125 octets.", repeat([]byte{0xfe}, 125), 0, time.Second),
		{
			ID:          "2.5",
			Description: "Send a ping with a binary payload of 126 octets.",
			Expectation: "The connection is failed immediately (1002): control frames carry at most 125 octets.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(Frame{Opcode: OpPing, Payload: repeat([]byte{0xfe}, 126)})
				p.KillAfter(time.Second)
			},
		},
		pingEcho("2.6", "Send a ping with a binary payload of 125 octets, written out octet by octet.", repeat([]byte{0xfe}, 125), 1, 2*time.Second),
	}
	unsolicited := func(id, desc string, payload []byte) Case {
		return Case{
			ID:          id,
			Description: desc,
			Expectation: "Nothing comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p)
				p.SendFrame(Frame{Opcode: OpPong, Payload: payload})
				p.SendClose(CloseNormal)
				p.CloseAfter(time.Second)
			},
		}
	}
	out = append(out,
		unsolicited("2.7", "Send an unsolicited pong without payload, then close.", nil),
		unsolicited("2.8", "Send an unsolicited pong with payload, then close.", []byte("unsolicited pong payload")),
		Case{
			ID:          "2.9",
			Description: "Send an unsolicited pong with payload, then a ping with payload.",
			Expectation: "Nothing answers the pong; a pong with the ping's payload answers the ping; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, PongEvent([]byte("ping payload")))
				p.SendFrame(Frame{Opcode: OpPong, Payload: []byte("unsolicited pong payload")})
				p.SendFrame(Frame{Opcode: OpPing, Payload: []byte("ping payload")})
				p.CloseAfter(time.Second)
			},
		},
	)
	for i, chop := range []int{0, 1} {
		chop := chop
		desc := "Send 10 pings with payload."
		if chop == 1 {
			desc = "Send 10 pings with payload, written out octet by octet."
		}
		out = append(out, Case{
			ID:          fmt.Sprintf("2.%d", 10+i),
			Description: desc,
			Expectation: "A pong for every ping, with its payload (more than the spec requires); clean close with normal code.",
			Run: func(p *Peer) {
				var ev []Event
				for i := 0; i < 10; i++ {
					payload := []byte(fmt.Sprintf("payload-%d", i))
					ev = append(ev, PongEvent(payload))
					p.SendFrame(Frame{Opcode: OpPing, Payload: payload, Chop: chop})
				}
				expectEcho(p, ev...)
				p.CloseAfter(3 * time.Second)
			},
		})
	}
	return out
}

func cases3() []Case {
	binPayload := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	out := []Case{{
		ID:          "3.1",
		Description: "Send a small text message with RSV = 1.",
		Expectation: "The connection is failed immediately (1002): no extension gives RSV bits a meaning.",
		Run: func(p *Peer) {
			expectFail(p, CloseProtocolError, false)
			p.SendFrame(Frame{Opcode: OpText, Payload: helloWorld, Rsv: 1})
			p.KillAfter(time.Second)
		},
	}}
	// 3.2 to 3.4: a valid message first, then the bad one and a ping,
	// written in one go, frame by frame, then octet by octet.
	for i, mode := range []string{"", "frame", "octet"} {
		rsv := byte(2 + i)
		mode := mode
		desc := fmt.Sprintf("Send a small text message, then the same with RSV = %d, then a ping.", rsv)
		switch mode {
		case "frame":
			desc += " Octets are written frame by frame."
		case "octet":
			desc += " Octets are written octet by octet."
		}
		out = append(out, Case{
			ID:          fmt.Sprintf("3.%d", 2+i),
			Description: desc,
			Expectation: "The first message comes back, then the connection is failed immediately (1002); no pong.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, true, TextMsg("Hello, world!"))
				chop, sync := 0, mode == "frame"
				if mode == "octet" {
					chop = 1
				}
				p.SendFrame(Frame{Opcode: OpText, Payload: helloWorld, Chop: chop, Sync: sync})
				p.SendFrame(Frame{Opcode: OpText, Payload: helloWorld, Rsv: rsv, Chop: chop, Sync: sync})
				p.SendFrame(Frame{Opcode: OpPing, Chop: chop, Sync: sync})
				p.KillAfter(time.Second)
			},
		})
	}
	simple := func(id, desc string, f Frame) Case {
		return Case{
			ID:          id,
			Description: desc,
			Expectation: "The connection is failed immediately (1002): RSV must be 0.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(f)
				p.KillAfter(time.Second)
			},
		}
	}
	out = append(out,
		simple("3.5", "Send a small binary message with RSV = 5.", Frame{Opcode: OpBinary, Payload: binPayload, Rsv: 5}),
		// Autobahn's 3.6 says "Ping" but sends a binary frame; we send
		// what it sends.
		simple("3.6", "Send a frame with RSV = 6 (Autobahn describes a ping and sends a binary frame; so do we).", Frame{Opcode: OpBinary, Payload: helloWorld, Rsv: 6}),
		simple("3.7", "Send a close frame with RSV = 7.", Frame{Opcode: OpClose, Rsv: 7}),
	)
	return out
}

func cases4() []Case {
	var out []Case
	for g, base := range []byte{3, 11} {
		kind := "non-control"
		if base == 11 {
			kind = "control"
		}
		for i := 0; i < 5; i++ {
			opcode := base + byte(i)
			var payload []byte
			if i == 1 {
				payload = []byte("reserved opcode payload")
			} else if i >= 3 {
				payload = helloWorld
			}
			id := fmt.Sprintf("4.%d.%d", g+1, i+1)
			if i < 2 {
				desc := fmt.Sprintf("Send a frame with reserved %s opcode %d", kind, opcode)
				if payload != nil {
					desc += " and a non-empty payload"
				}
				out = append(out, Case{
					ID:          id,
					Description: desc + ".",
					Expectation: "The connection is failed immediately (1002).",
					Run: func(p *Peer) {
						expectFail(p, CloseProtocolError, false)
						p.SendFrame(Frame{Opcode: opcode, Payload: payload})
						p.KillAfter(time.Second)
					},
				})
				continue
			}
			desc := fmt.Sprintf("Send a small text message, then a frame with reserved %s opcode %d", kind, opcode)
			if payload != nil {
				desc += " and a non-empty payload"
			}
			out = append(out, Case{
				ID:          id,
				Description: desc + ", then a ping.",
				Expectation: "The text message comes back, then the connection is failed immediately (1002); no pong.",
				Run: func(p *Peer) {
					expectFail(p, CloseProtocolError, true, TextMsg("Hello, world!"))
					p.SendFrame(Frame{Opcode: OpText, Payload: helloWorld})
					p.SendFrame(Frame{Opcode: opcode, Payload: payload})
					p.SendFrame(Frame{Opcode: OpPing})
					p.KillAfter(time.Second)
				},
			})
		}
	}
	return out
}

// writeMode is how a script's frames reach the wire: "one chop" (all in
// one write), frame-wise chops, or octet-wise chops.
type writeMode int

const (
	oneChop writeMode = iota
	frameChops
	octetChops
)

func (m writeMode) apply(f Frame) Frame {
	switch m {
	case frameChops:
		f.Sync = true
	case octetChops:
		f.Chop = 1
	}
	return f
}

func (m writeMode) text() string {
	switch m {
	case frameChops:
		return "octets are written frame by frame"
	case octetChops:
		return "octets are written octet by octet"
	}
	return "everything is written in one chop"
}

func cases5() []Case {
	frag1, frag2 := []byte("fragment1"), []byte("fragment2")
	var out []Case
	for i, op := range []byte{OpPing, OpPong} {
		op := op
		name := "ping"
		if op == OpPong {
			name = "pong"
		}
		out = append(out, Case{
			ID:          fmt.Sprintf("5.%d", 1+i),
			Description: fmt.Sprintf("Send a %s fragmented into 2 fragments.", name),
			Expectation: "The connection is failed immediately (1002): control frames must not be fragmented.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				p.SendFrame(Frame{Opcode: op, More: true, Payload: frag1})
				p.SendFrame(Frame{Opcode: OpContinuation, Payload: frag2})
				p.KillAfter(time.Second)
			},
		})
	}
	for i, m := range []writeMode{oneChop, frameChops, octetChops} {
		m := m
		out = append(out, Case{
			ID:          fmt.Sprintf("5.%d", 3+i),
			Description: "Send a text message fragmented into 2 fragments; " + m.text() + ".",
			Expectation: "The message comes back whole; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg("fragment1fragment2"))
				p.SendFrame(m.apply(Frame{Opcode: OpText, More: true, Payload: frag1}))
				p.SendFrame(m.apply(Frame{Opcode: OpContinuation, Payload: frag2}))
				p.CloseAfter(time.Second)
			},
		})
	}
	for i, m := range []writeMode{oneChop, frameChops, octetChops} {
		m := m
		out = append(out, Case{
			ID:          fmt.Sprintf("5.%d", 6+i),
			Description: "Send a text message fragmented into 2 fragments with a ping with payload in between; " + m.text() + ".",
			Expectation: "A pong comes back, then the whole message; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, PongEvent([]byte("ping payload")), TextMsg("fragment1fragment2"))
				p.SendFrame(m.apply(Frame{Opcode: OpText, More: true, Payload: frag1}))
				p.SendFrame(m.apply(Frame{Opcode: OpPing, Payload: []byte("ping payload")}))
				p.SendFrame(m.apply(Frame{Opcode: OpContinuation, Payload: frag2}))
				p.CloseAfter(time.Second)
			},
		})
	}
	for g, fin := range []bool{true, false} {
		for i, m := range []writeMode{oneChop, frameChops, octetChops} {
			m, more := m, !fin
			out = append(out, Case{
				ID: fmt.Sprintf("5.%d", 9+3*g+i),
				Description: fmt.Sprintf("Send a continuation frame with FIN = %v where there is nothing to continue, then an unfragmented text message; %s.",
					fin, m.text()),
				Expectation: "The connection is failed immediately (1002): there is no message to continue.",
				Run: func(p *Peer) {
					expectFail(p, CloseProtocolError, false)
					p.SendFrame(m.apply(Frame{Opcode: OpContinuation, More: more, Payload: []byte("non-continuation payload")}))
					p.SendFrame(m.apply(Frame{Opcode: OpText, Payload: helloWorld}))
					p.KillAfter(time.Second)
				},
			})
		}
	}
	out = append(out, Case{
		ID:          "5.15",
		Description: "Send a text message in 2 fragments, then a continuation frame with FIN = false where there is nothing to continue, then an unfragmented text message, all in one chop.",
		Expectation: "The first message comes back, then the connection is failed immediately (1002).",
		Run: func(p *Peer) {
			expectFail(p, CloseProtocolError, true, TextMsg("fragment1fragment2"))
			p.SendFrame(Frame{Opcode: OpText, More: true, Payload: frag1})
			p.SendFrame(Frame{Opcode: OpContinuation, Payload: frag2})
			p.SendFrame(Frame{Opcode: OpContinuation, More: true, Payload: []byte("fragment3")})
			p.SendFrame(Frame{Opcode: OpText, Payload: []byte("fragment4")})
			p.KillAfter(time.Second)
		},
	})
	for i, firstMore := range []bool{true, false} {
		firstMore := firstMore
		out = append(out, Case{
			ID: fmt.Sprintf("5.%d", 16+i),
			Description: fmt.Sprintf("Twice: a continuation frame with FIN = %v where there is nothing to continue, then a text message in 2 fragments.",
				!firstMore),
			Expectation: "The connection is failed immediately (1002): there is no message to continue.",
			Run: func(p *Peer) {
				expectFail(p, CloseProtocolError, false)
				for k := 0; k < 2; k++ {
					p.SendFrame(Frame{Opcode: OpContinuation, More: firstMore, Payload: frag1})
					p.SendFrame(Frame{Opcode: OpText, More: true, Payload: frag2})
					p.SendFrame(Frame{Opcode: OpContinuation, Payload: []byte("fragment3")})
				}
				p.KillAfter(time.Second)
			},
		})
	}
	out = append(out, Case{
		ID:          "5.18",
		Description: "Send a text message in 2 fragments whose frames both have the text opcode, in one chop.",
		Expectation: "The connection is failed immediately (1002): a new message cannot start inside one.",
		Run: func(p *Peer) {
			expectFail(p, CloseProtocolError, false)
			p.SendFrame(Frame{Opcode: OpText, More: true, Payload: frag1})
			p.SendFrame(Frame{Opcode: OpText, Payload: frag2})
			p.KillAfter(time.Second)
		},
	})
	for i, sync := range []bool{false, true} {
		sync := sync
		desc := "A text message in 5 fragments: after the first 2 a ping, then a wait of 1 s, then 2 more fragments, another ping and the last fragment. Everything is legal."
		if sync {
			desc = "As 5.19, but every frame is a write of its own."
		}
		out = append(out, Case{
			ID:          fmt.Sprintf("5.%d", 19+i),
			Description: desc,
			Expectation: "The first ping is answered before the message is complete; both pongs carry their ping's payload, and the whole message comes back.",
			Timeout:     10 * time.Second,
			Run: func(p *Peer) {
				frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
				pings := []string{"pongme 1!", "pongme 2!"}
				expectEcho(p, PongEvent([]byte(pings[0])), PongEvent([]byte(pings[1])), TextMsg(strings.Join(frags, "")))
				p.SendFrame(Frame{Opcode: OpText, More: true, Payload: []byte(frags[0]), Sync: sync})
				p.SendFrame(Frame{Opcode: OpContinuation, More: true, Payload: []byte(frags[1]), Sync: sync})
				p.SendFrame(Frame{Opcode: OpPing, Payload: []byte(pings[0]), Sync: sync})
				p.ContinueLater(time.Second, func() {
					p.SendFrame(Frame{Opcode: OpContinuation, More: true, Payload: []byte(frags[2]), Sync: sync})
					p.SendFrame(Frame{Opcode: OpContinuation, More: true, Payload: []byte(frags[3]), Sync: sync})
					p.SendFrame(Frame{Opcode: OpPing, Payload: []byte(pings[1]), Sync: sync})
					p.SendFrame(Frame{Opcode: OpContinuation, Payload: []byte(frags[4]), Sync: sync})
					p.CloseAfter(time.Second)
				})
			},
		})
	}
	return out
}
