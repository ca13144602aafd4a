#!/usr/bin/env node
// Interop echo server for interop_client_test.go: the Go client (Dialer)
// is judged against the `ws` package's server, which nobody here wrote.
//
// Usage: node server.mjs '<json config>'
//
// Config:
//   perMessageDeflate   false | true (ws defaults) | {serverNoContextTakeover,
//                       clientNoContextTakeover, serverMaxWindowBits,
//                       clientMaxWindowBits, threshold}
//   protocols           subprotocols the server supports, in its order of
//                       preference; it picks the first one the client offered
//   maxPayload          largest message accepted (default 64 MiB)
//
// It listens on 127.0.0.1, port 0, and prints {"port": N} as one line on
// stdout. Every connection echoes each message with its type (messages over
// 64 KiB go back in three fragments, with a ping whose payload is
// "mid-message" after the first), except these text messages:
//   "ping:<payload>"       ping the client with <payload>; when the pong
//                          arrives, send the text "pong:<pong payload>"
//   "close:<code>:<reason>" close the connection with that code and reason
// Errors are written to stderr as lines starting with "ws-error:". The
// server exits when its stdin closes.

import { WebSocketServer } from 'ws';

function fail(msg) {
  process.stderr.write(`ws-error: ${msg}\n`);
}

let cfg;
try {
  cfg = JSON.parse(process.argv[2] ?? '');
} catch (err) {
  fail(`bad config on argv: ${err.message}`);
  process.exit(2);
}

const protocols = cfg.protocols ?? [];
const fragmentAbove = 64 * 1024;
// The payload of the ping sent in the middle of a fragmented echo; its
// pong is not reported.
const midPing = 'mid-message';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: cfg.perMessageDeflate ?? false,
  maxPayload: cfg.maxPayload ?? 64 * 1024 * 1024,
  handleProtocols: (offered) => {
    for (const p of protocols) {
      if (offered.has(p)) return p;
    }
    return false;
  }
});

wss.on('error', (err) => fail(`server: ${err.message}`));

wss.on('listening', () => {
  process.stdout.write(JSON.stringify({ port: wss.address().port }) + '\n');
});

wss.on('connection', (ws) => {
  ws.on('error', (err) => fail(`connection: ${err.message}`));

  ws.on('pong', (data) => {
    const payload = data.toString('latin1');
    if (payload !== midPing) ws.send('pong:' + payload);
  });

  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) {
      if (buf.subarray(0, 5).toString('latin1') === 'ping:') {
        ws.ping(buf.subarray(5));
        return;
      }
      if (buf.subarray(0, 6).toString('latin1') === 'close:') {
        const rest = buf.subarray(6).toString('utf8');
        const i = rest.indexOf(':');
        const code = Number(i < 0 ? rest : rest.slice(0, i));
        const reason = i < 0 ? '' : rest.slice(i + 1);
        ws.close(code, reason);
        return;
      }
    }
    if (buf.length <= fragmentAbove) {
      ws.send(buf, { binary: isBinary });
      return;
    }
    // Large messages go back fragmented, cut at byte offsets that need not
    // fall on UTF-8 boundaries, with a ping between the first two
    // fragments.
    const cuts = [0, Math.floor(buf.length / 3) + 1, Math.floor((2 * buf.length) / 3) - 1, buf.length];
    for (let k = 0; k < 3; k++) {
      ws.send(buf.subarray(cuts[k], cuts[k + 1]), { binary: isBinary, fin: k === 2 });
      if (k === 0) ws.ping(midPing);
    }
  });
});

function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  process.exit(0);
}

process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
