package hub

import (
	"time"

	"github.com/hertzws/websocket"
)

// writeLoop is the client's writer: the only goroutine that writes data
// messages to the connection, so one slow connection holds only its own
// writer. It runs only while the client's queue has work: it is started by
// whoever gives an idle queue work (sendQueue.claimWriterLocked) and
// returns once the queue is empty, so an idle client holds no goroutine.
// When the client is closed or a write fails it returns for good and
// closes writerDone.
func (c *Client) writeLoop() {
	var batch [writeBatch]*websocket.PreparedMessage
	for {
		pms, req := c.q.pop(batch[:0])
		switch {
		case len(pms) > 0:
			err := c.write(pms)
			for i := range pms {
				pms[i] = nil // let the messages go once every client sent them
			}
			if err != nil {
				if c.Err() == nil {
					// Not a write cut short by the client's own end.
					c.hub.stats.writeErrors.Add(1)
				}
				// Record the reason before closing the connection, or the
				// reader would report the close as the cause.
				c.finish(err)
				dropped, _ := c.q.abandon() // this writer is the one running
				c.countDiscarded(dropped)
				_ = c.conn.Close()
				close(c.writerDone)
				return
			}
		case req != nil:
			c.sendClose(req)
			close(c.writerDone)
			return
		default:
			return // nothing queued: the next push starts a writer
		}
	}
}

// writeBatch is how many queued messages the writer hands to the
// connection at once: they go out with one system call per few KiB
// (Conn.WritePreparedMessages).
const writeBatch = 16

// write sends queued prepared messages under the write timeout.
func (c *Client) write(pms []*websocket.PreparedMessage) error {
	if t := c.hub.writeTimeout; t > 0 {
		// Pushing the deadline out costs the transport a timer update, so
		// it is renewed only when a quarter of the timeout has passed:
		// every write still gets at least three quarters of it.
		now := time.Now()
		if now.Sub(c.deadlineRenewed) > t/4 {
			if err := c.conn.SetWriteDeadline(now.Add(t)); err != nil {
				return err
			}
			c.deadlineRenewed = now
		}
	}
	if err := c.conn.WritePreparedMessages(pms); err != nil {
		return err
	}
	c.delivered.Add(uint64(len(pms)))
	c.hub.stats.delivered.Add(uint64(len(pms)))
	return nil
}

// sendClose writes the close frame a closeRequest asks for. The peer's
// answer is read by the client's reader, which then ends the connection;
// a write that fails leaves no hope of an answer, so the connection is
// dropped at once.
func (c *Client) sendClose(req *closeRequest) {
	if req.code == 0 {
		return
	}
	msg := websocket.FormatCloseMessage(req.code, req.text)
	err := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.hub.closeTimeout))
	c.closeFrameSent.Store(true)
	if err != nil && err != websocket.ErrCloseSent {
		_ = c.conn.Close()
	}
}
