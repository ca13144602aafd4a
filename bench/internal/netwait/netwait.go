// Package netwait waits for a server of the harness to accept connections.
package netwait

import (
	"fmt"
	"net"
	"time"
)

// Listening dials addr until it accepts a TCP connection, which it closes,
// or until timeout has passed.
func Listening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %v: %v", addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
