'use strict';
// The WebSocket load generator of bench/server.py: closed-loop clients over gb's /ws protocol.
//
// Usage: node bench/wsload.js CONFIG.json
//   CONFIG: {"url": "ws://127.0.0.1:PORT/ws", "origin": "http://127.0.0.1:PORT",
//            "tokens": [...], "connections": 32, "seconds": 6}
// Each connection says {"type": "hello", "token"} (connection i takes token i mod the count)
// and waits for "ready". Then it prints "ready" and waits for a line on stdin; on it, each
// connection sends {"type": "message", "text": "hello there"} and the next one as soon as the
// "reply" (or "error") frame comes, for `seconds`. It prints "stopped" when the time is up and,
// once the last replies are in, one JSON line: replies and errors counted within the time,
// latency percentiles in milliseconds.

const fs = require('fs');
const readline = require('readline');
const WebSocket = require('ws');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const FRAME = JSON.stringify({ type: 'message', text: 'hello there' });
const latencies = [];  // ms, of the replies received within the time
let errors = 0, late = 0, closed = 0, running = false, startAt = 0n, stopAt = 0n, inFlight = 0;
const perSecond = [];  // replies within each second of the run (a stall shows as a dip)
const frameErrors = {};

function open(token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url, { origin: cfg.origin, perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
    ws.once('message', (data) => {
      const frame = JSON.parse(data);
      if (frame.type !== 'ready') reject(new Error(`expected ready, got ${data}`));
      else resolve(ws);
    });
  });
}

function send(ws) {
  ws.sentAt = process.hrtime.bigint();
  inFlight += 1;
  ws.send(FRAME);
}

function loop(ws) {
  ws.on('message', (data) => {
    const now = process.hrtime.bigint();
    const frame = JSON.parse(data);
    if (frame.type !== 'reply' && frame.type !== 'error') return;  // not an answer to this socket's message
    inFlight -= 1;
    if (now > stopAt) { late += 1; } else if (frame.type === 'reply') {
      latencies.push(Number(now - ws.sentAt) / 1e6);
      const second = Number((now - startAt) / 1000000000n);
      perSecond[second] = (perSecond[second] || 0) + 1;
    } else {
      errors += 1;
      const code = frame.error && frame.error.code;
      frameErrors[code] = (frameErrors[code] || 0) + 1;
    }
    if (running) send(ws);
    else if (inFlight === 0) finish();
  });
  ws.on('close', () => { closed += 1; });
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))] : NaN;
}

let sockets = [];
function finish() {
  const sorted = latencies.slice().sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    replies: latencies.length, errors, late, closed, error_codes: frameErrors, seconds: cfg.seconds,
    per_second: Array.from(perSecond, (v) => v || 0),
    p50_ms: pct(sorted, 50), p90_ms: pct(sorted, 90), p99_ms: pct(sorted, 99), max_ms: sorted[sorted.length - 1],
  }) + '\n');
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

async function main() {
  const tokens = cfg.tokens;
  const all = [];
  for (let i = 0; i < cfg.connections; i++) all.push(open(tokens[i % tokens.length]));
  sockets = await Promise.all(all);
  sockets.forEach(loop);
  process.stdout.write('ready\n');
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('line', () => {
    rl.close();
    running = true;
    startAt = process.hrtime.bigint();
    stopAt = startAt + BigInt(Math.round(cfg.seconds * 1e9));
    sockets.forEach(send);
    setTimeout(() => {
      running = false;
      process.stdout.write('stopped\n');
      setTimeout(finish, 15000);  // replies that never come (the server is stuck): report what came
    }, cfg.seconds * 1000);
  });
}

main().catch((err) => { process.stderr.write(`${err.stack || err}\n`); process.exit(1); });
