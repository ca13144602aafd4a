package websocket

import (
	"errors"
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
)

// The RequestContext given to Upgrade stays this request's own until the
// HertzHandler returns, on every transport, so a handler may read ctx (its
// query, parameters, headers, cookies, body and the values middleware set)
// as hertz-contrib/websocket's examples do.
//
// Where the handler runs inside Hertz's hijack callback (the standard
// transport), Hertz itself keeps the context until the handler returns and
// recycles it afterwards. After a netpoll handover the handler outlives
// Hertz's serving of the request: Hertz would put the context back into its
// pool at once and the next request would reuse it, so the handler would
// read another client's request. keepRequestContext exiles it instead
// (RequestContext.Exile, pkg/app/context.go: Hertz neither resets nor reuses
// an exiled context), and releaseRequestContext empties it once the handler
// has returned, as Hertz does with the contexts it recycles.

// keepRequestContext takes ctx out of Hertz's pool for a handler that runs
// after Hertz has finished with the request. What the handler can no longer
// use goes: the response's headers and body, and the transport connection, which is
// replaced by one that reports the same addresses (for ctx.RemoteAddr and
// ctx.ClientIP) and refuses I/O, so that netpoll's connection and its
// buffers are not kept alive by the context.
func keepRequestContext(ctx *app.RequestContext, raw network.Conn) {
	ctx.Exile()
	// The 101 has been rendered: keep its status, drop its headers and
	// buffers, which nothing reads any more.
	ctx.Response.ResetBody()
	ctx.Response = protocol.Response{}
	ctx.Response.SetStatusCode(consts.StatusSwitchingProtocols)
	ctx.SetConn(handedOverConn{local: raw.LocalAddr(), remote: raw.RemoteAddr()})
}

// releaseRequestContext empties a context kept by keepRequestContext once
// its handler has returned: a goroutine that still reads it sees an empty
// request, never another client's, since Hertz never reuses an exiled
// context. Pooled buffers go back to Hertz's pools.
func releaseRequestContext(ctx *app.RequestContext) {
	ctx.Reset()
}

// errHandedOver is returned by the I/O methods of the connection a kept
// RequestContext reports.
var errHandedOver = errors.New("websocket: the connection belongs to the WebSocket Conn; use the *Conn passed to the handler")

// handedOverConn stands in for the transport connection of a RequestContext
// whose connection now belongs to a WebSocket Conn. It answers the address
// methods and fails every I/O.
type handedOverConn struct{ local, remote net.Addr }

var _ network.Conn = handedOverConn{}

func (c handedOverConn) LocalAddr() net.Addr               { return c.local }
func (c handedOverConn) RemoteAddr() net.Addr              { return c.remote }
func (handedOverConn) Read([]byte) (int, error)            { return 0, errHandedOver }
func (handedOverConn) Write([]byte) (int, error)           { return 0, errHandedOver }
func (handedOverConn) Close() error                        { return errHandedOver }
func (handedOverConn) SetDeadline(time.Time) error         { return errHandedOver }
func (handedOverConn) SetReadDeadline(time.Time) error     { return errHandedOver }
func (handedOverConn) SetWriteDeadline(time.Time) error    { return errHandedOver }
func (handedOverConn) SetReadTimeout(time.Duration) error  { return errHandedOver }
func (handedOverConn) SetWriteTimeout(time.Duration) error { return errHandedOver }
func (handedOverConn) Peek(int) ([]byte, error)            { return nil, errHandedOver }
func (handedOverConn) Skip(int) error                      { return errHandedOver }
func (handedOverConn) Release() error                      { return nil }
func (handedOverConn) Len() int                            { return 0 }
func (handedOverConn) ReadByte() (byte, error)             { return 0, errHandedOver }
func (handedOverConn) ReadBinary(int) ([]byte, error)      { return nil, errHandedOver }
func (handedOverConn) Malloc(int) ([]byte, error)          { return nil, errHandedOver }
func (handedOverConn) WriteBinary([]byte) (int, error)     { return 0, errHandedOver }
func (handedOverConn) Flush() error                        { return errHandedOver }
