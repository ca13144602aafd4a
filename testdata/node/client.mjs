#!/usr/bin/env node
// Interop client for interop_node_test.go: drives an echo server with the
// `ws` package, checks every echo byte by byte and prints one JSON line.
//
// Usage: node client.mjs '<json config>'
//
// Config:
//   url                 ws:// URL of an echo endpoint
//   perMessageDeflate   false | true (ws defaults) | {serverNoContextTakeover,
//                       clientNoContextTakeover, serverMaxWindowBits,
//                       clientMaxWindowBits, threshold}
//   steps               list of:
//     {op: "send", type: "text"|"binary", size: N}   send, await the echo
//     {op: "burst", type: "json"|"text"|"binary", count: N, size: N}
//                       send N messages back to back, then await all echoes
//     {op: "ping", size: N}                          ping, await its pong
//     {op: "fragmented", type, sizes: [a, b, ...]}   one message sent in
//                       fragments (fin:false ... fin:true), await the echo
//   close               {code, reason}
//   timeoutMs           whole-run deadline (default 120000)
//
// Output (stdout, one line): {ok, extensions, extensionNames, params,
// received: {text, binary, pongs, bytes}, socket: {bytesRead, bytesWritten},
// closeCode, closeReason, errors}. Exit code 1 unless ok.

import WebSocket from 'ws';

const errors = [];
const result = {
  ok: false,
  extensions: null,
  extensionNames: '',
  params: null,
  received: { text: 0, binary: 0, pongs: 0, bytes: 0 },
  socket: { bytesRead: 0, bytesWritten: 0 },
  closeCode: null,
  closeReason: null,
  errors
};

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  result.ok = errors.length === 0;
  process.stdout.write(JSON.stringify(result) + '\n', () => {
    process.exit(result.ok ? 0 : 1);
  });
}

let cfg;
try {
  cfg = JSON.parse(process.argv[2] ?? '');
} catch (err) {
  errors.push(`bad config on argv: ${err.message}`);
  finish();
}

// ---- deterministic content -------------------------------------------------

// A small LCG: the same seed gives the same bytes in every run.
function lcg(seed) {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

// A dictionary of words shared by every message: messages pick words from
// it, so back-references land at every distance, within a message and
// (with context takeover) into the previous ones.
const textWords = (() => {
  const next = lcg(1);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  const words = [];
  for (let i = 0; i < 1024; i++) {
    let w = '';
    const len = 3 + (next() % 10);
    for (let j = 0; j < len; j++) w += alphabet[next() % alphabet.length];
    words.push(w);
  }
  return words;
})();

const binWords = (() => {
  const next = lcg(2);
  const words = [];
  for (let i = 0; i < 1024; i++) {
    const b = Buffer.alloc(8 + (next() % 24));
    for (let j = 0; j < b.length; j++) b[j] = next() >>> 24;
    words.push(b);
  }
  return words;
})();

let messageSeq = 0;

// text builds an ASCII message of exactly size bytes: JSON-ish lines with
// a counter (local repeats) and dictionary words (far repeats).
function text(size) {
  const seq = messageSeq++;
  const next = lcg(1000 + seq);
  const buf = Buffer.alloc(size);
  let off = 0;
  for (let line = 0; off < size; line++) {
    let s = `{"seq":${seq},"line":${line},"words":"`;
    const n = 2 + (next() % 6);
    for (let k = 0; k < n; k++) s += (k ? ' ' : '') + textWords[next() % textWords.length];
    s += '"}\n';
    off += buf.write(s, off, 'latin1');
  }
  return buf;
}

// binary builds size bytes: a counter, dictionary words, and now and then
// a run of noise that does not compress.
function binary(size) {
  const seq = messageSeq++;
  const next = lcg(2000 + seq);
  const buf = Buffer.alloc(size);
  let off = 0;
  for (let rec = 0; off < size; rec++) {
    if (off + 8 <= size) {
      buf.writeUInt32BE(seq, off);
      buf.writeUInt32BE(rec, off + 4);
    }
    off += 8;
    const r = next() % 16;
    if (r === 0) {
      const end = Math.min(size, off + 64 + (next() % 192));
      for (; off < end; off++) buf[off] = next() >>> 24;
    } else {
      for (let k = 0; k < 1 + (r % 4) && off < size; k++) {
        off += binWords[next() % binWords.length].copy(buf, off);
      }
    }
  }
  return buf;
}

function json() {
  const seq = messageSeq++;
  const next = lcg(3000 + seq);
  const obj = {
    type: 'chat',
    seq,
    user: `user-${seq % 7}`,
    room: 'lobby',
    text: Array.from({ length: 3 + (seq % 9) }, () => textWords[next() % textWords.length]).join(' '),
    ts: 1700000000000 + seq * 1000
  };
  return Buffer.from(JSON.stringify(obj), 'latin1');
}

function payload(type, size) {
  switch (type) {
    case 'text':
      return text(size);
    case 'binary':
      return binary(size);
    case 'json':
      return json();
    default:
      throw new Error(`unknown message type ${type}`);
  }
}

// ---- the run ---------------------------------------------------------------

// Echoes we wait for, in order: {binary, data, label, resolve}.
const expected = [];
const pendingPongs = [];

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function expectEcho(binary, data, label) {
  return new Promise((resolve) => {
    expected.push({ binary, data, label, resolve });
  });
}

function onMessage(data, isBinary) {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  if (isBinary) result.received.binary++;
  else result.received.text++;
  result.received.bytes += buf.length;
  const want = expected.shift();
  if (!want) {
    errors.push(`unexpected message (${isBinary ? 'binary' : 'text'}, ${buf.length} bytes)`);
    return;
  }
  if (want.binary !== isBinary) {
    errors.push(`${want.label}: echo is ${isBinary ? 'binary' : 'text'}, sent ${want.binary ? 'binary' : 'text'}`);
  } else if (!want.data.equals(buf)) {
    const at = firstDifference(want.data, buf);
    errors.push(
      `${want.label}: echo differs at byte ${at} (sent ${want.data.length} bytes, got ${buf.length}; ` +
        `want 0x${(want.data[at] ?? -1).toString(16)} got 0x${(buf[at] ?? -1).toString(16)})`
    );
  }
  want.resolve();
}

function sendAsync(ws, data, opts) {
  return new Promise((resolve, reject) => {
    ws.send(data, opts, (err) => (err ? reject(err) : resolve()));
  });
}

async function runStep(ws, step, idx) {
  const label = `step ${idx} (${step.op}${step.type ? ' ' + step.type : ''})`;
  switch (step.op) {
    case 'send': {
      const isBinary = step.type === 'binary';
      const data = payload(step.type, step.size);
      const echoed = expectEcho(isBinary, data, `${label} ${step.size} B`);
      await sendAsync(ws, data, { binary: isBinary });
      await echoed;
      return;
    }
    case 'burst': {
      const isBinary = step.type === 'binary';
      const echoes = [];
      for (let i = 0; i < step.count; i++) {
        const data = payload(step.type, step.size ?? 0);
        echoes.push(expectEcho(isBinary, data, `${label} #${i}`));
        ws.send(data, { binary: isBinary });
      }
      await Promise.all(echoes);
      return;
    }
    case 'ping': {
      const data = text(step.size).subarray(0, step.size);
      const pong = new Promise((resolve) => pendingPongs.push({ data, label, resolve }));
      ws.ping(data);
      await pong;
      return;
    }
    case 'fragmented': {
      const isBinary = step.type === 'binary';
      const total = step.sizes.reduce((a, b) => a + b, 0);
      const data = payload(step.type, total);
      const echoed = expectEcho(isBinary, data, `${label} ${step.sizes.join('+')} B`);
      let off = 0;
      for (let i = 0; i < step.sizes.length; i++) {
        const part = data.subarray(off, off + step.sizes[i]);
        off += step.sizes[i];
        await sendAsync(ws, part, { binary: isBinary, fin: i === step.sizes.length - 1 });
      }
      await echoed;
      return;
    }
    default:
      throw new Error(`unknown step op ${step.op}`);
  }
}

async function main() {
  const timeout = setTimeout(() => {
    errors.push(`timed out after ${cfg.timeoutMs ?? 120000} ms (${expected.length} echoes outstanding)`);
    finish();
  }, cfg.timeoutMs ?? 120000);
  timeout.unref();

  const ws = new WebSocket(cfg.url, {
    perMessageDeflate: cfg.perMessageDeflate ?? false,
    maxPayload: 64 * 1024 * 1024
  });

  ws.on('upgrade', (res) => {
    result.extensions = res.headers['sec-websocket-extensions'] ?? null;
  });
  ws.on('message', onMessage);
  ws.on('pong', (data) => {
    result.received.pongs++;
    const want = pendingPongs.shift();
    if (!want) {
      errors.push(`unexpected pong (${data.length} bytes)`);
      return;
    }
    if (!want.data.equals(data)) {
      errors.push(`${want.label}: pong payload differs at byte ${firstDifference(want.data, data)}`);
    }
    want.resolve();
  });

  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      result.closeCode = code;
      result.closeReason = reason.toString();
      if (ws._socket) {
        result.socket.bytesRead = ws._socket.bytesRead;
        result.socket.bytesWritten = ws._socket.bytesWritten;
      }
      resolve();
    });
  });
  // An error ends the run: 'close' follows it.
  ws.on('error', (err) => errors.push(`ws error: ${err.message}`));
  ws.on('unexpected-response', (req, res) => {
    errors.push(`unexpected HTTP response ${res.statusCode}`);
    finish();
  });

  const opened = await Promise.race([
    new Promise((resolve) => ws.once('open', () => resolve(true))),
    closed.then(() => false)
  ]);
  if (!opened) {
    errors.push('connection closed before it opened');
    return;
  }
  result.extensionNames = ws.extensions;
  const pmd = ws._extensions['permessage-deflate'];
  result.params = pmd ? pmd.params : null;

  const steps = cfg.steps ?? [];
  for (let i = 0; i < steps.length; i++) {
    const step = await Promise.race([runStep(ws, steps[i], i), closed.then(() => 'closed')]);
    if (step === 'closed') {
      errors.push(`connection closed during step ${i} (${steps[i].op}): code ${result.closeCode} ${result.closeReason}`);
      return;
    }
  }
  if (expected.length !== 0) errors.push(`${expected.length} echoes still outstanding`);

  const close = cfg.close ?? { code: 1000, reason: '' };
  ws.close(close.code, close.reason);
  await closed;
}

if (cfg) {
  main()
    .catch((err) => errors.push(`client: ${err.stack ?? err}`))
    .finally(finish);
}
