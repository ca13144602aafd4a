package conformance

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Payload generators for family 12. Each is deterministic, so that a run
// can be repeated byte for byte. The text sources marked as text (JSON,
// HTML) are pure ASCII: a message cut anywhere in them is valid UTF-8.

type xorshift uint64

func (x *xorshift) next() uint64 {
	v := uint64(*x)
	v ^= v << 13
	v ^= v >> 7
	v ^= v << 17
	*x = xorshift(v)
	return v
}

func (x *xorshift) intn(n int) int { return int(x.next() % uint64(n)) }

func (x *xorshift) pick(list []string) string { return list[x.intn(len(list))] }

var (
	firstNames = []string{"Anna", "Bernd", "Clara", "David", "Eva", "Felix", "Greta", "Hans", "Ida", "Jonas", "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul"}
	lastNames  = []string{"Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann"}
	cities     = []string{"Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig", "Dresden", "Bremen", "Hanover"}
	tags       = []string{"alpha", "beta", "gamma", "delta", "websocket", "deflate", "frame", "message", "socket", "stream"}
	words      = []string{"und", "der", "die", "das", "nicht", "ich", "ist", "mit", "sich", "auf", "f\u00fcr", "dem", "wie", "auch", "noch",
		"Geist", "Welt", "Himmel", "Erde", "Stunde", "Nacht", "M\u00e4dchen", "Gl\u00fcck", "Tr\u00e4ume", "sch\u00f6n", "Gr\u00f6\u00dfe",
		"wei\u00df", "Herz", "Seele", "Teufel", "Wissen", "Augenblick", "verweile", "doch", "du", "bist", "so"}
	speakers = []string{"FAUST", "MEPHISTOPHELES", "WAGNER", "MARGARETE", "MARTHE", "CHOR", "GEIST", "SCH\u00dcLER"}
)

// genJSON: an array of records, like a large API response.
func genJSON() []byte {
	r := xorshift(0x9e3779b97f4a7c15)
	var b strings.Builder
	b.WriteString("[\n")
	for i := 0; b.Len() < 194056-400; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `  {"id": %d, "guid": "%08x-%04x-%04x", "isActive": %v, "balance": "%d.%02d", "age": %d, "name": "%s %s", "city": "%s", "email": "%s.%s@example.com", "latitude": %d.%06d, "longitude": %d.%06d, "tags": ["%s", "%s", "%s"], "friends": [{"id": %d, "name": "%s"}, {"id": %d, "name": "%s"}]}`,
			i, r.next()&0xffffffff, r.intn(1<<16), r.intn(1<<16), r.intn(2) == 1, r.intn(10000), r.intn(100), 18+r.intn(60),
			r.pick(firstNames), r.pick(lastNames), r.pick(cities), strings.ToLower(r.pick(firstNames)), strings.ToLower(r.pick(lastNames)),
			r.intn(90), r.intn(1000000), r.intn(180), r.intn(1000000), r.pick(tags), r.pick(tags), r.pick(tags),
			r.intn(100), r.pick(firstNames), r.intn(100), r.pick(firstNames))
	}
	b.WriteString("\n]\n")
	return []byte(b.String())
}

// genBitmap: an 8-bit greyscale BMP of 512x512 with soft shapes and
// noise, like a photograph.
func genBitmap() []byte {
	const w, h = 512, 512
	const header = 14 + 40 + 256*4
	out := make([]byte, header+w*h)
	copy(out, "BM")
	binary.LittleEndian.PutUint32(out[2:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[10:], header)
	binary.LittleEndian.PutUint32(out[14:], 40)
	binary.LittleEndian.PutUint32(out[18:], w)
	binary.LittleEndian.PutUint32(out[22:], h)
	binary.LittleEndian.PutUint16(out[26:], 1)
	binary.LittleEndian.PutUint16(out[28:], 8)
	binary.LittleEndian.PutUint32(out[34:], w*h)
	binary.LittleEndian.PutUint32(out[46:], 256)
	for i := 0; i < 256; i++ {
		o := 54 + 4*i
		out[o], out[o+1], out[o+2] = byte(i), byte(i), byte(i)
	}
	r := xorshift(0x243f6a8885a308d3)
	px := out[header:]
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x-200, y-280
			v := (x*3+y*2)/5 + 60*((dx*dx+dy*dy)/4000%3) + r.intn(9)
			if (x/64+y/64)%2 == 0 {
				v += 20
			}
			px[y*w+x] = byte(v)
		}
	}
	return out
}

// genGerman: verse drama in German, with umlauts (sent as binary, as
// Autobahn sends its Faust text).
func genGerman() []byte {
	r := xorshift(0x13198a2e03707344)
	var b strings.Builder
	for b.Len() < 222218-200 {
		fmt.Fprintf(&b, "\n%s.\n", r.pick(speakers))
		for l := 2 + r.intn(6); l > 0; l-- {
			n := 4 + r.intn(6)
			for k := 0; k < n; k++ {
				w := r.pick(words)
				if k == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				} else {
					b.WriteByte(' ')
				}
				b.WriteString(w)
			}
			b.WriteString([]string{",", ".", "!", "?", ";"}[r.intn(5)])
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// genHTML: a long HTML page of tables and paragraphs.
func genHTML() []byte {
	r := xorshift(0xa4093822299f31d0)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Report</title>\n<link rel=\"stylesheet\" href=\"style.css\"></head>\n<body>\n")
	for s := 0; b.Len() < 263222-300; s++ {
		fmt.Fprintf(&b, "<div class=\"section\" id=\"s%d\">\n<h2>Section %d: %s</h2>\n<p class=\"intro\">", s, s, r.pick(tags))
		for k := 0; k < 20+r.intn(30); k++ {
			b.WriteString(r.pick(tags))
			b.WriteByte(' ')
		}
		b.WriteString("</p>\n<table class=\"data\">\n<tr><th>Name</th><th>City</th><th>Value</th></tr>\n")
		for row := 0; row < 5+r.intn(10); row++ {
			fmt.Fprintf(&b, "<tr class=\"row%d\"><td><a href=\"/people/%d\">%s %s</a></td><td>%s</td><td align=\"right\">%d</td></tr>\n",
				row%2, r.intn(100000), r.pick(firstNames), r.pick(lastNames), r.pick(cities), r.intn(1000000))
		}
		b.WriteString("</table>\n</div>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}

// genPDF: PDF-like structure: text objects between streams of
// incompressible (already compressed) bytes.
func genPDF() []byte {
	r := xorshift(0x082efa98ec4e6c89)
	out := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	for obj := 1; len(out) < 1042328-2000; obj++ {
		out = append(out, fmt.Sprintf("%d 0 obj\n<< /Type /Page /Parent 1 0 R /Resources << /Font << /F1 %d 0 R >> >> /MediaBox [0 0 612 792] /Contents %d 0 R >>\nendobj\n", obj, obj+1, obj+2)...)
		n := 2000 + r.intn(6000)
		out = append(out, fmt.Sprintf("%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", obj+2, n)...)
		for k := 0; k < n; k += 8 {
			var v [8]byte
			binary.LittleEndian.PutUint64(v[:], r.next())
			out = append(out, v[:]...)
		}
		out = append(out, "\nendstream\nendobj\n"...)
		for k := 0; k < 3; k++ {
			out = append(out, fmt.Sprintf("BT /F1 12 Tf 72 %d Td (%s %s %s) Tj ET\n", 700-k*14, r.pick(tags), r.pick(words), r.pick(cities))...)
		}
	}
	out = append(out, "trailer\n<< /Root 1 0 R >>\n%%EOF\n"...)
	return out
}
