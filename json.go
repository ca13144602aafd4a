package websocket

import (
	"bytes"
	stdjson "encoding/json"
	"io"

	"github.com/cloudwego/hertz/pkg/common/json"
)

// WriteJSON writes the JSON encoding of v as a text message. It uses Hertz's
// JSON package (sonic where available), so no second JSON library is linked.
//
// The message ends with a newline, as json.Encoder writes it. It goes out in
// one frame, and is compressed by the rules of WriteMessage. When v cannot
// be encoded nothing is sent, and the error is encoding/json's (a
// *json.MarshalerError or *json.UnsupportedTypeError, say), as with
// gorilla/websocket.
func (c *Conn) WriteJSON(v interface{}) error {
	b, err := json.Marshal(v)
	if err != nil && json.Name != "encoding/json" {
		// sonic's errors are not all of encoding/json's types (a failing
		// MarshalJSON comes back unwrapped): let encoding/json say what
		// is wrong, or encode v if sonic alone could not.
		b, err = stdjson.Marshal(v)
	}
	if err != nil {
		return err
	}
	return c.WriteMessage(TextMessage, append(b, '\n'))
}

// ReadJSON reads the next JSON-encoded message from the connection and
// stores it in the value pointed to by v.
//
// The result is encoding/json's Decoder's, as with gorilla/websocket: the
// first JSON value of the message is decoded and anything after it is
// ignored; malformed JSON yields a *json.SyntaxError whose Offset is the
// byte where it went wrong, and leaves v alone; a message that ends inside
// the value, or holds none (empty, or white space only), yields
// io.ErrUnexpectedEOF. Where Hertz's JSON package is sonic, sonic decodes
// every message that is one valid JSON value, and encoding/json the rest.
func (c *Conn) ReadJSON(v interface{}) error {
	_, r, err := c.NextReader()
	if err != nil {
		return err
	}
	p, err := r.(*messageReader).readInto(nil)
	if err != nil {
		return err
	}
	return decodeJSON(p, v)
}

// decodeJSON decodes the first JSON value in p into v as encoding/json's
// Decoder does. sonic's stream decoder reports some malformed input
// (a message "x", say) as io.EOF, which read as a truncated message, and
// its syntax errors are not *json.SyntaxError; so sonic only decodes input
// that encoding/json's Valid accepts (one value, nothing after it), and
// encoding/json decides everything else, including type errors.
func decodeJSON(p []byte, v interface{}) error {
	if json.Name != "encoding/json" && stdjson.Valid(p) {
		if err := json.Unmarshal(p, v); err == nil {
			return nil
		}
	}
	err := stdjson.NewDecoder(bytes.NewReader(p)).Decode(v)
	if err == io.EOF {
		// One value is expected in the message.
		err = io.ErrUnexpectedEOF
	}
	return err
}
