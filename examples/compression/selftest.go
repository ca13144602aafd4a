package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hertzws/websocket"
)

// dialer is the client side of the self-test: it offers permessage-deflate
// with the defaults (context takeover, client_max_window_bits), as browsers
// do.
var dialer = websocket.Dialer{HandshakeTimeout: 5 * time.Second, EnableCompression: true}

// dialAndEcho plays the client for one mode: it echoes every message until
// the server's report arrives, and returns the report.
func dialAndEcho(url string) (*report, error) {
	conn, _, err := dialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		var head struct{ Type string }
		if err := json.Unmarshal(msg, &head); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		if head.Type != "report" {
			if err := conn.WriteMessage(mt, msg); err != nil {
				return nil, err
			}
			continue
		}
		r := new(report)
		if err := json.Unmarshal(msg, r); err != nil {
			return nil, err
		}
		if r.Error != "" {
			return nil, fmt.Errorf("server: %s", r.Error)
		}
		// Answer the server's close, as a polite client does.
		bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
		return r, nil
	}
}
