package websocket

import (
	"errors"
	"testing"

	"github.com/hertzws/websocket/frame"
)

func TestSetCompressionLevelRange(t *testing.T) {
	c := benchConn(frame.RoleServer, nil)
	for level := -2; level <= 9; level++ {
		if err := c.SetCompressionLevel(level); err != nil {
			t.Fatalf("SetCompressionLevel(%d): %v", level, err)
		}
	}
	for _, level := range []int{-3, 10, 42} {
		if err := c.SetCompressionLevel(level); !errors.Is(err, frame.ErrInvalidCompressionLevel) {
			t.Fatalf("SetCompressionLevel(%d) = %v, want frame.ErrInvalidCompressionLevel", level, err)
		}
	}
}
