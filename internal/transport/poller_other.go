//go:build !linux

package transport

import "errors"

// Events say what the poller saw on a socket.
type Events uint8

const (
	// Readable: bytes arrived, the peer hung up, or the socket failed.
	Readable Events = 1 << iota
	// Writable: the socket has room for more bytes, or failed.
	Writable
)

// Watcher is woken by the poller when its socket becomes readable or
// writable.
type Watcher interface{ Wake(Events) }

// Poller watches sockets for readability. This platform has none: the
// event-driven mode runs a goroutine per connection here.
type Poller struct{}

// errNoPoller is SharedPoller's answer where there is no poller.
var errNoPoller = errors.New("websocket: no event poller on this platform")

// SharedPoller returns the process's poller; there is none here.
func SharedPoller() (*Poller, error) { return nil, errNoPoller }

// Watch is never called: SharedPoller returns no poller.
func (p *Poller) Watch(int, Watcher) error { return errNoPoller }

// Forget is never called: SharedPoller returns no poller.
func (p *Poller) Forget(int, Watcher) {}
