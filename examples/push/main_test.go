package main

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestSubscribersGetEveryTickInOrder connects 200 subscribers: every one
// gets the same ticks in order, and on netpoll the server holds far fewer
// goroutines than subscribers.
func TestSubscribersGetEveryTickInOrder(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tr wstest.Transport) {
		addr := wstest.StartServer(t, tr, wstest.EngineSettings{NoHijackConnPool: true}, nil, func(h *server.Hertz) {
			routes(h, 100*time.Millisecond)
		})
		before := runtime.NumGoroutine()
		const n = 200
		subs := make([]*websocket.Conn, n)
		for i := range subs {
			subs[i], _ = wstest.Dial(t, nil, "ws://"+addr+"/ws", nil)
		}
		// Everyone has joined once a tick reaches the last subscriber;
		// from the next tick on, all get the same ones.
		first := readTick(t, subs[n-1]).Seq
		if tr.Name == "netpoll" {
			// Between two ticks, once their writers have left.
			wstest.WaitFor(t, 5*time.Second, "the idle subscribers to hold no goroutine", func() bool {
				return runtime.NumGoroutine()-before < n/4
			})
		}
		for i, c := range subs {
			var last uint64
			for {
				tk := readTick(t, c)
				if last != 0 && tk.Seq != last+1 {
					t.Fatalf("subscriber %d: tick %d after %d", i, tk.Seq, last)
				}
				last = tk.Seq
				if last >= first+3 {
					break
				}
			}
		}
	})
}

func readTick(t *testing.T, c *websocket.Conn) tick {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wstest.Guard))
	_, p, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var tk tick
	if err := json.Unmarshal(p, &tk); err != nil {
		t.Fatalf("%q: %v", p, err)
	}
	return tk
}
