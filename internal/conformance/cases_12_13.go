package conformance

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
)

// compressionSizes are the (payload length, case timeout, auto-fragment
// size) of cases 12.x.1 to 12.x.18 and 13.x.1 to 13.x.18, in Autobahn's
// order.
var compressionSizes = []struct {
	size int
	wait time.Duration
	frag int
}{
	{16, 60, 0}, {64, 60, 0}, {256, 120, 0}, {1024, 240, 0}, {4096, 480, 0},
	{8192, 480, 0}, {16384, 480, 0}, {32768, 480, 0}, {65536, 480, 0}, {131072, 480, 0},
	{8192, 480, 256}, {16384, 480, 256}, {32768, 480, 256}, {65536, 480, 256}, {131072, 480, 256},
	{131072, 480, 1024}, {131072, 480, 4096}, {131072, 480, 32768},
}

// compressionData is a payload source of family 12: Autobahn uses five
// files of its own (a JSON file, a bitmap, Goethe's Faust as text, an
// HTML file, a PDF); these are stand-ins of the same kinds generated here,
// so that the compressor meets the same sorts of redundancy.
type compressionData struct {
	desc   string
	binary bool
	gen    func() []byte
	once   sync.Once
	data   []byte
}

func (d *compressionData) bytes() []byte {
	d.once.Do(func() { d.data = d.gen() })
	return d.data
}

var (
	jsonData  = &compressionData{desc: "Large JSON data file", gen: genJSON}
	bmpData   = &compressionData{desc: "Picture, bitmap 512x512 greyscale", binary: true, gen: genBitmap}
	faustData = &compressionData{desc: "Human readable text (German)", binary: true, gen: genGerman}
	htmlData  = &compressionData{desc: "Large HTML file", gen: genHTML}
	pdfData   = &compressionData{desc: "A larger PDF-like file", binary: true, gen: genPDF}
)

// compressionCase builds one case of families 12 and 13: it sends the
// options' number of messages of size bytes taken in turn from data (one
// after the echo of the previous), compressed, auto-fragmented to frag,
// and checks each echo. A peer that did not accept permessage-deflate
// gets UNIMPLEMENTED.
func compressionCase(id, desc string, data *compressionData, size int, wait time.Duration, frag int, offers []string, accept func([]deflateOffer) string) Case {
	kind := "text"
	if data.binary {
		kind = "binary"
	}
	return Case{
		ID:          id,
		Description: desc,
		Expectation: fmt.Sprintf("Every %s message comes back with the payload as sent. The case times out after %v.", kind, wait),
		Offers:      offers,
		Accept:      accept,
		Timeout:     wait + 10*time.Second,
		MaxMessage:  size,
		Run: func(p *Peer) {
			p.ExpectClose(ExpectedClose{ClosedByMe: true, Codes: []int{CloseNormal}, RequireClean: true})
			if !p.Compressed() {
				p.SetBehavior(Unimplemented, "permessage-deflate was not negotiated")
				p.SendClose(CloseNormal)
				return
			}
			count := p.opts.compressionMessages()
			src := data.bytes()
			op := OpText
			if data.binary {
				op = OpBinary
			}
			p.SetAutoFragmentSize(frag)
			p.SetBehavior(Failed, fmt.Sprintf("The case did not finish within %v.", wait))
			p.CloseAfter(wait)
			pos, sent := 0, 0
			var want []byte
			sendOne := func() {
				want = make([]byte, size)
				for k := 0; k < size; {
					n := copy(want[k:], src[pos:])
					k += n
					pos = (pos + n) % len(src)
				}
				sent++
				p.SendMessage(op, want)
			}
			p.OnMessage(func(e Event) {
				switch {
				case e.Binary != data.binary:
					p.SetBehavior(Failed, fmt.Sprintf("Message %d came back as %s, sent as %s.", sent, e, kind))
				case len(e.Payload) != size:
					p.SetBehavior(Failed, fmt.Sprintf("Message %d came back with %d bytes, sent %d.", sent, len(e.Payload), size))
				case !bytes.Equal(e.Payload, want):
					p.SetBehavior(Failed, fmt.Sprintf("Message %d came back with other content.", sent))
				case sent < count:
					sendOne()
					return
				default:
					p.SetBehavior(OK, fmt.Sprintf("All %d messages came back, %d of them compressed (%s).", count, p.rxCompressed, p.pmd.response))
				}
				p.SendClose(CloseNormal)
			})
			sendOne()
		},
	}
}

func cases12() []Case {
	var out []Case
	for j, data := range []*compressionData{jsonData, bmpData, faustData, htmlData, pdfData} {
		for i, s := range compressionSizes {
			desc := fmt.Sprintf("%s: send compressed messages of payload size %d each after the echo of the previous (Autobahn sends 1000), auto-fragmented to %d octets. Use the default permessage-deflate offer.",
				data.desc, s.size, s.frag)
			out = append(out, compressionCase(fmt.Sprintf("12.%d.%d", j+1, i+1), desc, data, s.size, s.wait*time.Second, s.frag,
				[]string{DefaultOffer.String()}, acceptFirst))
		}
	}
	return out
}

// The server-side answers to permessage-deflate offers of family 13, as
// Autobahn's fuzzing server gives them: accept an offer, repeating what it
// requests of the server, and ask the client for no context takeover
// and/or a window, which the offer must have said it accepts.
func acceptWith(noContext bool, bits int) func([]deflateOffer) string {
	return func(offers []deflateOffer) string {
		for _, o := range offers {
			if noContext && !o.has(pClientNoTakeover) {
				continue
			}
			if bits != 0 && !o.has(pClientMaxBits) {
				continue
			}
			if o.bits(pServerMaxBits) < 0 || o.bits(pClientMaxBits) < 0 {
				continue
			}
			s := "permessage-deflate"
			if o.has(pServerNoTakeover) {
				s += "; " + pServerNoTakeover
			}
			if n := o.bits(pServerMaxBits); n > 0 {
				s += fmt.Sprintf("; %s=%d", pServerMaxBits, n)
			}
			if noContext {
				s += "; " + pClientNoTakeover
			}
			if bits != 0 {
				s += fmt.Sprintf("; %s=%d", pClientMaxBits, bits)
			}
			return s
		}
		return ""
	}
}

var acceptFirst = acceptWith(false, 0)

// deflateParams of cases 13.1 to 13.7: the client's offers and the
// server's way of answering.
var deflateParams = []struct {
	offers []Offer
	accept func([]deflateOffer) string
	adesc  string
}{
	{[]Offer{DefaultOffer}, acceptFirst, "(False, 0)"},
	{[]Offer{{true, true, true, 0}}, acceptWith(true, 0), "(True, 0)"},
	{[]Offer{{true, true, false, 8}}, acceptWith(false, 8), "(False, 8)"},
	{[]Offer{{true, true, false, 15}}, acceptWith(false, 15), "(False, 15)"},
	{[]Offer{{true, true, true, 8}}, acceptWith(true, 8), "(True, 8)"},
	{[]Offer{{true, true, true, 15}}, acceptWith(true, 15), "(True, 15)"},
	{[]Offer{{true, true, true, 8}, {true, true, true, 0}, DefaultOffer}, func(o []deflateOffer) string {
		for _, f := range []func([]deflateOffer) string{acceptWith(true, 8), acceptWith(true, 0), acceptFirst} {
			if s := f(o); s != "" {
				return s
			}
		}
		return ""
	}, "(True, 8), (True, 0), (False, 0)"},
}

func cases13() []Case {
	var out []Case
	for j, dp := range deflateParams {
		var offers, pairs []string
		for _, o := range dp.offers {
			offers = append(offers, o.String())
			pairs = append(pairs, fmt.Sprintf("(%v, %d)", o.RequestNoContextTakeover, o.RequestMaxWindowBits))
		}
		for i, s := range compressionSizes {
			desc := fmt.Sprintf("%s: send compressed messages of payload size %d each after the echo of the previous (Autobahn sends 1000), auto-fragmented to %d octets. Client offers (requestNoContextTakeover, requestMaxWindowBits): [%s] = %q; a fuzzing server accepts with %s.",
				jsonData.desc, s.size, s.frag, strings.Join(pairs, ", "), strings.Join(offers, ", "), dp.adesc)
			out = append(out, compressionCase(fmt.Sprintf("13.%d.%d", j+1, i+1), desc, jsonData, s.size, s.wait*time.Second, s.frag, offers, dp.accept))
		}
	}
	return out
}
