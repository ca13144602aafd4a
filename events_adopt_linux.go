//go:build linux

package websocket

import (
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/transport"
)

// adoptEvents serves a descriptor handed over by netpoll to an
// EventHandler on the poller: it sends the 101, runs OnOpen (then opened),
// and leaves the connection to the poller, holding no goroutine.
func adoptEvents(fd int, local, remote net.Addr, pending, response []byte, cfg connConfig, live *liveConns, runner eventRunner, timeout time.Duration, opened func()) {
	sock := transport.NewPolledSocket(fd, local, remote, pending, cfg.readBufferSize, transport.ServerWriteBufferSize)
	poller, err := transport.SharedPoller()
	if err == nil {
		err = sendPolledResponse(sock, response, timeout)
	}
	if err != nil {
		opened()
		_ = sock.Close()
		sock.Destroy()
		hlog.SystemLogger().Debugf("websocket: starting an event-driven connection with %v: %v", remote, err)
		return
	}
	c := newConn(sock, frame.RoleServer, cfg, local, remote)
	e := &eventConn{c: c, sock: sock, runner: runner, live: live}
	sock.SetWriteWaits(e)
	e.state.Store(eventRunning)
	c.events.Store(e)
	if !live.add(c) {
		// Shutdown began between the 101 and now.
		opened()
		_ = c.WriteControl(CloseMessage, FormatCloseMessage(CloseGoingAway, "server shutting down"), time.Now().Add(closeWriteTimeout))
		c.release()
		return
	}
	if err := poller.Watch(fd, e); err != nil {
		opened()
		hlog.SystemLogger().Errorf("websocket: watching %v: %v", remote, err)
		live.remove(c)
		c.release()
		return
	}
	runner.open(c)
	opened()
	if c.callbackPanicked.Load() {
		e.end()
		return
	}
	// Serve what arrived with the handshake or during OnOpen, then leave
	// the connection to the poller.
	e.serve()
}

// sendPolledResponse writes the handshake response within timeout. The
// socket is not watched yet, so a full socket waits for the deadline;
// a 101 fits in any socket's buffer.
func sendPolledResponse(sock *transport.PolledSocket, response []byte, timeout time.Duration) error {
	_ = sock.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := sock.WriteBinary(response); err != nil {
		return err
	}
	err := sock.Flush()
	_ = sock.SetWriteDeadline(time.Time{})
	return err
}
