package wstest

import (
	"bytes"
	"fmt"
	"math/rand"
	"unicode/utf8"

	"github.com/hertzws/websocket"
)

// RandomBytes returns n pseudo-random bytes from seed: data that does not
// compress.
func RandomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	_, _ = rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// RandomText returns exactly n bytes of valid UTF-8 mixing 1- to 4-byte
// runes from seed, so that fragment boundaries fall inside multi-byte
// sequences.
func RandomText(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n)
	var tmp [utf8.UTFMax]byte
	for len(b) < n {
		var c rune
		switch r.Intn(4) {
		case 0:
			c = rune(0x20 + r.Intn(0x5F))
		case 1:
			c = rune(0x80 + r.Intn(0x800-0x80))
		case 2:
			c = rune(0x800 + r.Intn(0xD800-0x800)) // below the surrogates
		default:
			c = rune(0x10000 + r.Intn(0x110000-0x10000))
		}
		size := utf8.EncodeRune(tmp[:], c)
		if len(b)+size > n {
			b = append(b, 'a') // pad with ASCII to hit n exactly
			continue
		}
		b = append(b, tmp[:size]...)
	}
	return b
}

// JSONText returns n bytes of repetitive JSON-like ASCII text, which
// compresses well.
func JSONText(n, seed int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"seq":%d,"user":"user-%d","event":"message","text":"the quick brown fox jumps over the lazy dog","ok":true}`+"\n", seed+i, (seed+i*7)%13)
	}
	return b.Bytes()[:n]
}

// CompressibleBinary returns n bytes of compressible binary data: a random
// 1 KiB block repeated, with a random byte sprinkled every 64 bytes or so.
func CompressibleBinary(n, seed int) []byte {
	rng := rand.New(rand.NewSource(int64(seed)))
	block := make([]byte, 1024)
	rng.Read(block)
	p := make([]byte, n)
	for i := range p {
		p[i] = block[i%len(block)]
	}
	for i := rng.Intn(64); i < n; i += 32 + rng.Intn(64) {
		p[i] = byte(rng.Intn(256))
	}
	return p
}

// Compressible returns n compressible bytes for a message of type mt:
// JSONText for a text message, CompressibleBinary for a binary one.
func Compressible(mt, n, seed int) []byte {
	if mt == websocket.TextMessage {
		return JSONText(n, seed)
	}
	return CompressibleBinary(n, seed)
}

var chatPhrases = []string{
	"hello everyone", "did you see the release notes?", "yes, compression finally landed",
	"the benchmark numbers look good", "lunch at noon?", "pushing a fix for the flaky test",
	"LGTM, ship it", "can someone review my PR", "the build is green again", "brb",
}

// ChatMessage returns the i-th message of a chat-like JSON conversation:
// the same structure every time with a few changing fields, 250 to 400
// bytes.
func ChatMessage(i int) []byte {
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	return []byte(fmt.Sprintf(`{"type":"chat.message","room":{"id":"general","name":"General discussion"},`+
		`"seq":%d,"from":{"id":%d,"name":%q,"status":"online","avatar":"https://example.com/avatars/%s.png"},`+
		`"text":%q,"ts":%d,"reactions":[{"emoji":"thumbsup","count":%d}],"tags":["chat","general","v1"]}`,
		i, 1000+i%5, users[i%5], users[i%5], chatPhrases[(i*3)%len(chatPhrases)], 1700000000000+int64(i)*1337, i%4))
}
