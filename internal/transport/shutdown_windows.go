package transport

import "github.com/cloudwego/hertz/pkg/network"

// Shutdown is nil on Windows, where Hertz uses the standard transport
// and closing the connection closes the socket at once.
func Shutdown(network.Conn) func() { return nil }
