//go:build windows

package transport

import (
	"errors"
	"net"

	"github.com/cloudwego/hertz/pkg/network"
)

// Detachable stands for a netpoll connection, which Windows does not have.
type Detachable interface{ Fd() int }

// DetachableOf returns nil: on Windows Hertz runs on its standard
// transport, and connections stay on it.
func DetachableOf(network.Conn) Detachable { return nil }

// HandOver is never called on Windows, where DetachableOf returns nil.
func HandOver(network.Conn, Detachable, func(int, []byte)) error {
	return errNoNetpoll
}

// AdoptDescriptor is never called on Windows, where HandOver fails.
func AdoptDescriptor(int) (net.Conn, error) { return nil, errNoNetpoll }

var errNoNetpoll = errors.New("websocket: no netpoll on Windows")
