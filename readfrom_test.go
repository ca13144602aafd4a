package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/hertzws/websocket"
	"github.com/hertzws/websocket/frame"
	"github.com/hertzws/websocket/internal/wstest"
)

// TestNextWriterReadFromFrames checks how io.Copy into a NextWriter frames
// a message it copies from the connection's own NextReader: one frame for
// a message of up to 1 MiB, then one frame per MiB, the last one final,
// and no empty final frame, even when the message is an exact multiple of
// 1 MiB.
func TestNextWriterReadFromFrames(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		var upgrader websocket.HertzUpgrader
		addr := wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
			h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
				_ = upgrader.Upgrade(ctx, wstest.Echo) // io.Copy from NextReader to NextWriter
			})
		})
		rc := wstest.DialRaw(t, addr)
		rc.Handshake("/ws")
		for _, size := range []int{0, 1, 16 << 10, 64<<10 + 1, 1 << 20, 1<<20 + 1, 3 << 20} {
			msg := wstest.RandomBytes(size, int64(size))
			rc.Write(wstest.Masked(true, frame.OpBinary, msg))
			wantFrames := (size + 1<<20 - 1) / (1 << 20)
			if wantFrames == 0 {
				wantFrames = 1
			}
			var got []byte
			frames := 0
			for {
				f := rc.ReadFrame()
				frames++
				wantOp := frame.OpContinuation
				if frames == 1 {
					wantOp = frame.OpBinary
				}
				if f.Header.Opcode != wantOp || f.Header.Masked {
					t.Fatalf("%d bytes: frame %d has opcode %v, masked %v", size, frames, f.Header.Opcode, f.Header.Masked)
				}
				got = append(got, f.Payload...)
				if f.Header.Fin {
					break
				}
				if frames > wantFrames {
					break
				}
			}
			if frames != wantFrames {
				t.Errorf("%d bytes: echoed in %d frames, want %d", size, frames, wantFrames)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes: echo differs (%d bytes back)", size, len(got))
			}
		}
	})
}

// TestNextWriterReadFrom checks io.Copy into a NextWriter from readers
// other than a message: compressed and uncompressed, after bytes written
// with Write, and that a reader's error or lack of progress is returned.
func TestNextWriterReadFrom(t *testing.T) {
	wstest.ForEachTransport(t, func(t *testing.T, tc wstest.Transport) {
		for _, compress := range []bool{false, true} {
			compress := compress
			t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
				prefix := []byte("written first|")
				body := wstest.RandomText(200<<10, 7)
				errRead := errors.New("the source failed")
				results := make(chan error, 3)
				u := &websocket.HertzUpgrader{EnableCompression: compress}
				url := "ws://" + wstest.StartServer(t, tc, wstest.EngineSettings{}, nil, func(h *server.Hertz) {
					h.GET("/ws", func(_ context.Context, ctx *app.RequestContext) {
						_ = u.Upgrade(ctx, func(c *websocket.Conn) {
							w, err := c.NextWriter(websocket.TextMessage)
							if err != nil {
								results <- err
								return
							}
							_, _ = w.Write(prefix)
							n, err := io.Copy(w, struct{ io.Reader }{bytes.NewReader(body)})
							if err == nil && n != int64(len(body)) {
								err = fmt.Errorf("io.Copy copied %d bytes, want %d", n, len(body))
							}
							if err == nil {
								err = w.Close()
							}
							results <- err

							w, _ = c.NextWriter(websocket.BinaryMessage)
							_, err = io.Copy(w, io.MultiReader(bytes.NewReader([]byte("partial")), failingReader{errRead}))
							results <- err
							_, err = w.(io.ReaderFrom).ReadFrom(emptyReader{})
							results <- err
							_ = w.Close()
							_, _, _ = c.ReadMessage()
						})
					})
				}) + "/ws"
				client, _ := wstest.Dial(t, &websocket.Dialer{EnableCompression: compress}, url, nil)
				mt, got, err := client.ReadMessage()
				if err != nil || mt != websocket.TextMessage {
					t.Fatalf("ReadMessage: type %d, %v", mt, err)
				}
				if want := append(append([]byte(nil), prefix...), body...); !bytes.Equal(got, want) {
					t.Fatalf("message differs: %d bytes, want %d", len(got), len(want))
				}
				if err := <-results; err != nil {
					t.Fatalf("copy from a plain reader: %v", err)
				}
				if err := <-results; !errors.Is(err, errRead) {
					t.Fatalf("copy from a failing reader returned %v, want %v", err, errRead)
				}
				if err := <-results; !errors.Is(err, io.ErrNoProgress) {
					t.Fatalf("ReadFrom a reader that returns nothing: %v, want io.ErrNoProgress", err)
				}
			})
		}
	})
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
