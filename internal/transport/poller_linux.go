//go:build linux

package transport

import (
	"os"
	"sync"
	"syscall"
)

// The poller tells an event-driven connection that its socket has something
// to read, so that no goroutine has to wait on the socket for it.
//
// Why an epoll of its own, not Go's runtime poller and not netpoll's: the
// runtime poller wakes only a goroutine that is parked in a read, which is
// the goroutine per connection this mode exists to avoid. netpoll can watch
// a descriptor without a goroutine, but it adopts a connection by wrapping
// it in a netpoll.Connection with input and output LinkBuffers and its own
// locks and callbacks (several hundred bytes to kilobytes per connection,
// before any data), and Hertz has already detached the descriptor from it
// (see handover_unix.go). The poller below costs one goroutine per process
// and a pointer-sized table slot per descriptor.
//
// Registration is edge-triggered (EPOLLET): the kernel reports a socket when
// new bytes arrive or room frees up for writing, and the connection reads until the socket has nothing
// more (EAGAIN) before it stops. An edge that arrives while the connection
// is busy is remembered by the connection (see the root package's
// events.go), so none is lost and no re-arming system call is needed per
// message. A connection that waits in the middle of a message, and a
// blocked write, wait for the next edge from this poller too (see
// polled_linux.go), with deadlines.

// epollET is EPOLLET as the unsigned bit EpollEvent.Events holds.
const epollET = 1 << 31

// Events say what the poller saw on a socket.
type Events uint8

const (
	// Readable: bytes arrived, the peer hung up, or the socket failed.
	Readable Events = 1 << iota
	// Writable: the socket has room for more bytes, or failed.
	Writable
)

// Watcher is woken by the poller when its socket becomes readable or
// writable, or is hung up. Wake runs on the poller's goroutine and must
// not block.
type Watcher interface{ Wake(Events) }

// Poller is an epoll instance with one goroutine that waits on it.
type Poller struct {
	epfd int
	file *os.File        // the epoll descriptor as a file, kept open for ever
	raw  syscall.RawConn // waits for it in the runtime poller; nil if it cannot

	mu       sync.RWMutex
	watchers []Watcher // indexed by descriptor
}

var (
	pollerOnce sync.Once
	poller     *Poller
	pollerErr  error
)

// SharedPoller returns the process's poller, starting it on first use.
func SharedPoller() (*Poller, error) {
	pollerOnce.Do(func() {
		poller, pollerErr = newPoller()
		if pollerErr == nil {
			go poller.loop()
		}
	})
	return poller, pollerErr
}

func newPoller() (*Poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	p := &Poller{epfd: fd}
	// A non-blocking descriptor given to os.NewFile joins the runtime
	// poller; see loop. The file is kept so that its finalizer does not
	// close the descriptor.
	if syscall.SetNonblock(fd, true) == nil {
		p.file = os.NewFile(uintptr(fd), "epoll")
		if raw, err := p.file.SyscallConn(); err == nil {
			p.raw = raw
		}
	}
	return p, nil
}

// Watch registers fd: from now on w.Wake runs whenever bytes arrive on it
// or its peer hangs up, until Forget. Bytes that arrived before Watch
// raise no event: the caller reads the socket once after Watch.
func (p *Poller) Watch(fd int, w Watcher) error {
	p.mu.Lock()
	if fd >= len(p.watchers) {
		grown := make([]Watcher, fd+1+fd/2)
		copy(grown, p.watchers)
		p.watchers = grown
	}
	p.watchers[fd] = w
	p.mu.Unlock()
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET,
		Fd:     int32(fd),
	}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.Forget(fd, w)
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// Forget stops waking w for fd. It leaves the kernel's registration alone:
// closing the descriptor removes it, and a descriptor number that is
// reused by then belongs to a new registration, which EPOLL_CTL_DEL would
// remove. An event still in flight for fd reaches the new watcher, if any,
// as a spurious wakeup, which watchers tolerate.
func (p *Poller) Forget(fd int, w Watcher) {
	p.mu.Lock()
	if fd < len(p.watchers) && p.watchers[fd] == w {
		p.watchers[fd] = nil
	}
	p.mu.Unlock()
}

// loop waits for events for ever; the poller lives as long as the process.
//
// The epoll descriptor is itself registered with Go's runtime poller (an
// epoll instance is readable while it has events ready), so the poller's
// goroutine parks in the scheduler like any goroutine blocked in a read
// rather than in epoll_wait. A goroutine blocked in a system call keeps
// its P until the runtime's monitor takes it back (20 µs at best, more
// after the process has been idle), so with GOMAXPROCS=1 the goroutines
// Wake starts would wait that long to run; parked in the runtime poller,
// the poller gives its P up at once and is woken by the scheduler's own
// polling. If the runtime cannot poll the descriptor, loop blocks in
// epoll_wait instead.
func (p *Poller) loop() {
	var events [256]syscall.EpollEvent
	if p.raw != nil {
		// drain never reports done, so Read returns only if the runtime
		// poller cannot wait on the descriptor.
		_ = p.raw.Read(func(uintptr) bool { return p.drain(events[:]) })
	}
	for {
		n, err := syscall.EpollWait(p.epfd, events[:], -1)
		if err != nil {
			// EINTR; no other error can come from a valid epoll
			// descriptor and buffer.
			continue
		}
		p.dispatch(events[:n])
	}
}

// drain takes every ready event without blocking and wakes its watchers,
// then reports false: wait for the epoll descriptor to become readable
// again. It stops only when the kernel returned fewer events than fit,
// which leaves the ready list empty, so that the next event is a new edge
// for the runtime poller (which registers descriptors edge-triggered).
func (p *Poller) drain(events []syscall.EpollEvent) bool {
	for {
		n, err := syscall.EpollWait(p.epfd, events, 0)
		if err != nil {
			continue // EINTR
		}
		p.dispatch(events[:n])
		if n < len(events) {
			return false
		}
	}
}

// dispatch wakes the watchers of events.
func (p *Poller) dispatch(events []syscall.EpollEvent) {
	if len(events) == 0 {
		return
	}
	p.mu.RLock()
	for i := range events {
		fd := int(events[i].Fd)
		if fd < len(p.watchers) {
			if w := p.watchers[fd]; w != nil {
				w.Wake(eventsOf(events[i].Events))
			}
		}
	}
	p.mu.RUnlock()
}

// eventsOf translates epoll's event bits.
func eventsOf(bits uint32) Events {
	var e Events
	if bits&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		e |= Readable
	}
	if bits&(syscall.EPOLLOUT|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		e |= Writable
	}
	return e
}
