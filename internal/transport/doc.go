// Package transport holds the byte streams a WebSocket connection runs on
// and the glue that ties them to Hertz: the Conn interface the message
// layer reads frames from and writes frames to, the Socket that serves
// connections handed over from netpoll and every Dialer connection, the
// adapters for connections that stay on a Hertz transport, the netpoll
// handover, and the pooled buffers all of them share.
//
// Nothing here knows of frames or messages: the package moves bytes,
// applies deadlines and hands out buffers.
package transport
