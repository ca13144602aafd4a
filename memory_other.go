//go:build !linux

package websocket

// physicalMemory returns 0: the machine's memory is not looked up on this
// system, and the default receive budget is 1 GiB.
func physicalMemory() int64 { return 0 }
