// Package interop holds the tests that judge this library against other
// WebSocket implementations: gorilla/websocket, coder/websocket,
// golang.org/x/net/websocket and Node's ws (../../testdata/node), and the
// tests of the migration paths and the gorilla-compatible API. It is a
// module of its own so that the library's go.mod requires only what the
// library uses; the shared test kit is internal/wstest.
//
// Run its tests from this directory: go test ./... (make test does, with
// the race detector).
package interop
