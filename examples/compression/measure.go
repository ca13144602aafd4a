package main

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket"
)

// direction is what one side sent: the messages' own bytes and the bytes
// they took on the wire, frame headers included.
type direction struct {
	Payload int64 `json:"payload"`
	Wire    int64 `json:"wire"`
}

// saved is the share of the payload that compression kept off the wire, in
// percent; negative when framing cost more than compression saved.
func (d direction) saved() float64 {
	if d.Payload == 0 {
		return 0
	}
	return 100 * float64(d.Payload-d.Wire) / float64(d.Payload)
}

// report is the last message the server sends on a connection.
type report struct {
	Type      string    `json:"type"` // "report"
	Mode      string    `json:"mode"`
	Extension string    `json:"extension"` // the Sec-WebSocket-Extensions the server answered
	Messages  int       `json:"messages"`
	Sent      direction `json:"sent"`     // server → client
	Received  direction `json:"received"` // client → server (the echoes)
	Error     string    `json:"error,omitempty"`
}

// rowFormat lays a report out as a row of the table the self-test prints;
// tableHeader is that table's first line.
const rowFormat = "%-20s %-80s %7d B → %7d B %6.1f%%   %7d B → %7d B %6.1f%%"

var tableHeader = fmt.Sprintf("%-20s %-80s %21s %7s   %21s %7s", "setting", "extension", "server → client", "saved", "client → server", "saved")

func (r *report) String() string {
	ext := r.Extension
	if ext == "" {
		ext = "-"
	}
	return fmt.Sprintf(rowFormat, r.Mode, ext, r.Sent.Payload, r.Sent.Wire, r.Sent.saved(), r.Received.Payload, r.Received.Wire, r.Received.saved())
}

// measure is the handler of /ws/<mode>: it sends the workload, reads every
// message back (the client echoes them), and reports the bytes that both
// directions took on the wire.
func measure(conn *websocket.Conn, ln *countingListener, m *mode, extension string) {
	r := report{Type: "report", Mode: m.Name, Extension: extension}
	cc := ln.lookup(conn.RemoteAddr())
	if cc == nil {
		r.Error = "connection not found by the counting listener"
		_ = conn.WriteJSON(r)
		return
	}
	// The handshake is behind us: count from here.
	start := cc.counts()
	msgs := workload()
	r.Messages = len(msgs)

	// Read the echoes while writing, so that neither side's buffers fill.
	echoed := make(chan error, 1)
	go func() { echoed <- readEchoes(conn, msgs, &r.Received) }()
	for _, msg := range msgs {
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			hlog.Warnf("compression: %s: write: %v", m.Name, err)
			return
		}
		r.Sent.Payload += int64(len(msg))
	}
	if err := <-echoed; err != nil {
		hlog.Warnf("compression: %s: %v", m.Name, err)
		r.Error = err.Error()
	}
	end := cc.counts()
	r.Sent.Wire = end.written - start.written
	r.Received.Wire = end.read - start.read

	hlog.Infof("compression: %s for %v: sent %d B of messages in %d B (%.1f%% saved), got the echoes in %d B (%.1f%% saved)",
		m.Name, conn.RemoteAddr(), r.Sent.Payload, r.Sent.Wire, r.Sent.saved(), r.Received.Wire, r.Received.saved())
	if err := conn.WriteJSON(r); err != nil {
		return
	}
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done")
	if err := conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second)); err != nil {
		return
	}
	// Read until the client's close arrives (bounded by the library's
	// close handshake timeout).
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return
		}
	}
}

// readEchoes reads one message per message sent and checks it came back
// intact.
func readEchoes(conn *websocket.Conn, sent [][]byte, got *direction) error {
	for i, want := range sent {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("echo %d: %w", i, err)
		}
		got.Payload += int64(len(msg))
		if !bytes.Equal(msg, want) {
			return errors.New("an echo differs from the message sent")
		}
	}
	return nil
}
