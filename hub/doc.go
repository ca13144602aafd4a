// Package hub fans WebSocket messages out to many connections: rooms,
// broadcast to a room or to everyone, and messages to one connection, with
// a bounded send queue per connection and a policy for connections that
// read too slowly. With a Broker (package
// github.com/hertzws/websocket/hub/redishub provides one on Redis pub/sub)
// rooms span every instance of a service.
//
// # Use
//
// A Hertz handler registers its connection and runs the client's read
// loop; the hub writes to the connection from a goroutine of its own:
//
//	var h = hub.New(hub.Options{}) // one per process
//
//	func chat(_ context.Context, ctx *app.RequestContext) {
//		user := ctx.Query("user") // copy request data before Upgrade
//		_ = upgrader.Upgrade(ctx, func(conn *websocket.Conn) {
//			c, err := h.Register(conn, user, nil)
//			if err != nil {
//				return // ErrDuplicateID or ErrHubClosed
//			}
//			_ = c.Join("lobby")
//			err = c.Run(func(c *hub.Client, mt int, msg []byte) error {
//				return h.Broadcast("lobby", mt, msg)
//			})
//			// err says why the client ended: a *websocket.CloseError,
//			// hub.ErrSlowConsumer, ...
//		})
//	}
//
// Run returns when the connection ends and removes the client from the hub
// and from its rooms. Code with its own read loop calls Client.Close when
// the loop ends instead.
//
// # Delivery and back-pressure
//
// Broadcast, BroadcastAll and Send never wait for a connection. Each
// message is wrapped once in a websocket.PreparedMessage, so it is framed
// (and compressed, for connections that negotiated permessage-deflate)
// once per way of sending it, not once per connection, and then queued for
// each recipient. A client's writer goroutine takes messages from its
// queue in order and writes them, bounded by Options.WriteTimeout; it runs
// only while the queue holds messages, so an idle client costs no
// goroutine. With HertzUpgrader.UpgradeEvents, Hub.EventHandler registers
// connections and feeds them their messages without Client.Run. A
// connection whose peer stops reading fills its own queue only; when the
// queue (Options.QueueSize) is full, Options.Policy applies:
//
//   - CloseTryAgainLater (the default) and ClosePolicyViolation throw the
//     queue away and close the connection with code 1013 or 1008; if the
//     close frame cannot be written within Options.CloseTimeout, the
//     connection is dropped without it.
//   - DropNewest drops the message that did not fit; DropOldest drops the
//     oldest queued one.
//
// Hub.Stats and Client.Stats count what was delivered and what was dropped
// under each policy.
//
// # Several instances
//
// With Options.Broker set, every message also goes to the broker, tagged
// with the hub's InstanceID. Each instance subscribes to the rooms that
// have members on it, to the IDs of its clients and to a topic for
// BroadcastAll. A hub delivers its own messages to its own clients at once
// and ignores them when the broker hands them back, so every connection
// gets every message once. When the broker's backend is unreachable, local
// delivery goes on unchanged; messages for other instances are lost until
// it is back.
package hub
