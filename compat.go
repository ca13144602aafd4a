package websocket

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
)

// This file holds package-level functions of gorilla/websocket's API that
// the methods of Conn have replaced, so that code written for it compiles
// unchanged.

// JoinMessages concatenates received messages to create a single io.Reader.
// The string term is appended to each message. The returned reader does not
// support concurrent calls to the Read method.
//
// Each message is read through NextReader when the one before has been read
// to its end and followed by term; an error from NextReader (a *CloseError
// when the peer closes) is returned by Read, and by every Read after it.
func JoinMessages(c *Conn, term string) io.Reader {
	return &joinReader{c: c, term: term}
}

// joinReader is the reader JoinMessages returns.
type joinReader struct {
	c    *Conn
	term string
	r    io.Reader // the message being read; nil between messages
	rest string    // what is left of term after the last message
}

// Read reads from the current message, then its term, then the next
// message. It waits for a message rather than return 0 and no error.
func (j *joinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if j.r != nil {
			n, err := j.r.Read(p)
			if err == io.EOF {
				j.r, j.rest, err = nil, j.term, nil
			}
			if n > 0 || err != nil || j.r != nil {
				return n, err
			}
		}
		if j.rest != "" {
			n := copy(p, j.rest)
			j.rest = j.rest[n:]
			return n, nil
		}
		_, r, err := j.c.NextReader()
		if err != nil {
			return 0, err
		}
		j.r = r
	}
}

// ReadJSON reads the next JSON-encoded message from the connection and
// stores it in the value pointed to by v.
//
// Deprecated: Use c.ReadJSON instead.
func ReadJSON(c *Conn, v interface{}) error {
	return c.ReadJSON(v)
}

// WriteJSON writes the JSON encoding of v as a message.
//
// Deprecated: Use c.WriteJSON instead.
func WriteJSON(c *Conn, v interface{}) error {
	return c.WriteJSON(v)
}

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
