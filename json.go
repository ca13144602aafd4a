package websocket

import (
	"io"

	"github.com/cloudwego/hertz/pkg/common/json"
)

// WriteJSON writes the JSON encoding of v as a text message. It uses Hertz's
// JSON package (sonic where available), so no second JSON library is linked.
func (c *Conn) WriteJSON(v interface{}) error {
	w, err := c.NextWriter(TextMessage)
	if err != nil {
		return err
	}
	err1 := json.NewEncoder(w).Encode(v)
	err2 := w.Close()
	if err1 != nil {
		return err1
	}
	return err2
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
