//go:build !linux

package transport

import "errors"

// Watcher is woken by the poller when its socket becomes readable or is
// hung up.
type Watcher interface{ Wake() }

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

// Descriptor reports that the socket cannot be watched here.
func (t *Socket) Descriptor() (int, bool) { return 0, false }
