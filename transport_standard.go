package websocket

import (
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/network/standard"
)

// standardReader reads payloads on Hertz's standard transport through the
// connection's Read, which copies buffered bytes across the transport's
// buffer nodes without allocating, and reads a large p straight from the
// socket once nothing is buffered. Peek, by contrast, allocates a copy of
// any span that crosses two nodes.
type standardReader struct{ conn *standard.Conn }

// readDirect reads into p what is buffered, or else what the socket has,
// waiting for at least one byte. Without wait it reads nothing: the Conn
// asks only to top up a read, which Read has done already.
func (r standardReader) readDirect(p []byte, wait bool) (int, error) {
	if !wait {
		return 0, nil
	}
	return r.conn.Read(p)
}

// largeWrite is the payload size from which a Conn on Hertz's standard
// transport sends the payload with the connection's Write: it flushes what
// is buffered, then writes the payload from the caller's memory. Its
// WriteBinary would allocate a buffer node for a payload of 4 KiB or more.
const largeWrite = 4096

// useStandardTransport makes c read payloads through standardReader and
// send large ones through the connection's Write, when raw is a
// connection of Hertz's standard transport.
func useStandardTransport(c *Conn, raw network.Conn) {
	if sc, ok := raw.(*standard.Conn); ok {
		c.direct, c.directAlways, c.largeWriter = standardReader{conn: sc}, true, sc
	}
}
