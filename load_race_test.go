//go:build linux && race

package websocket_test

// loadUnderRace is true when the race detector is on: its shadow memory
// counts in the RSS and is not given back, so the load test then judges
// memory by the Go heap alone.
const loadUnderRace = true
