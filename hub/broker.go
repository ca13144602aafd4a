package hub

import "strings"

// Broker carries messages between the hubs of several instances: a
// publish/subscribe service (package redishub implements it on Redis).
// The hub decides what to subscribe to and what the messages mean; the
// broker moves opaque payloads on named topics.
//
// A hub delivers its own messages to its own clients directly and sends
// them through the broker only for the others. Every payload names the
// instance that published it, and a hub ignores its own when the broker
// hands them back, so each connection gets each message exactly once
// although every instance subscribes.
//
// The hub calls Subscribe, Unsubscribe and Publish while holding its locks
// and from broadcasting goroutines: they must not block on the network.
// A broker that cannot reach its backend drops publications (and says so
// in its own counters) rather than make the hub wait; local delivery goes
// on regardless.
type Broker interface {
	// Start begins delivering: deliver must be called, from one goroutine
	// at a time, with the topic and payload of every message published on
	// a subscribed topic, including this hub's own. The hub calls Start
	// once, in New, after its first Subscribe.
	Start(deliver func(topic string, payload []byte))

	// Subscribe and Unsubscribe add and remove a topic from the set this
	// instance receives. The latest call for a topic wins.
	Subscribe(topic string)
	Unsubscribe(topic string)

	// Publish sends payload to every instance subscribed to topic. The
	// broker may keep payload; the hub does not touch it again.
	Publish(topic string, payload []byte)

	// Close stops the broker. After it returns, deliver is not called
	// again.
	Close() error
}

// Topics. A room's topic carries its broadcasts, a client's topic the
// messages sent to its ID, and topicAll BroadcastAll.
const (
	topicAll     = "all"
	roomPrefix   = "room:"
	clientPrefix = "client:"
)

func roomTopic(name string) string { return roomPrefix + name }
func clientTopic(id string) string { return clientPrefix + id }

// The envelope of a message between instances: a version byte, the
// message type, the length of the publishing instance's ID, that ID, then
// the payload.
const (
	envelopeVersion = 1
	envelopeHeader  = 3
	maxInstanceID   = 255
)

func (h *Hub) encodeEnvelope(messageType int, data []byte) []byte {
	b := make([]byte, 0, envelopeHeader+len(h.instanceID)+len(data))
	b = append(b, envelopeVersion, byte(messageType), byte(len(h.instanceID)))
	b = append(b, h.instanceID...)
	return append(b, data...)
}

func decodeEnvelope(b []byte) (origin string, messageType int, data []byte, ok bool) {
	if len(b) < envelopeHeader || b[0] != envelopeVersion {
		return "", 0, nil, false
	}
	n := int(b[2])
	if len(b) < envelopeHeader+n {
		return "", 0, nil, false
	}
	return string(b[envelopeHeader : envelopeHeader+n]), int(b[1]), b[envelopeHeader+n:], true
}

// publish hands a message to the broker for the other instances.
func (h *Hub) publish(topic string, messageType int, data []byte) {
	if h.broker == nil {
		return
	}
	h.broker.Publish(topic, h.encodeEnvelope(messageType, data))
	h.stats.published.Add(1)
}

// deliverRemote is the broker's deliver function: it delivers a message
// from another instance to the local clients its topic names.
func (h *Hub) deliverRemote(topic string, payload []byte) {
	origin, messageType, data, ok := decodeEnvelope(payload)
	if !ok {
		h.stats.malformed.Add(1)
		return
	}
	if origin == h.instanceID {
		return // delivered locally when it was published
	}
	pm, err := h.prepare(messageType, data)
	if err != nil {
		h.stats.malformed.Add(1)
		return
	}
	h.stats.received.Add(1)
	switch {
	case topic == topicAll:
		h.deliverAll(pm)
	case strings.HasPrefix(topic, roomPrefix):
		h.deliverRoom(topic[len(roomPrefix):], pm)
	case strings.HasPrefix(topic, clientPrefix):
		h.deliverClient(topic[len(clientPrefix):], pm)
	default:
		h.stats.malformed.Add(1)
	}
}
