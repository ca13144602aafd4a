//go:build linux && !race

package websocket_test

// loadUnderRace is false without the race detector: the load test checks
// that the RSS returns to its baseline too.
const loadUnderRace = false
