package main

import (
	"fmt"

	"github.com/hertzws/websocket"
)

// mode is one permessage-deflate configuration the example compares.
type mode struct {
	Name     string `json:"name"`
	Settings string `json:"settings"` // the HertzUpgrader fields set, one a line
	About    string `json:"about"`

	upgrader *websocket.HertzUpgrader
}

// modes are served at /ws/<name>, in this order.
var modes = []*mode{
	{
		Name:     "off",
		Settings: "EnableCompression: false",
		About:    "No compression: every byte of every message goes on the wire.",
		upgrader: &websocket.HertzUpgrader{},
	},
	{
		Name:     "default",
		Settings: "EnableCompression: true",
		About:    "Context takeover both ways, 32 KiB windows, level 1, messages under 128 B sent as is.",
		upgrader: &websocket.HertzUpgrader{EnableCompression: true},
	},
	{
		Name:     "no-context-takeover",
		Settings: "EnableCompression: true\nCompression:\n  ServerNoContextTakeover: true\n  ClientNoContextTakeover: true",
		About:    "Each message is compressed on its own: no memory kept between messages, less saved.",
		upgrader: &websocket.HertzUpgrader{EnableCompression: true, Compression: websocket.CompressionOptions{
			ServerNoContextTakeover: true,
			ClientNoContextTakeover: true,
		}},
	},
	{
		Name:     "small-windows",
		Settings: "EnableCompression: true\nCompression:\n  ServerMaxWindowBits: 9\n  ClientMaxWindowBits: 9",
		About:    "Both sides look back at most 512 bytes: less history kept per connection.",
		upgrader: &websocket.HertzUpgrader{EnableCompression: true, Compression: websocket.CompressionOptions{
			ServerMaxWindowBits: 9,
			ClientMaxWindowBits: 9,
		}},
	},
	{
		Name:     "threshold-1k",
		Settings: "EnableCompression: true\nCompression:\n  Threshold: 1024",
		About:    "The server sends messages under 1 KiB uncompressed (the browser still compresses its own).",
		upgrader: &websocket.HertzUpgrader{EnableCompression: true, Compression: websocket.CompressionOptions{
			Threshold: 1024,
		}},
	},
}

func modeByName(name string) *mode {
	for _, m := range modes {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// workload is what the server sends on every connection, the same each
// time so that the modes can be compared: a market-data feed of small
// ticks (about 170 bytes) with a larger order-book snapshot (about 2.5 KiB)
// every 20 messages. Such streams of similar JSON are where context
// takeover pays off.
func workload() [][]byte {
	const count = 200
	msgs := make([][]byte, 0, count)
	seed := uint32(2024)
	next := func(n uint32) uint32 { // a small deterministic generator
		seed = seed*1664525 + 1013904223
		return (seed >> 8) % n
	}
	for i := 0; i < count; i++ {
		price := 100 + float64(next(400))/100
		if i%20 == 19 {
			msgs = append(msgs, snapshot(i, price, next))
			continue
		}
		msgs = append(msgs, []byte(fmt.Sprintf(
			`{"type":"tick","seq":%d,"symbol":"HZWS","bid":%.2f,"ask":%.2f,"volume":%d,"venue":"loopback-exchange","time":"2025-01-01T09:30:%02d.%03dZ","status":"trading"}`,
			i, price, price+0.02, 100+next(5000), i/10%60, next(1000))))
	}
	return msgs
}

// snapshot renders an order book of 40 levels around price.
func snapshot(seq int, price float64, next func(uint32) uint32) []byte {
	b := []byte(fmt.Sprintf(`{"type":"snapshot","seq":%d,"symbol":"HZWS","levels":[`, seq))
	for level := 0; level < 40; level++ {
		if level > 0 {
			b = append(b, ',')
		}
		b = append(b, fmt.Sprintf(`{"side":"%s","price":%.2f,"size":%d,"orders":%d}`,
			map[bool]string{true: "bid", false: "ask"}[level%2 == 0],
			price+float64(level/2)*0.01*float64(1-2*(level%2)), 100+next(900), 1+next(9))...)
	}
	return append(b, "]}"...)
}
