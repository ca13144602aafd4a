package hub_test

import (
	"os"
	"testing"

	"github.com/hertzws/websocket/hub/internal/hubtest"
)

func TestMain(m *testing.M) {
	hubtest.RunSubscriberProcess() // returns unless a benchmark started this binary for its clients
	os.Exit(m.Run())
}
