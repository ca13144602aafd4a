package websocket

import (
	"io"

	"github.com/cloudwego/hertz/pkg/common/json"
)

// WriteJSON writes the JSON encoding of v as a text message. It uses Hertz's
// JSON package (sonic where available), so no second JSON library is linked.
//
// The message ends with a newline, as json.Encoder writes it. It goes out in
// one frame, and is compressed by the rules of WriteMessage.
func (c *Conn) WriteJSON(v interface{}) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.WriteMessage(TextMessage, append(b, '\n'))
}

// ReadJSON reads the next JSON-encoded message from the connection and
// stores it in the value pointed to by v. A message that ends before the
// JSON value does yields io.ErrUnexpectedEOF.
func (c *Conn) ReadJSON(v interface{}) error {
	_, r, err := c.NextReader()
	if err != nil {
		return err
	}
	err = json.NewDecoder(r).Decode(v)
	if err == io.EOF {
		// One value is expected in the message.
		err = io.ErrUnexpectedEOF
	}
	return err
}
