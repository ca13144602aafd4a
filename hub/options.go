package hub

import "time"

// Defaults for the zero fields of Options.
const (
	// DefaultQueueSize is how many messages wait for one slow connection
	// before its Policy applies.
	DefaultQueueSize = 64

	// DefaultWriteTimeout bounds each write to a connection. A write that
	// takes longer ends that connection: its peer stopped reading.
	DefaultWriteTimeout = 10 * time.Second

	// DefaultCloseTimeout is how long a close frame the hub decided to send
	// (slow consumer, Hub.Close) may wait behind a write that does not
	// finish before the connection is dropped without it.
	DefaultCloseTimeout = time.Second
)

// Options configures a Hub. The zero value is ready to use: an in-process
// hub with queues of DefaultQueueSize messages and the CloseTryAgainLater
// policy.
type Options struct {
	// QueueSize is the capacity of each connection's send queue, in
	// messages. Zero or less means DefaultQueueSize. A queue starts with a
	// few slots and grows towards QueueSize only for a connection that
	// falls behind; a slot is a pointer, the messages themselves are shared
	// by all connections.
	QueueSize int

	// Policy applies when a connection's queue is full.
	Policy Policy

	// WriteTimeout bounds each write to a connection; zero means
	// DefaultWriteTimeout, a negative value means no bound. The hub owns
	// the write deadline of registered connections.
	WriteTimeout time.Duration

	// CloseTimeout bounds how long a close frame chosen by the hub waits to
	// be written; zero means DefaultCloseTimeout.
	CloseTimeout time.Duration

	// Broker, when not nil, joins this hub to the hubs of other instances
	// that use the same broker backend (for example redishub): rooms,
	// BroadcastAll and Send then reach connections held by any of them.
	// The hub starts the broker and closes it in Close; one broker serves
	// one hub.
	Broker Broker

	// InstanceID names this hub among the instances sharing a Broker. It
	// must be unique among them and at most 255 bytes; empty means a random
	// one. IDs chosen by Register start with it.
	InstanceID string
}

func (o *Options) queueSize() int {
	if o.QueueSize <= 0 {
		return DefaultQueueSize
	}
	return o.QueueSize
}

func (o *Options) writeTimeout() time.Duration {
	switch {
	case o.WriteTimeout == 0:
		return DefaultWriteTimeout
	case o.WriteTimeout < 0:
		return 0
	}
	return o.WriteTimeout
}

func (o *Options) closeTimeout() time.Duration {
	if o.CloseTimeout <= 0 {
		return DefaultCloseTimeout
	}
	return o.CloseTimeout
}
