package abuse

import "syscall"

// smallReceiveBuffer makes a client socket's receive buffer small, so that
// a server writing to a client that never reads blocks soon.
func smallReceiveBuffer(network, address string, c syscall.RawConn) error {
	var err error
	_ = c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	return err
}
