package redishub

import "time"

// Defaults for the zero fields of Options.
const (
	DefaultPrefix      = "hub:"
	DefaultOutboxSize  = 4096
	DefaultMinBackoff  = 50 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	DefaultHealthCheck = 15 * time.Second
)

// Options configures a Broker. The zero value is ready to use.
type Options struct {
	// Prefix goes in front of every topic to make its Redis channel name,
	// so that several hubs (several services, or several hubs of one) can
	// share a Redis server without hearing each other. Empty means
	// DefaultPrefix. Hubs that share rooms must use the same prefix.
	Prefix string

	// OutboxSize is how many messages may wait to be published. Publish
	// never waits: when the outbox is full the message is dropped and
	// counted. Zero or less means DefaultOutboxSize.
	OutboxSize int

	// MinBackoff and MaxBackoff bound the wait after a failure before the
	// broker tries Redis again. The wait doubles with each failure in a
	// row, with random jitter so that instances do not retry in step.
	// While publishing waits, messages for other instances are dropped,
	// not delayed. Zero means DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration

	// HealthCheck is how often the subscription connection is checked: a
	// connection that received nothing for a whole interval is sent a
	// PING, and one that still received nothing by the next check is
	// replaced. This finds a Redis that vanished without closing the
	// connection. Zero means DefaultHealthCheck.
	HealthCheck time.Duration

	// OnError, when not nil, is told about every failure to reach Redis
	// (for logging). It is called from the broker's goroutines and must
	// not block.
	OnError func(error)
}

func (o *Options) prefix() string {
	if o.Prefix == "" {
		return DefaultPrefix
	}
	return o.Prefix
}

func (o *Options) outboxSize() int {
	if o.OutboxSize <= 0 {
		return DefaultOutboxSize
	}
	return o.OutboxSize
}

func (o *Options) backoffBounds() (min, max time.Duration) {
	min, max = o.MinBackoff, o.MaxBackoff
	if min <= 0 {
		min = DefaultMinBackoff
	}
	if max <= 0 {
		max = DefaultMaxBackoff
	}
	if max < min {
		max = min
	}
	return min, max
}

func (o *Options) healthCheck() time.Duration {
	if o.HealthCheck <= 0 {
		return DefaultHealthCheck
	}
	return o.HealthCheck
}
