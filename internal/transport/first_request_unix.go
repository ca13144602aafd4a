//go:build !windows

package transport

import (
	"github.com/cloudwego/hertz/pkg/network"
	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
)

// onConnectMayWait reports whether Hertz runs OnConnect for conn on the
// goroutine that then serves it (netpoll), rather than in the accept loop
// (the standard transport), where blocking would stall every new client.
func onConnectMayWait(conn network.Conn) bool {
	_, ok := conn.(*hnetpoll.Conn)
	return ok
}
