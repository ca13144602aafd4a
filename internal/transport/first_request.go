package transport

import (
	"time"

	"github.com/cloudwego/hertz/pkg/network"
)

// BoundFirstRequest sets a read deadline d from now, for the whole of the
// first request on conn: Hertz replaces it before it reads a later request,
// and the upgrade clears it. It runs in Hertz's OnConnect hook. On netpoll
// nobody reads a connection before its first byte arrives, so the deadline
// would never fire for a client that sends nothing; there OnConnect runs
// on the goroutine that will serve the connection, and it waits for that
// byte here, closing the connection when none comes in time.
func BoundFirstRequest(conn network.Conn, d time.Duration) {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	if !onConnectMayWait(conn) || conn.Len() > 0 {
		return
	}
	if _, err := conn.Peek(1); err != nil {
		_ = conn.Close()
	}
}
