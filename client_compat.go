package websocket

import (
	"context"
	"net"
	"net/http"
	"net/url"
)

// NewClient creates a new client connection over netConn, a connection the
// caller has dialled already (TLS included, for a wss URL: no TLS
// handshake is made here). u is the URL of the WebSocket endpoint;
// requestHeader and the returned response are as in Dialer.DialContext.
// If the WebSocket handshake fails, ErrBadHandshake is returned along with
// a non-nil *http.Response so that callers can handle redirects,
// authentication, and so on; netConn is then closed.
//
// Deprecated: Use Dialer instead.
func NewClient(netConn net.Conn, u *url.URL, requestHeader http.Header, readBufSize, writeBufSize int) (c *Conn, response *http.Response, err error) {
	dialled := func(context.Context, string, string) (net.Conn, error) { return netConn, nil }
	d := Dialer{
		ReadBufferSize:    readBufSize,
		WriteBufferSize:   writeBufSize,
		NetDialContext:    dialled,
		NetDialTLSContext: dialled,
	}
	return d.Dial(u.String(), requestHeader)
}
