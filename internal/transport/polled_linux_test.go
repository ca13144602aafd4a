//go:build linux

package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// notifier passes the poller's events to a PolledSocket, as the root
// package's eventConn does.
type notifier struct{ s *PolledSocket }

func (n notifier) Wake(ev Events) { n.s.Notify(ev) }

// polledPair returns a PolledSocket on the server end of a TCP connection
// on 127.0.0.1, watched by the shared poller, and the client end.
func polledPair(t *testing.T, pending []byte) (*PolledSocket, net.Conn) {
	t.Helper()
	client, server := tcpPair(t)
	f, err := server.(*net.TCPConn).File() // a blocking duplicate
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	server.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	s := NewPolledSocket(fd, client.RemoteAddr(), client.LocalAddr(), pending, 4096, 4096)
	p, err := SharedPoller()
	if err != nil {
		t.Fatal(err)
	}
	w := notifier{s}
	if err := p.Watch(fd, w); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Forget(fd, w)
		_ = s.Close()
		s.Destroy()
	})
	return s, client
}

func TestPolledSocketReads(t *testing.T) {
	s, client := polledPair(t, []byte("pend"))
	if n, err := s.ReadAvailable(); n != 0 || err != nil {
		t.Fatalf("ReadAvailable with only pending bytes = %d, %v", n, err)
	}
	if b, err := s.Peek(4); err != nil || string(b) != "pend" {
		t.Fatalf("Peek = %q, %v; want the pending bytes", b, err)
	}
	_ = s.Skip(4)
	_ = s.Release()
	if n, err := s.ReadAvailable(); n != 0 || err != nil || s.in != nil {
		t.Fatalf("ReadAvailable on an empty socket = %d, %v (buffer kept: %v)", n, err, s.in != nil)
	}
	// A read waits for the poller's edge.
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = client.Write([]byte("hello"))
	}()
	b, err := s.Peek(5)
	if err != nil || string(b) != "hello" {
		t.Fatalf("Peek = %q, %v", b, err)
	}
	_ = s.Skip(5)
	// A large read goes straight into the caller's buffer.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14)
	go func() { _, _ = client.Write(big) }()
	got := make([]byte, len(big))
	for off := 0; off < len(got); {
		if !s.ReadsDirect(len(got) - off) {
			t.Fatal("a large read with nothing buffered does not go direct")
		}
		n, err := s.ReadDirect(got[off:], true)
		if err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if !bytes.Equal(got, big) {
		t.Fatal("the large payload came out different")
	}
	// The end of the stream is sticky.
	client.Close()
	if _, err := s.Peek(1); err != io.EOF {
		t.Fatalf("Peek after the peer closed: %v, want io.EOF", err)
	}
	if n, err := s.ReadAvailable(); n != 0 || err != io.EOF {
		t.Fatalf("ReadAvailable after the end: %d, %v", n, err)
	}
}

func TestPolledSocketDeadlines(t *testing.T) {
	s, _ := polledPair(t, nil)
	_ = s.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := s.Peek(1)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v, want a timeout", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("read timeout %v is not a read *net.OpError", err)
	}
	// A deadline set from another goroutine wakes a waiting read.
	_ = s.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = s.SetReadDeadline(time.Now())
	}()
	if _, err := s.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after a deadline set meanwhile: %v", err)
	}
	// A peer that does not read: the write fills the socket, then waits
	// until its deadline.
	_ = s.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	chunk := make([]byte, 1<<20)
	for i := 0; ; i++ {
		if i == 64 {
			t.Fatal("64 MiB went into a socket nobody reads")
		}
		_, _ = s.WriteBinary(chunk)
		if err := s.Flush(); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("blocked write: %v, want a timeout", err)
			}
			break
		}
	}
}

func TestPolledSocketWrites(t *testing.T) {
	s, client := polledPair(t, nil)
	head, _ := s.Malloc(3)
	copy(head, "abc")
	_, _ = s.WriteBinary([]byte("de"))
	big := bytes.Repeat([]byte("xyz"), 4000) // referenced, sent with writev
	_, _ = s.WriteBinary(big)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// More small writes than the pooled buffer holds.
	small := bytes.Repeat([]byte("s"), 1000)
	for i := 0; i < 10; i++ {
		_, _ = s.WriteBinary(small)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte("abcde"), big...), bytes.Repeat(small, 10)...)
	got := make([]byte, len(want))
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the peer read something else")
	}
	if s.queue.out != nil {
		t.Fatal("the output buffer is kept after Flush")
	}
}

// TestPolledSocketWritesManyBuffers: output queued in many pooled buffers
// leaves in order through a socket that fills up, so that writev returns
// short counts that end inside a buffer and the write waits for room.
func TestPolledSocketWritesManyBuffers(t *testing.T) {
	s, client := polledPair(t, nil)
	// Small socket buffers, so that each writev takes part of the output.
	if err := syscall.SetsockoptInt(int(s.fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := 0; i < 1000; i++ {
		p := bytes.Repeat([]byte{byte(i)}, 1000+i%7)
		_, _ = s.WriteBinary(p)
		want = append(want, p...)
	}
	if len(s.queue.full) < 100 {
		t.Fatalf("%d buffers queued, want the output spread over many", len(s.queue.full))
	}
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(want))
		_ = client.SetReadDeadline(time.Now().Add(20 * time.Second))
		time.Sleep(50 * time.Millisecond) // let the socket fill first
		if _, err := io.ReadFull(client, b); err != nil {
			b = nil
		}
		got <- b
	}()
	_ = s.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatal("the peer read something else")
	}
	if s.queue.out != nil || len(s.queue.full) != 0 {
		t.Fatal("buffers kept after Flush")
	}
}

func TestPolledSocketCloseWakesAndDestroyCloses(t *testing.T) {
	s, client := polledPair(t, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Peek(1)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read woken by Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake the waiting read")
	}
	// The peer sees the end of the stream although the descriptor is open.
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("peer read after Close: %v, want io.EOF", err)
	}
	s.Destroy()
	if s.fd != -1 {
		t.Fatal("Destroy did not mark the socket destroyed")
	}
}
