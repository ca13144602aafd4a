package redishub_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hertzws/websocket/hub/internal/hubtest"
)

func TestMain(m *testing.M) {
	hubtest.RunSubscriberProcess() // returns unless a benchmark started this binary for its clients
	// go-redis logs every failed dial; the tests stop Redis on purpose and
	// read the broker's counters instead.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}
