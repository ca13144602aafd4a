// Package frame implements the WebSocket framing layer of RFC 6455 §5:
// encoding and decoding frame headers, checking them against the protocol
// rules, masking payloads, parsing close frames and validating UTF-8 text
// incrementally.
//
// The package is pure: it knows nothing about HTTP, the opening handshake or
// any particular network stack. Input is read through the small [Reader]
// interface (Peek and Skip), which Hertz's network.Reader satisfies and which
// [BufioReader] provides for a *bufio.Reader.
//
// A typical receive loop reads a header with [ReadHeader], validates it with
// [CheckHeader], reads PayloadLen bytes of payload, unmasks them with [Mask]
// or [MaskCopy] when Header.Masked is set, and, for text messages, feeds the
// payload to a [UTF8Validator]. Close frame payloads are decoded with
// [ParseClosePayload].
//
// Violations of the protocol are reported as *[ProtocolError], which carries
// the close code to send to the peer before failing the connection
// (RFC 6455 §7.1.7).
package frame
