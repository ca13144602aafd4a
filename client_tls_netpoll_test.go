//go:build !windows

package websocket_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network/netpoll"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestClientDialerTLSNetpollHasNoTLS is apart from TestClientDialerTLS
// because Hertz's netpoll transport does not exist on Windows.
func TestClientDialerTLSNetpollHasNoTLS(t *testing.T) {
	cert, pool := wstest.SelfSigned(t)
	// Documents the Hertz behaviour ctTLSServer works around: with
	// netpoll chosen explicitly the TLS config is ignored and the
	// server speaks plain HTTP, so a wss dial fails.
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	addr := wstest.Serve(t, "127.0.0.1:0", []config.Option{server.WithTLS(cfg), server.WithTransport(netpoll.NewTransporter)}, func(h *server.Hertz) {
		h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
			_ = (&websocket.HertzUpgrader{}).Upgrade(ctx, wstest.Echo)
		})
	})
	d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}, HandshakeTimeout: 5 * time.Second}
	if c, _, err := d.Dial("wss://"+addr+"/ws", nil); err == nil {
		c.Close()
		t.Fatal("wss dial to a netpoll server succeeded")
	} else {
		t.Logf("wss to netpoll: %v", err)
	}
	c, _ := wstest.Dial(t, &websocket.Dialer{}, "ws://"+addr+"/ws", nil)
	wstest.CheckEcho(t, c, websocket.TextMessage, []byte("plain"))
}
