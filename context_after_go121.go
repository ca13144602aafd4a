//go:build go1.21

package websocket

import "context"

// afterContext runs f on its own goroutine once ctx is done, unless the
// returned stop is called first, in which case stop reports true.
func afterContext(ctx context.Context, f func()) (stop func() bool) {
	return context.AfterFunc(ctx, f)
}
