package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a TCP connection on 127.0.0.1.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// pipePair returns both ends of a net.Pipe: a connection without a
// descriptor of its own, as a TLS connection is.
func pipePair(t *testing.T) (client, server net.Conn) {
	client, server = net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

var pairs = []struct {
	name string
	pair func(t *testing.T) (net.Conn, net.Conn)
}{
	{"tcp", tcpPair},
	{"pipe", pipePair},
}

// TestSocketReadsPendingFirst: bytes read beyond the handshake come before
// what the socket holds, Peek waits for the rest, and the buffer goes
// back to the pool once every byte is consumed and Release is called.
func TestSocketReadsPendingFirst(t *testing.T) {
	for _, p := range pairs {
		p := p
		t.Run(p.name, func(t *testing.T) {
			peer, conn := p.pair(t)
			s := NewSocket(conn, []byte("hel"), 64, 64)
			if s.Len() != 3 {
				t.Fatalf("Len = %d with 3 pending bytes", s.Len())
			}
			go func() { _, _ = peer.Write([]byte("lo, world")) }()
			b, err := s.Peek(5)
			if err != nil || string(b) != "hello" {
				t.Fatalf("Peek(5) = %q, %v", b, err)
			}
			if err := s.Skip(5); err != nil {
				t.Fatal(err)
			}
			if err := s.Skip(s.Len() + 1); err == nil {
				t.Fatal("Skip beyond the buffered bytes succeeded")
			}
			b, err = s.Peek(7)
			if err != nil || string(b) != ", world" {
				t.Fatalf("Peek(7) = %q, %v", b, err)
			}
			_ = s.Skip(7)
			if err := s.Release(); err != nil {
				t.Fatal(err)
			}
			if s.in != nil {
				t.Fatal("the read buffer is still held with nothing unread")
			}
		})
	}
}

// TestSocketPeekLargerThanBuffer: a Peek larger than the pooled buffer
// gets a buffer of its own.
func TestSocketPeekLargerThanBuffer(t *testing.T) {
	peer, conn := tcpPair(t)
	s := NewSocket(conn, nil, 16, 64)
	msg := bytes.Repeat([]byte("x"), 100)
	go func() { _, _ = peer.Write(msg) }()
	b, err := s.Peek(100)
	if err != nil || !bytes.Equal(b, msg) {
		t.Fatalf("Peek(100) = %d bytes, %v", len(b), err)
	}
}

// TestSocketReadsDirect: only a large read with nothing buffered goes
// around the buffer; without wait, ReadDirect takes what has arrived and
// does not block when nothing has.
func TestSocketReadsDirect(t *testing.T) {
	peer, conn := tcpPair(t)
	s := NewSocket(conn, []byte("x"), 64, 64)
	if s.ReadsDirect(directRead) {
		t.Fatal("ReadsDirect with a byte buffered")
	}
	_ = s.Skip(1)
	if s.ReadsDirect(directRead - 1) {
		t.Fatal("ReadsDirect for a small read")
	}
	if !s.ReadsDirect(directRead) {
		t.Fatal("not ReadsDirect for a large read with nothing buffered")
	}
	p := make([]byte, directRead)
	if n, err := s.ReadDirect(p, false); n != 0 || err != nil {
		t.Fatalf("ReadDirect without wait on a quiet socket = %d, %v", n, err)
	}
	if _, err := peer.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	n, err := s.ReadDirect(p, true)
	if err != nil || string(p[:n]) != "abc" {
		t.Fatalf("ReadDirect(wait) = %q, %v", p[:n], err)
	}
	_ = peer.Close()
	if _, err := s.ReadDirect(p, true); err != io.EOF {
		t.Fatalf("ReadDirect after the peer closed: %v, want io.EOF", err)
	}
	if _, err := s.Peek(1); err != io.EOF {
		t.Fatalf("Peek after the stream ended: %v, want io.EOF", err)
	}
}

// TestSocketWrites: small writes are copied into the output buffer, a
// large one is referenced, and Flush sends everything in order.
func TestSocketWrites(t *testing.T) {
	for _, p := range pairs {
		p := p
		t.Run(p.name, func(t *testing.T) {
			peer, conn := p.pair(t)
			s := NewSocket(conn, nil, 64, 64)
			large := bytes.Repeat([]byte("L"), referencedWrite)
			total := 2 + len("small") + len(large) + len("tail")
			got := make(chan []byte, 1)
			go func() { // a net.Pipe's writes wait for the reader
				b := make([]byte, total)
				if _, err := io.ReadFull(peer, b); err != nil {
					b = nil
				}
				got <- b
			}()
			var want []byte
			head, _ := s.Malloc(2)
			copy(head, "hd")
			want = append(want, "hd"...)
			_, _ = s.WriteBinary([]byte("small"))
			want = append(want, "small"...)
			_, _ = s.WriteBinary(large)
			if len(s.queue.big) != len(large) {
				t.Fatal("a large payload was copied, not referenced")
			}
			want = append(want, large...)
			_, _ = s.WriteBinary([]byte("tail")) // flushes what came before
			want = append(want, "tail"...)
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if b := <-got; !bytes.Equal(b, want) {
				t.Fatalf("peer read %d bytes, want the %d queued in order", len(b), len(want))
			}
			if s.queue.out != nil || s.queue.big != nil {
				t.Fatal("Flush kept the output buffer or the payload")
			}
		})
	}
}

// TestSocketReadDeadline: a deadline set while a read is blocked wakes it
// with a timeout error shaped as net.Conn's: Op "read", matching
// os.ErrDeadlineExceeded.
func TestSocketReadDeadline(t *testing.T) {
	_, conn := tcpPair(t)
	s := NewSocket(conn, nil, 64, 64)
	if !s.LiveDeadlines() {
		t.Fatal("a socket's deadlines are live")
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Peek(1)
		done <- err
	}()
	_ = s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline did not wake the blocked read")
	}
	var oe *net.OpError
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("err = %#v, want a read OpError matching os.ErrDeadlineExceeded", err)
	}
	// A timeout does not end the stream: the next read may succeed.
	if s.readErr != nil {
		t.Fatalf("a timeout was kept as the end of the stream: %v", s.readErr)
	}
}

// TestPool: buffers of the pool's size are kept, others are dropped.
func TestPool(t *testing.T) {
	p := PoolFor(123)
	if PoolFor(123) != p {
		t.Fatal("PoolFor returned two pools for one size")
	}
	if p.Size() != 123 || len(p.Get().B) != 123 {
		t.Fatal("a pool's buffers are not of its size")
	}
	p.Put(&Buffer{B: make([]byte, 5)}) // dropped, not handed out later
	for i := 0; i < 10; i++ {
		if n := len(p.Get().B); n != 123 {
			t.Fatalf("Get returned a %d-byte buffer from a 123-byte pool", n)
		}
	}
}
