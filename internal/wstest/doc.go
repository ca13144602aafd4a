// Package wstest is the test kit of this module's tests and of the interop
// module's (internal/interop): the Hertz transports every end-to-end test
// runs on, Hertz servers on 127.0.0.1 that stop when the test ends, a raw
// client that writes and reads WebSocket frames byte by byte, a sniffer of
// a connection's frames, payload generators, goroutine-leak checks and
// bounded waits.
//
// It imports nothing outside the standard library, Hertz and this module,
// so that the library's go.mod requires only what the library uses.
//
// Importing it silences Hertz's logger (hlog) for the whole test binary:
// Hertz logs every server start and stop. A test that wants Hertz's logs
// sets its own output.
package wstest
