package transport

import "github.com/cloudwego/hertz/pkg/network"

// onConnectMayWait is false on Windows, where Hertz has only the standard
// transport and runs OnConnect in its accept loop.
func onConnectMayWait(network.Conn) bool { return false }
