package main

import (
	"io"
	"os/exec"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"github.com/hertzws/websocket"
)

// message is what the page receives, as JSON text messages.
type message struct {
	Type    string   `json:"type"` // "start", "stdout", "stderr" or "exit"
	Data    string   `json:"data,omitempty"`
	Command []string `json:"command,omitempty"`
	PID     int      `json:"pid,omitempty"`
}

// run serves one WebSocket: it starts argv, copies the program's output to
// the connection and the connection's text messages to the program's
// stdin, and makes sure the program is gone before it returns.
func run(conn *websocket.Conn, argv []string, grace time.Duration) {
	cmd := exec.Command(argv[0], argv[1:]...)
	ownProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		failStart(conn, err)
		return
	}
	// exec copies each pipe to its writer on a goroutine of its own, so two
	// goroutines write to conn at once, and a third (below) announces the
	// exit: the library allows concurrent writers.
	stdout := &stream{conn: conn, name: "stdout"}
	stderr := &stream{conn: conn, name: "stderr"}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		failStart(conn, err)
		return
	}
	pid := cmd.Process.Pid
	hlog.Infof("command: pid %d started for %v", pid, conn.RemoteAddr())
	_ = conn.WriteJSON(message{Type: "start", Command: argv, PID: pid})

	exited := make(chan struct{})
	go func() {
		defer close(exited)
		// Wait returns once the program has exited and exec has copied
		// all its output.
		err := cmd.Wait()
		stdout.flush()
		stderr.flush()
		status := "exit status 0"
		if err != nil {
			status = err.Error()
		}
		hlog.Infof("command: pid %d exited: %s", pid, status)
		_ = conn.WriteJSON(message{Type: "exit", Data: status})
		// Start the close handshake; the page's answer ends readInput.
		bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "program exited")
		_ = conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
	}()

	readInput(conn, stdin)
	// The socket is closed (or closing): the program gets EOF on stdin,
	// which is all a well-behaved program needs to exit.
	_ = stdin.Close()
	stop(cmd, pid, exited, grace)
}

// readInput writes every text message to stdin, as a line, until the
// connection ends. It is the connection's only reader, so it is also what
// answers pings and the close handshake.
func readInput(conn *websocket.Conn, stdin io.Writer) {
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				hlog.Warnf("command: read: %v", err)
			}
			return
		}
		if mt != websocket.TextMessage {
			continue
		}
		if _, err := stdin.Write(append(msg, '\n')); err != nil {
			// The program closed its stdin or exited; keep reading so the
			// close handshake the exit started can finish.
			continue
		}
	}
}

// stop waits for the program to exit, a bounded time: one grace period
// after stdin closed, then SIGTERM, then SIGKILL, each to the whole process
// group.
func stop(cmd *exec.Cmd, pid int, exited <-chan struct{}, grace time.Duration) {
	steps := []struct {
		name   string
		signal func(*exec.Cmd) error
	}{
		{"SIGTERM", terminate},
		{"SIGKILL", kill},
	}
	for _, step := range steps {
		select {
		case <-exited:
			return
		case <-time.After(grace):
		}
		hlog.Infof("command: pid %d still running after %v: sending %s", pid, grace, step.name)
		if err := step.signal(cmd); err != nil {
			hlog.Warnf("command: pid %d: %s: %v", pid, step.name, err)
		}
	}
	select {
	case <-exited:
	case <-time.After(grace):
		hlog.Errorf("command: pid %d did not exit after SIGKILL", pid)
	}
}

// failStart tells the page the program could not start and closes with
// 1011 (Internal Error).
func failStart(conn *websocket.Conn, err error) {
	hlog.Errorf("command: start: %v", err)
	_ = conn.WriteJSON(message{Type: "stderr", Data: err.Error() + "\n"})
	msg := websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "cannot start the program")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// stream sends what the program writes to one of its outputs as messages.
// A text message must be valid UTF-8 (RFC 6455 §5.6), and a read from a
// pipe may end in the middle of a character, so an incomplete character at
// the end of a write waits for the next one.
type stream struct {
	conn    *websocket.Conn
	name    string
	pending []byte
}

// Write implements io.Writer; exec calls it from one goroutine per stream.
func (s *stream) Write(p []byte) (int, error) {
	buf := append(s.pending, p...)
	cut := completeUTF8(buf)
	s.pending = append([]byte(nil), buf[cut:]...)
	if cut == 0 {
		return len(p), nil
	}
	if err := s.conn.WriteJSON(message{Type: s.name, Data: string(buf[:cut])}); err != nil {
		// The page is gone: report the error, so that exec stops copying
		// and the program's next write fails too.
		return 0, err
	}
	return len(p), nil
}

// flush sends what is left after the program's last write, with any
// incomplete character replaced.
func (s *stream) flush() {
	if len(s.pending) == 0 {
		return
	}
	_ = s.conn.WriteJSON(message{Type: s.name, Data: string(s.pending)})
	s.pending = nil
}

// completeUTF8 returns the length of the longest prefix of b that does not
// end inside a multi-byte character that more bytes could still complete.
func completeUTF8(b []byte) int {
	// A character is at most utf8.UTFMax bytes: look that far back for
	// the start of the last one.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if utf8.FullRune(b[i:]) {
			return len(b)
		}
		return i
	}
	return len(b)
}
