package conformance

import (
	"fmt"
	"time"
)

// kosme is "κόσμε", the Greek word of Markus Kuhn's UTF-8 decoder
// capability and stress test: 11 octets, 5 code points of 2 and 3 octets.
var kosme = []byte{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5}

// utf8Group is one section of the stress test: a title and its sequences,
// each valid UTF-8 or not.
type utf8Group struct {
	title string
	seqs  []utf8Seq
}

type utf8Seq struct {
	valid bool
	b     []byte
}

func seq(valid bool, b ...byte) utf8Seq { return utf8Seq{valid: valid, b: b} }

func invalid(bs ...[]byte) []utf8Seq {
	out := make([]utf8Seq, len(bs))
	for i, b := range bs {
		out[i] = utf8Seq{b: b}
	}
	return out
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// byteRange returns from, from+1, ..., to-1, each followed by sep when sep
// is not negative.
func byteRange(from, to int, sep int) []byte {
	var out []byte
	for c := from; c < to; c++ {
		out = append(out, byte(c))
		if sep >= 0 {
			out = append(out, byte(sep))
		}
	}
	return out
}

// utf8Groups are the sequences of cases 6.5 to 6.23, in Autobahn's order,
// encoded from the sections of Markus Kuhn's UTF-8 decoder capability and
// stress test (UTF-8-test.txt) that Autobahn uses.
func utf8Groups() []utf8Group {
	var g []utf8Group
	g = append(g, utf8Group{"Some valid UTF-8 sequences", []utf8Seq{
		{true, []byte("hello$world")},                                                 // U+0024
		{true, cat([]byte("hello"), []byte{0xc2, 0xa2}, []byte("world"))},             // U+00A2
		{true, cat([]byte("hello"), []byte{0xe2, 0x82, 0xac}, []byte("world"))},       // U+20AC
		{true, cat([]byte("hello"), []byte{0xf0, 0xa4, 0xad, 0xa2}, []byte("world"))}, // U+24B62
		{true, kosme},
	}})
	var prefixes []utf8Seq
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, utf8Seq{validUTF8(kosme[:i]), kosme[:i]})
	}
	g = append(g, utf8Group{"All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes})
	g = append(g, utf8Group{"First possible sequence of a certain length", []utf8Seq{
		seq(true, 0x00), seq(true, 0xc2, 0x80), seq(true, 0xe0, 0xa0, 0x80), seq(true, 0xf0, 0x90, 0x80, 0x80),
	}})
	g = append(g, utf8Group{"First possible sequence length 5/6 (invalid codepoints)", []utf8Seq{
		seq(false, 0xf8, 0x88, 0x80, 0x80, 0x80), seq(false, 0xfc, 0x84, 0x80, 0x80, 0x80, 0x80),
	}})
	g = append(g, utf8Group{"Last possible sequence of a certain length", []utf8Seq{
		seq(true, 0x7f), seq(true, 0xdf, 0xbf), seq(true, 0xef, 0xbf, 0xbf), seq(true, 0xf4, 0x8f, 0xbf, 0xbf),
	}})
	g = append(g, utf8Group{"Last possible sequence length 4/5/6 (invalid codepoints)", []utf8Seq{
		seq(false, 0xf7, 0xbf, 0xbf, 0xbf), seq(false, 0xfb, 0xbf, 0xbf, 0xbf, 0xbf), seq(false, 0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf),
	}})
	g = append(g, utf8Group{"Other boundary conditions", []utf8Seq{
		seq(true, 0xed, 0x9f, 0xbf), seq(true, 0xee, 0x80, 0x80), seq(true, 0xef, 0xbf, 0xbd),
		seq(true, 0xf4, 0x8f, 0xbf, 0xbf), seq(false, 0xf4, 0x90, 0x80, 0x80),
	}})
	g = append(g, utf8Group{"Unexpected continuation bytes", invalid(
		[]byte{0x80}, []byte{0xbf}, []byte{0x80, 0xbf}, []byte{0x80, 0xbf, 0x80},
		[]byte{0x80, 0xbf, 0x80, 0xbf}, []byte{0x80, 0xbf, 0x80, 0xbf, 0x80}, []byte{0x80, 0xbf, 0x80, 0xbf, 0x80, 0xbf},
		byteRange(0x80, 0xbf, -1), // 0x80 to 0xbe, as Autobahn generates it
	)})
	g = append(g, utf8Group{"Lonely start characters", invalid(
		byteRange(0xc0, 0xdf, ' '), byteRange(0xe0, 0xef, ' '), byteRange(0xf0, 0xf7, ' '),
		byteRange(0xf8, 0xfb, ' '), byteRange(0xfc, 0xfd, ' '),
	)})
	missing := [][]byte{
		{0xc0}, {0xe0, 0x80}, {0xf0, 0x80, 0x80}, {0xf8, 0x80, 0x80, 0x80}, {0xfc, 0x80, 0x80, 0x80, 0x80},
		{0xdf}, {0xef, 0xbf}, {0xf7, 0xbf, 0xbf}, {0xfb, 0xbf, 0xbf, 0xbf}, {0xfd, 0xbf, 0xbf, 0xbf, 0xbf},
	}
	g = append(g, utf8Group{"Sequences with last continuation byte missing", invalid(missing...)})
	g = append(g, utf8Group{"Concatenation of incomplete sequences", invalid(cat(missing...))})
	g = append(g, utf8Group{"Impossible bytes", invalid([]byte{0xfe}, []byte{0xff}, []byte{0xfe, 0xfe, 0xff, 0xff})})
	g = append(g, utf8Group{"Examples of an overlong ASCII character", invalid(
		[]byte{0xc0, 0xaf}, []byte{0xe0, 0x80, 0xaf}, []byte{0xf0, 0x80, 0x80, 0xaf},
		[]byte{0xf8, 0x80, 0x80, 0x80, 0xaf}, []byte{0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf},
	)})
	g = append(g, utf8Group{"Maximum overlong sequences", invalid(
		[]byte{0xc1, 0xbf}, []byte{0xe0, 0x9f, 0xbf}, []byte{0xf0, 0x8f, 0xbf, 0xbf},
		[]byte{0xf8, 0x87, 0xbf, 0xbf, 0xbf}, []byte{0xfc, 0x83, 0xbf, 0xbf, 0xbf, 0xbf},
	)})
	g = append(g, utf8Group{"Overlong representation of the NUL character", invalid(
		[]byte{0xc0, 0x80}, []byte{0xe0, 0x80, 0x80}, []byte{0xf0, 0x80, 0x80, 0x80},
		[]byte{0xf8, 0x80, 0x80, 0x80, 0x80}, []byte{0xfc, 0x80, 0x80, 0x80, 0x80, 0x80},
	)})
	single := [][]byte{
		{0xed, 0xa0, 0x80}, {0xed, 0xad, 0xbf}, {0xed, 0xae, 0x80}, {0xed, 0xaf, 0xbf},
		{0xed, 0xb0, 0x80}, {0xed, 0xbe, 0x80}, {0xed, 0xbf, 0xbf},
	}
	g = append(g, utf8Group{"Single UTF-16 surrogates", invalid(single...)})
	var paired [][]byte
	for _, hi := range single[:4] {
		for _, lo := range [][]byte{single[4], single[6]} {
			paired = append(paired, cat(hi, lo))
		}
	}
	g = append(g, utf8Group{"Paired UTF-16 surrogates", invalid(paired...)})
	// Non-characters: U+FFFE, U+FFFF and U+nFFFE, U+nFFFF for planes 1
	// to 16, all valid UTF-8.
	nonChars := []utf8Seq{seq(true, 0xef, 0xbf, 0xbe), seq(true, 0xef, 0xbf, 0xbf)}
	for plane := 1; plane <= 16; plane++ {
		for _, last := range []int{0xfffe, 0xffff} {
			nonChars = append(nonChars, utf8Seq{true, []byte(string(rune(plane<<16 | last)))})
		}
	}
	g = append(g, utf8Group{"Non-character code points (valid UTF-8)", nonChars})
	var specials []utf8Seq
	for c := 0xfff9; c <= 0xffff; c++ {
		specials = append(specials, utf8Seq{true, []byte(string(rune(c)))})
	}
	g = append(g, utf8Group{"Unicode specials (i.e. replacement char)", specials})
	return g
}

// hello is Autobahn's valid UTF-8 test text, "Hello-µ@ßöäüàá-UTF-8!!",
// which has 2-octet code points.
const hello = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"

func cases6() []Case {
	var out []Case
	out = append(out,
		Case{
			ID:          "6.1.1",
			Description: "Send a text message of length 0.",
			Expectation: "An empty text message comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg(""))
				p.SendFrame(Frame{Opcode: OpText})
				p.CloseAfter(time.Second)
			},
		},
		Case{
			ID:          "6.1.2",
			Description: "Send a fragmented text message: 3 fragments, each of length 0.",
			Expectation: "An empty text message comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg(""))
				p.SendFrame(Frame{Opcode: OpText, More: true})
				p.SendFrame(Frame{Opcode: OpContinuation, More: true})
				p.SendFrame(Frame{Opcode: OpContinuation})
				p.CloseAfter(time.Second)
			},
		},
		Case{
			ID:          "6.1.3",
			Description: "Send a fragmented text message: 3 fragments, the first and last of length 0, the middle one not.",
			Expectation: "A text message with the middle fragment's payload comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg("middle frame payload"))
				p.SendFrame(Frame{Opcode: OpText, More: true})
				p.SendFrame(Frame{Opcode: OpContinuation, More: true, Payload: []byte("middle frame payload")})
				p.SendFrame(Frame{Opcode: OpContinuation})
				p.CloseAfter(time.Second)
			},
		},
		Case{
			ID:          "6.2.1",
			Description: "Send a valid UTF-8 text message in one fragment: " + hello,
			Expectation: "The message comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg(hello))
				p.SendFrame(Frame{Opcode: OpText, Payload: []byte(hello)})
				p.CloseAfter(time.Second)
			},
		},
		Case{
			ID:          "6.2.2",
			Description: "Send a valid UTF-8 text message in two fragments, split on a code point boundary.",
			Expectation: "The message comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg(hello))
				split := len("Hello-\u00b5@\u00df\u00f6\u00e4")
				p.SendFrame(Frame{Opcode: OpText, More: true, Payload: []byte(hello[:split])})
				p.SendFrame(Frame{Opcode: OpContinuation, Payload: []byte(hello[split:])})
				p.CloseAfter(time.Second)
			},
		},
		Case{
			ID:          "6.2.3",
			Description: "Send a valid UTF-8 text message in fragments of 1 octet, so that frames end inside code points.",
			Expectation: "The message comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg(hello))
				p.SendMessageFragmented(OpText, []byte(hello), 1)
				p.CloseAfter(time.Second)
			},
		},
		Case{
			ID:          "6.2.4",
			Description: "Send the valid UTF-8 text message \u03ba\u1f79\u03c3\u03bc\u03b5 in fragments of 1 octet, so that frames end inside code points.",
			Expectation: "The message comes back; clean close with normal code.",
			Run: func(p *Peer) {
				expectEcho(p, TextMsg(string(kosme)))
				p.SendMessageFragmented(OpText, kosme, 1)
				p.CloseAfter(time.Second)
			},
		},
	)
	// κόσμε, a lone surrogate U+D800 (invalid on its 13th octet), "edited".
	badText := cat(kosme, []byte{0xed, 0xa0, 0x80}, []byte("edited"))
	out = append(out,
		Case{
			ID:          "6.3.1",
			Description: fmt.Sprintf("Send an invalid UTF-8 text message in one frame: 0x%x.", badText),
			Expectation: "The connection is failed immediately (1007): the payload is not valid UTF-8.",
			Run: func(p *Peer) {
				expectFail(p, CloseInvalidPayload, false)
				p.SendFrame(Frame{Opcode: OpText, Payload: badText})
				p.KillAfter(time.Second)
			},
		},
		Case{
			ID:          "6.3.2",
			Description: "Send the invalid UTF-8 text message of 6.3.1 in fragments of 1 octet.",
			Expectation: "The connection is failed immediately (1007): the payload is not valid UTF-8.",
			Run: func(p *Peer) {
				expectFail(p, CloseInvalidPayload, false)
				p.expectedClose.WrongEndpointFatal = true
				p.SendMessageFragmented(OpText, badText, 1)
				p.KillAfter(time.Second)
			},
		},
	)
	out = append(out, failFastCases()...)

	for gi, grp := range utf8Groups() {
		for si, s := range grp.seqs {
			s := s
			c := Case{
				ID:          fmt.Sprintf("6.%d.%d", gi+5, si+1),
				Description: fmt.Sprintf("%s: send a text message whose payload is %s UTF-8, in one fragment. Payload: 0x%x", grp.title, validWord(s.valid), s.b),
			}
			if s.valid {
				c.Expectation = "The message comes back; clean close with normal code."
			} else {
				c.Expectation = "The connection is failed immediately (1007): the payload is not valid UTF-8."
			}
			c.Run = func(p *Peer) {
				if s.valid {
					expectEcho(p, TextMsg(string(s.b)))
				} else {
					expectFail(p, CloseInvalidPayload, false)
					p.expectedClose.WrongEndpointFatal = true
				}
				p.SendFrame(Frame{Opcode: OpText, Payload: s.b})
				p.KillAfter(500 * time.Millisecond)
			}
			out = append(out, c)
		}
	}
	return out
}

func validWord(v bool) string {
	if v {
		return "valid"
	}
	return "not valid"
}

// failFastCases are 6.4.1 to 6.4.4: a text message made invalid in its
// middle, sent in three parts with a second between them. A peer that
// checks UTF-8 as the octets arrive fails the connection right after the
// second part (OK); one that checks the whole message fails it after the
// third (NON-STRICT); one that fails before the second part is wrong.
func failFastCases() []Case {
	// Part 2 of 6.4.1 and 6.4.3 is U+110000 in the UTF-8 encoding scheme,
	// out of Unicode's range: invalid on its second octet (0x90).
	p1, p2, p3 := kosme, []byte{0xf4, 0x90, 0x80, 0x80}, []byte("edited")
	whole := cat(p1, p2, p3)
	// 6.4.2 and 6.4.4 cut right after the octet that makes it invalid.
	q1, q2, q3 := whole[:12], whole[12:13], whole[13:]
	type parts struct{ a, b, c []byte }
	var out []Case
	for i, def := range []struct {
		parts  parts
		frames bool
		desc   string
	}{
		{parts{p1, p2, p3}, true, "Send an invalid UTF-8 text message in 3 frames, waiting 1 s after the first and the second. Frames 1 and 3 are valid UTF-8 in themselves; frame 2 holds U+110000 in the UTF-8 encoding scheme, out of Unicode's range."},
		{parts{q1, q2, q3}, true, "As 6.4.1, but frame 2 holds only the octet that makes the payload invalid."},
		{parts{p1, p2, p3}, false, "As 6.4.1, but the 3 parts are chops of one frame, not frames."},
		{parts{q1, q2, q3}, false, "As 6.4.2, but the 3 parts are chops of one frame, not frames."},
	} {
		def := def
		out = append(out, Case{
			ID:          fmt.Sprintf("6.4.%d", i+1),
			Description: fmt.Sprintf("%s Parts: 0x%x, 0x%x, 0x%x.", def.desc, def.parts.a, def.parts.b, def.parts.c),
			Expectation: "The first part is accepted (the first wait passes). The second should be rejected at once, failing the connection with 1007 (fail fast); failing only after the third is NON-STRICT.",
			Timeout:     10 * time.Second,
			Run: func(p *Peer) {
				p.Expect(OK, TimeoutEvent("A"))
				p.Expect(NonStrict, TimeoutEvent("A"), TimeoutEvent("B"))
				p.ExpectClose(ExpectedClose{ClosedByMe: false, Codes: []int{CloseInvalidPayload}, WrongEndpointFatal: true})
				var chops [3][]byte
				if def.frames {
					chops[0] = p.EncodeFrame(Frame{Opcode: OpText, More: true, Payload: def.parts.a})
					chops[1] = p.EncodeFrame(Frame{Opcode: OpContinuation, More: true, Payload: def.parts.b})
					chops[2] = p.EncodeFrame(Frame{Opcode: OpContinuation, Payload: def.parts.c})
				} else {
					b := p.EncodeFrame(Frame{Opcode: OpText, Payload: whole})
					hdr := len(b) - len(whole)
					n1, n2 := hdr+len(def.parts.a), hdr+len(def.parts.a)+len(def.parts.b)
					chops[0], chops[1], chops[2] = b[:n1], b[n1:n2], b[n2:]
				}
				p.WriteRaw(chops[0])
				p.ContinueLater(time.Second, func() {
					if !p.Open() {
						return
					}
					p.Record(TimeoutEvent("A"))
					p.WriteRaw(chops[1])
					p.ContinueLater(time.Second, func() {
						if !p.Open() {
							return
						}
						p.Record(TimeoutEvent("B"))
						p.WriteRaw(chops[2])
						p.KillAfter(time.Second)
					})
				})
			},
		})
	}
	return out
}
