package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/hertzws/websocket"
)

// maxFileSize is the most of the file the page is shown; a larger file is
// cut, and the page says so.
const maxFileSize = 1 << 20

// update is what the page receives, as one JSON text message, when the
// connection opens and each time the file changes.
type update struct {
	Path      string    `json:"path"`
	Exists    bool      `json:"exists"`
	Content   string    `json:"content"`
	Size      int64     `json:"size"`
	Truncated bool      `json:"truncated,omitempty"`
	ModTime   time.Time `json:"modTime,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// version identifies one state of the file: a change of size or of
// modification time means new contents.
type version struct {
	exists  bool
	size    int64
	modTime int64 // nanoseconds since the epoch
}

type watcher struct {
	path  string
	every time.Duration
}

// serve is the HertzHandler of one page.
func (w *watcher) serve(conn *websocket.Conn) {
	done := make(chan struct{})
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		w.push(conn, done)
	}()
	// Read (and drop) whatever the page sends: reading is what processes
	// pings and the close handshake, and it ends when the page goes.
	for {
		if _, _, err := conn.NextReader(); err != nil {
			break
		}
	}
	close(done)
	<-pushed
}

// push sends the file now, then again whenever it changes, until done is
// closed or a write fails.
func (w *watcher) push(conn *websocket.Conn, done <-chan struct{}) {
	ticker := time.NewTicker(w.every)
	defer ticker.Stop()
	last, msg := w.read()
	for {
		if msg != nil {
			if err := conn.WriteJSON(msg); err != nil {
				return
			}
		}
		select {
		case <-done:
			return
		case <-ticker.C:
		}
		msg = nil
		if v := w.stat(); v != last {
			last, msg = w.read()
		}
	}
}

// stat returns the file's current version.
func (w *watcher) stat() version {
	fi, err := os.Stat(w.path)
	if err != nil {
		return version{}
	}
	return version{exists: true, size: fi.Size(), modTime: fi.ModTime().UnixNano()}
}

// read returns the file's version and the message that shows it.
func (w *watcher) read() (version, *update) {
	u := &update{Path: w.path}
	f, err := os.Open(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return version{}, u
	}
	if err != nil {
		u.Error = err.Error()
		return version{}, u
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		u.Error = err.Error()
		return version{}, u
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize))
	if err != nil {
		u.Error = err.Error()
	}
	u.Exists = true
	u.Size = fi.Size()
	u.ModTime = fi.ModTime().UTC()
	u.Truncated = fi.Size() > maxFileSize
	// A text message must be valid UTF-8 (RFC 6455 §5.6).
	u.Content = strings.ToValidUTF8(string(data), "\uFFFD")
	return version{exists: true, size: fi.Size(), modTime: fi.ModTime().UnixNano()}, u
}
