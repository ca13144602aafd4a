package websocket

import (
	"crypto/rand"
	"sync"
)

// maskKeys hands out client masking keys. RFC 6455 §5.3 and §10.3 require
// each key to be unpredictable, so keys come from crypto/rand, read in
// blocks so that a key costs a copy under a lock rather than a system call.
var maskKeys struct {
	sync.Mutex
	buf [4096]byte
	off int
}

func init() { maskKeys.off = len(maskKeys.buf) }

func newMaskKey() (key [4]byte) {
	maskKeys.Lock()
	if maskKeys.off+4 > len(maskKeys.buf) {
		if _, err := rand.Read(maskKeys.buf[:]); err != nil {
			maskKeys.Unlock()
			panic("websocket: crypto/rand failed: " + err.Error())
		}
		maskKeys.off = 0
	}
	copy(key[:], maskKeys.buf[maskKeys.off:])
	maskKeys.off += 4
	maskKeys.Unlock()
	return key
}
