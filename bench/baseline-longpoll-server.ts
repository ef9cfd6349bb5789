/**
 * The baseline for bench/fanout.ts: the least a node:http long-poll server must do to serve the same
 * workload, so Parley's figures can be read as a ratio to it (performance.md: every benchmark reports
 * beside a baseline measured in the same run).
 *
 * It speaks the same URLs and answer shapes as Parley (wire-protocol.md §2.1, §3) so one load
 * generator drives both and the bytes on the wire are comparable, but it has none of Parley's
 * features: no keysets, access checks, presence, storage, filters, groups or wildcards.
 *
 * Semantics kept from Parley, because they cost CPU on the fan-out path:
 * - a per-channel message log with increasing sequence numbers (used as the timetoken `t.t`);
 * - subscribe without `tt` answers at once with the current sequence number (handshake);
 * - subscribe with `tt` answers at once with up to 100 messages newer than it, else parks with a
 *   hold timer until a publish wakes it (and is forgotten when the client closes the socket);
 * - publish appends (envelope serialised once per message), answers `[1,"Sent","<seq>"]` and wakes
 *   every poll parked on the channel, each getting everything newer than its own cursor.
 *
 * Run: `node --import tsx bench/baseline-longpoll-server.ts` with PORT (0 = any) and HOST; prints
 * `... listening on http://HOST:PORT` like Parley does.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emptyAnswer, MessageLog } from './lib/message-log.ts';

const HOLD_MS = 280_000;
// Parley sends these on every JSON answer (CORS is part of the protocol for browsers, §1.3): keep the
// answer bytes comparable.
const HEADERS = {
  'Content-Type': 'text/javascript; charset="UTF-8"',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': '*',
  'Cache-Control': 'no-cache',
};

interface Poll {
  res: ServerResponse;
  cursor: number;
  timer: NodeJS.Timeout;
}

interface Channel {
  log: MessageLog;
  parked: Set<Poll>;
}

const channels = new Map<string, Channel>();
// One sequence across channels, so a handshake cursor is meaningful on every channel. It starts above
// 0 because tt=0 means "handshake" (wire-protocol.md §3.2): a client handed "0" would never advance.
let seq = 1;

function channel(name: string): Channel {
  let c = channels.get(name);
  if (!c) channels.set(name, (c = { log: new MessageLog(), parked: new Set() }));
  return c;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...HEADERS, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers with up to 100 entries newer than `cursor`; false when there are none. */
function answerNewer(res: ServerResponse, c: Channel, cursor: number): boolean {
  const body = c.log.answerAfter(cursor);
  if (body === null) return false;
  send(res, 200, body);
  return true;
}

function subscribe(res: ServerResponse, name: string, query: URLSearchParams): void {
  const c = channel(name);
  const tt = query.get('tt');
  if (!tt || tt === '0') {
    send(res, 200, emptyAnswer(seq));
    return;
  }
  const cursor = Number(tt);
  if (answerNewer(res, c, cursor)) return;
  const poll: Poll = {
    res,
    cursor,
    timer: setTimeout(() => {
      c.parked.delete(poll);
      send(res, 200, emptyAnswer(cursor));
    }, HOLD_MS),
  };
  c.parked.add(poll);
  res.once('close', () => {
    clearTimeout(poll.timer);
    c.parked.delete(poll);
  });
}

function publish(res: ServerResponse, subKey: string, name: string, rawPayload: string, query: URLSearchParams): void {
  const payload = decodeURIComponent(rawPayload);
  JSON.parse(payload); // reject what is not JSON, as any real server must
  const c = channel(name);
  const s = ++seq;
  c.log.append(s, subKey, name, query.get('uuid') ?? '', payload);
  send(res, 200, `[1,"Sent","${s}"]`);
  const parked = c.parked;
  c.parked = new Set();
  for (const p of parked) {
    clearTimeout(p.timer);
    answerNewer(p.res, c, p.cursor);
  }
}

const server = createServer({ keepAlive: true, noDelay: true, requestTimeout: 0 }, (req, res) => {
  try {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).split('/');
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    // /v2/subscribe/{sub}/{channel}/0
    if (path[1] === 'v2' && path[2] === 'subscribe' && path.length === 6) return subscribe(res, decodeURIComponent(path[4]), query);
    // /publish/{pub}/{sub}/0/{channel}/0/{payload}
    if (path[1] === 'publish' && path.length === 8) return publish(res, decodeURIComponent(path[3]), decodeURIComponent(path[5]), path[7], query);
    send(res, 404, '{"status":404,"error":true,"message":"Not Found"}');
  } catch {
    send(res, 400, '[0,"Invalid JSON","0"]');
  }
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`baseline long-poll server listening on http://${address}:${port}\n`);
});
// Exit through process.exit so `--cpu-prof` can write its profile.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
