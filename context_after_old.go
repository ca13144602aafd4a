//go:build !go1.21

package websocket

import "context"

// afterContext runs f on its own goroutine once ctx is done, unless the
// returned stop is called first, in which case stop reports true. Before
// Go 1.21 (context.AfterFunc) a goroutine waits for either.
func afterContext(ctx context.Context, f func()) (stop func() bool) {
	return afterContextGoroutine(ctx, f)
}
