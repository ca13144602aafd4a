package redishub

import (
	"context"
	"fmt"
	"time"
)

// publishBatch bounds the PUBLISH commands sent in one pipeline: a burst of
// broadcasts costs one round trip per batch, not one per message.
const publishBatch = 256

// closeFlushTimeout bounds the last attempt to publish the outbox in Close.
const closeFlushTimeout = time.Second

// publishLoop takes messages from the outbox and publishes them in
// pipelined batches. After a failure it drops what arrives during the
// back-off instead of keeping it: a message late by seconds is worth less
// than a hub that keeps its memory bounded, and the local clients already
// have it. The back-off ends early when the subscription connection comes
// up again, the sign that Redis is back.
func (b *Broker) publishLoop() {
	defer b.wg.Done()
	min, max := b.opts.backoffBounds()
	wait := newBackoff(min, max)
	var pausedUntil time.Time
	var pausedSessions uint64
	batch := make([]outgoing, 0, publishBatch)
	for {
		select {
		case m := <-b.outbox:
			batch = b.fill(append(batch[:0], m))
		case <-b.stopping:
			b.flushOnClose(batch[:0])
			return
		}
		if time.Now().Before(pausedUntil) && b.sessions.Load() == pausedSessions {
			b.publishDropped.Add(uint64(len(batch)))
			continue
		}
		if err := b.publish(b.ctx, batch); err != nil {
			b.publishFailed.Add(uint64(len(batch)))
			b.report(err)
			pausedUntil = time.Now().Add(wait.next())
			pausedSessions = b.sessions.Load()
			continue
		}
		b.published.Add(uint64(len(batch)))
		wait.reset()
	}
}

// fill adds to batch what the outbox holds, up to publishBatch, without
// waiting.
func (b *Broker) fill(batch []outgoing) []outgoing {
	for len(batch) < publishBatch {
		select {
		case m := <-b.outbox:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// publish sends a batch in one pipeline.
func (b *Broker) publish(ctx context.Context, batch []outgoing) error {
	pipe := b.rdb.Pipeline()
	for _, m := range batch {
		pipe.Publish(ctx, m.channel, m.payload)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redishub: publish: %w", err)
	}
	return nil
}

// flushOnClose makes one bounded attempt to publish what the outbox holds
// when the broker closes.
func (b *Broker) flushOnClose(batch []outgoing) {
	ctx, cancel := context.WithTimeout(b.ctx, closeFlushTimeout)
	defer cancel()
	for {
		batch = b.fill(batch[:0])
		if len(batch) == 0 {
			return
		}
		if err := b.publish(ctx, batch); err != nil {
			b.publishFailed.Add(uint64(len(batch)))
			b.publishDropped.Add(uint64(len(b.outbox)))
			return
		}
		b.published.Add(uint64(len(batch)))
	}
}
