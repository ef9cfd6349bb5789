/**
 * The floor for bench/fanout.ts: about the least a Node long-poll server can do for the workload on
 * Node's supported APIs, so the run shows what any server written for this runtime can reach beside
 * nginx + nchan (issue 11 asks Parley to be ahead of nchan per server-CPU-second; this says how far
 * that is from Node itself).
 *
 * It serves the same URLs, answers and semantics as bench/baseline-longpoll-server.ts (handshake,
 * catch-up of up to 100 messages, parking, a per-channel log with increasing sequence numbers), and
 * answers parked polls at the end of the event-loop turn with everything the turn's publishes brought,
 * as Parley does. What it leaves out is everything else a server needs: it reads `net` sockets with no
 * HTTP parser (the request line up to the first space pair, then the blank line; no header is read, no
 * body is allowed, pipelining assumed well formed), no query string but `tt` and `uuid`, no validation
 * beyond JSON.parse of the payload, no keysets, access, presence, storage, limits or metrics. One write
 * per answer from a header template. It is a measuring stick, not a server to run: it trusts its
 * client completely.
 *
 * Run: `node --import tsx bench/floor-longpoll-server.ts` with PORT (0 = any) and HOST; prints
 * `... listening on http://HOST:PORT` like Parley does.
 */
import net from 'node:net';
import { emptyAnswer, MessageLog } from './lib/message-log.ts';

const HOLD_MS = 280_000;
/** The same headers Parley and the node:http baseline send, so the answers are the same size. */
const head = (status: string, length: number): string =>
  `HTTP/1.1 ${status}\r\nContent-Type: text/javascript; charset="UTF-8"\r\nAccess-Control-Allow-Origin: *\r\n` +
  'Access-Control-Allow-Methods: GET, POST, PATCH, DELETE, OPTIONS\r\nAccess-Control-Allow-Headers: *\r\n' +
  `Cache-Control: no-cache\r\nConnection: keep-alive\r\nContent-Length: ${length}\r\n\r\n`;

interface Poll {
  socket: net.Socket;
  cursor: number;
  since: number;
}

interface Channel {
  log: MessageLog;
  parked: Set<Poll>;
}

const channels = new Map<string, Channel>();
/** The poll each socket has parked, so a close forgets it. */
const parkedOf = new WeakMap<net.Socket, [Channel, Poll]>();
let seq = 1;

function channel(name: string): Channel {
  let c = channels.get(name);
  if (!c) channels.set(name, (c = { log: new MessageLog(), parked: new Set() }));
  return c;
}

function send(socket: net.Socket, body: string, status = '200 OK'): void {
  socket.write(head(status, Buffer.byteLength(body)) + body);
}

const due = new Set<Channel>();
let scheduled = false;

/** The turn's end: every channel published to this turn answers its parked polls, one body per cursor. */
function answerDue(): void {
  scheduled = false;
  for (const c of due) {
    const parked = c.parked;
    c.parked = new Set();
    const bodies = new Map<number, string | null>();
    for (const p of parked) {
      let body = bodies.get(p.cursor);
      if (body === undefined) bodies.set(p.cursor, (body = c.log.answerAfter(p.cursor)));
      if (body === null) {
        c.parked.add(p); // parked this turn at the newest message: keep waiting
        continue;
      }
      parkedOf.delete(p.socket);
      send(p.socket, body);
    }
  }
  due.clear();
}

/** A query parameter's raw value, or null. */
function query(target: string, name: string): string | null {
  const q = target.indexOf('?');
  if (q < 0) return null;
  for (let at = q; at >= 0; at = target.indexOf('&', at + 1)) {
    if (!target.startsWith(name, at + 1) || target[at + 1 + name.length] !== '=') continue;
    const end = target.indexOf('&', at + 1);
    return target.slice(at + name.length + 2, end < 0 ? undefined : end);
  }
  return null;
}

function handle(socket: net.Socket, target: string): void {
  const q = target.indexOf('?');
  const path = (q < 0 ? target : target.slice(0, q)).split('/');
  // /v2/subscribe/{sub}/{channel}/0
  if (path[1] === 'v2' && path[2] === 'subscribe' && path.length === 6) {
    const c = channel(decodeURIComponent(path[4]));
    const tt = query(target, 'tt');
    if (!tt || tt === '0') {
      send(socket, emptyAnswer(seq));
      return;
    }
    const cursor = Number(tt);
    const body = c.log.answerAfter(cursor);
    if (body !== null) {
      send(socket, body);
      return;
    }
    const poll: Poll = { socket, cursor, since: Date.now() };
    c.parked.add(poll);
    parkedOf.set(socket, [c, poll]);
    return;
  }
  // /publish/{pub}/{sub}/0/{channel}/0/{payload}
  if (path[1] === 'publish' && path.length === 8) {
    const payload = decodeURIComponent(path[7]);
    JSON.parse(payload); // reject what is not JSON, as any real server must
    const name = decodeURIComponent(path[5]);
    const c = channel(name);
    const s = ++seq;
    c.log.append(s, decodeURIComponent(path[3]), name, decodeURIComponent(query(target, 'uuid') ?? ''), payload);
    send(socket, `[1,"Sent","${s}"]`);
    due.add(c);
    if (!scheduled) {
      scheduled = true;
      setImmediate(answerDue);
    }
    return;
  }
  send(socket, '{"status":404,"error":true,"message":"Not Found"}', '404 Not Found');
}

const server = net.createServer({ noDelay: true }, (socket) => {
  let pending: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const sp = buf.indexOf(32);
      try {
        handle(socket, buf.toString('latin1', sp + 1, buf.indexOf(32, sp + 1)));
      } catch {
        send(socket, '[0,"Invalid JSON","0"]', '400 Bad Request');
      }
      buf = buf.subarray(end + 4);
    }
    pending = buf.length > 0 ? buf : null;
  });
  socket.on('close', () => {
    const p = parkedOf.get(socket);
    if (p) p[0].parked.delete(p[1]);
  });
  socket.on('error', () => {});
});

// One sweep for the hold timeout instead of a timer per poll (runs are shorter than the hold anyway).
setInterval(() => {
  const cutoff = Date.now() - HOLD_MS;
  for (const c of channels.values()) {
    for (const p of c.parked) {
      if (p.since > cutoff) continue;
      c.parked.delete(p);
      parkedOf.delete(p.socket);
      send(p.socket, emptyAnswer(p.cursor));
    }
  }
}, 10_000).unref();

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as net.AddressInfo;
  process.stdout.write(`floor long-poll server listening on http://${address}:${port}\n`);
});
// Exit through process.exit so `--cpu-prof` can write its profile.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
