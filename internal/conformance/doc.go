// Package conformance is a WebSocket conformance suite in Go, modelled on
// Autobahn|Testsuite: every case family of its fuzzing suite, numbered as
// Autobahn numbers them, judged the way Autobahn judges them, run by a
// fuzzing peer written here that speaks raw TCP after the opening
// handshake. It needs neither Python nor Docker, so it runs in go test.
//
// # Cases
//
// [Cases] returns the 517 cases of Autobahn's families: 1 framing
// (text and binary messages of every length class, chopped writes), 2
// pings and pongs, 3 reserved bits, 4 reserved opcodes, 5 fragmentation
// (interleaved and chopped control frames, slow writes), 6 UTF-8
// (fragmented on and inside code points, fail-fast in 6.4, and the
// sections of Markus Kuhn's UTF-8 decoder stress test in 6.5 to 6.23),
// 7 closing (close frame sizes, invalid reasons, valid and invalid codes),
// 9 limits and performance (messages up to 16 MiB, fragments from 64 bytes
// to 4 MiB, chopped writes, 1000 round trips), 10 auto-fragmentation, 12
// permessage-deflate on five kinds of payload and 13 permessage-deflate
// with the seven offers of Autobahn's 13.x. [ExtraCases] adds family X,
// which Autobahn lacks: frames masked the wrong way for the sender's role.
//
// A [Case] holds its id, description and expectation, the
// permessage-deflate offers of the handshake, and a script run by a
// [Peer]: frames with any header bits (reserved bits and opcodes, wrong
// masks, oversize control frames, fragments), chopped or octet-by-octet
// writes, waits, and the events expected back.
//
// # Judging
//
// As in Autobahn, the fuzzer records the messages and pongs it receives
// and compares them, once the connection is gone, with the expected lists:
// the first that matches gives the behavior (OK, NON-STRICT or
// INFORMATIONAL); none gives FAILED. Cases that judge by themselves (9, 12,
// 13) set it directly; 12 and 13 are UNIMPLEMENTED when the peer does not
// negotiate permessage-deflate. The end of the connection is judged
// apart (Autobahn's behaviorClose): who sent the first close frame, whether
// the close was clean (close frames exchanged and TCP closed by the
// server in time), and whether the peer's close code is one the case
// allows (or none). The fuzzer checks everything the peer sends, as a
// strict endpoint would (masking, reserved bits, opcodes, control frame
// rules, UTF-8 of text and close reasons, close codes, and for
// permessage-deflate the window size and context takeover that were
// agreed), and fails the connection with a close frame on a violation, so
// a peer that misbehaves ends with the wrong endpoint closing.
//
// [Result.Verdict] folds the two judgements into one: FAILED when either
// is FAILED or the close is UNCLEAN, NON-STRICT when the behavior is OK
// but the close code is not the expected one or the fuzzing client had to
// drop the TCP connection itself. Autobahn shows both columns side by side
// and colours these the same way.
//
// # Running
//
// [RunClient] tests a server: each case on a new connection, the fuzzer
// making the HTTP upgrade itself. [RunServer] and [Server] test a client,
// roles swapped: the fuzzer is the server, sends unmasked frames, and the
// client must echo. [Report] prints a table of verdicts by family and the
// reason for each case that is not OK. The command cmd/conformance runs
// the suite against any URL.
//
// # Differences from Autobahn
//
//   - Family 12 sends generated payloads of the same kinds (JSON, a
//     bitmap, German text, HTML, a PDF-like file) instead of Autobahn's
//     files; families 12 and 13 send Options.CompressionMessages messages
//     per case (Autobahn sends 1000).
//   - Family 9 checks the content of the echo, not only its length.
//   - Options.TimeScale can stretch Autobahn's waits for slow peers, and
//     every case has an overall timeout.
//   - Case 3.6 is described by Autobahn as a ping with RSV = 6 but sends a
//     binary frame; so does this suite.
package conformance
