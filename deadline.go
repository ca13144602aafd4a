package websocket

import "time"

// applyReadDeadline hands the transport the deadline for the next wait: the
// one from SetReadDeadline, else now plus NetConn's SetReadTimeout. It runs
// on the reading goroutine, which is the only one allowed to touch the
// transport's read timer.
func (c *Conn) applyReadDeadline() error {
	d := c.readDeadline.Load()
	if d == 0 {
		if timeout := c.readTimeout.Load(); timeout > 0 {
			d = time.Now().UnixNano() + timeout
		}
	}
	if d == c.appliedReadDL {
		return nil
	}
	c.appliedReadDL = d
	return setTransportDeadline(c.t, true, d)
}

// applyWriteDeadline hands the transport the deadline for the next write:
// override (Unix nanoseconds) when not zero, else the deadline from
// SetWriteDeadline, else now plus the timeout from NetConn's
// SetWriteTimeout. The caller holds frameLock.
func (c *Conn) applyWriteDeadline(override int64) error {
	d := override
	if d == 0 {
		d = c.writeDeadline.Load()
	}
	if d == 0 {
		if timeout := c.writeTimeout.Load(); timeout > 0 {
			d = time.Now().UnixNano() + timeout
		}
	}
	if d == c.appliedWriteDL {
		return nil
	}
	c.appliedWriteDL = d
	return setTransportDeadline(c.t, false, d)
}

// setTransportDeadline gives a transport a read or write deadline in Unix
// nanoseconds (0 for none) through its deadline method, or through its
// timeout method when the deadline method fails.
func setTransportDeadline(t transport, read bool, d int64) error {
	when := nanosDeadline(d)
	var err error
	if read {
		err = t.SetReadDeadline(when)
	} else {
		err = t.SetWriteDeadline(when)
	}
	if err == nil {
		return nil
	}
	var timeout time.Duration
	if d != 0 {
		if timeout = time.Until(when); timeout <= 0 {
			timeout = time.Nanosecond
		}
	}
	if tt, ok := t.(interface {
		SetReadTimeout(time.Duration) error
		SetWriteTimeout(time.Duration) error
	}); ok {
		if read {
			return tt.SetReadTimeout(timeout)
		}
		return tt.SetWriteTimeout(timeout)
	}
	return err
}
