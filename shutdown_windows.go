package websocket

import "github.com/cloudwego/hertz/pkg/network"

// socketShutdown is nil on Windows, where Hertz uses the standard transport
// and closing the connection closes the socket at once.
func socketShutdown(network.Conn) func() { return nil }
