import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { OPEN_KEYSET, startServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The lane (src/protocol/lane.ts) serves subscribe, publish and signal GETs on the socket and hands
 * every other request, with its connection, to node:http. These tests drive raw HTTP/1.1 so they can
 * choose which path a request takes, and check that the lane answers as node:http does.
 */

const SUB = OPEN_KEYSET.subscribeKey;
const PUB = OPEN_KEYSET.publishKey;

interface Answer {
  statusLine: string;
  /** Header lines as sent, in order. */
  headers: string[];
  body: string;
}

/** One raw keep-alive connection; answers are read in order, each once its Content-Length has arrived. */
class Line {
  private buf = Buffer.alloc(0);
  private waiting: Array<(a: Answer) => void> = [];
  private ready: Answer[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number): Promise<Line> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new Line(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  get(path: string, extraHeaders = ''): void {
    this.send(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`);
  }

  next(timeoutMs = 5000): Promise<Answer> {
    const a = this.ready.shift();
    if (a) return Promise.resolve(a);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...headers] = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const length = Number(/^content-length: *(\d+)$/im.exec(headers.join('\n'))?.[1] ?? 0);
      if (this.buf.length < end + 4 + length) return;
      const answer = { statusLine, headers, body: this.buf.subarray(end + 4, end + 4 + length).toString('utf8') };
      this.buf = this.buf.subarray(end + 4 + length);
      const w = this.waiting.shift();
      if (w) w(answer);
      else this.ready.push(answer);
    }
  }
}

const laneRequests = (s: TestServer): number => s.parley.services.metrics.value('parley_lane_requests_total');
const withoutDate = (headers: string[]): string[] => headers.map((h) => (h.startsWith('Date: ') ? 'Date: <now>' : h));
const handshake = (channel: string, uuid: string): string => `/v2/subscribe/${SUB}/${channel}/0?uuid=${uuid}`;
const poll = (channel: string, uuid: string, tt: string): string => `/v2/subscribe/${SUB}/${channel}/0?tt=${tt}&tr=1&uuid=${uuid}`;

async function server(t: TestContext): Promise<TestServer> {
  const s = await startServer({ store: 'memory' });
  t.after(() => s.stop());
  return s;
}

async function open(t: TestContext, s: TestServer): Promise<Line> {
  const line = await Line.open(s.port);
  t.after(() => line.socket.destroy());
  return line;
}

async function publish(s: TestServer, channel: string, message: unknown): Promise<void> {
  const res = await fetch(`${s.url}/publish/${PUB}/${SUB}/0/${channel}/0/${encodeURIComponent(JSON.stringify(message))}?uuid=publisher`);
  assert.equal(res.status, 200);
  await res.text();
}

test('the lane answers a subscribe with the status line, headers (in order) and body node:http sends', async (t) => {
  const s = await server(t);
  const lane = await open(t, s);
  const viaNode = await open(t, s);
  // A first request the lane does not serve hands this connection to node:http for good.
  viaNode.get('/time/0');
  assert.equal((await viaNode.next()).statusLine, 'HTTP/1.1 200 OK');

  lane.get(handshake('room', 'a'));
  viaNode.get(handshake('room', 'b'));
  const [fromLane, fromNode] = [await lane.next(), await viaNode.next()];
  assert.equal(laneRequests(s), 1, 'only the fresh connection took the lane');
  assert.equal(fromLane.statusLine, fromNode.statusLine);
  assert.deepEqual(withoutDate(fromLane.headers), withoutDate(fromNode.headers));
  assert.match(fromLane.headers.join('\n'), /^Connection: keep-alive\nKeep-Alive: timeout=65$/m);

  // Both park at the same cursor; one publish wakes both with the same envelope.
  const tt = (JSON.parse(fromLane.body) as { t: { t: string } }).t.t;
  lane.get(poll('room', 'a', tt));
  viaNode.get(poll('room', 'b', tt));
  await waitFor(() => s.parley.services.hub.parkedCount() === 2, 'both polls parked');
  await publish(s, 'room', { text: 'hello' }); // a GET publish: the lane serves it too
  const [laneMessage, nodeMessage] = [await lane.next(), await viaNode.next()];
  assert.equal(laneMessage.statusLine, 'HTTP/1.1 200 OK');
  assert.deepEqual(withoutDate(laneMessage.headers), withoutDate(nodeMessage.headers));
  assert.equal(laneMessage.body, nodeMessage.body);
  assert.deepEqual((JSON.parse(laneMessage.body) as { m: { d: unknown }[] }).m[0].d, { text: 'hello' });
  assert.equal(laneRequests(s), 3);
});

test('the lane answers GET publishes, accepted or refused, as node:http does', async (t) => {
  const s = await server(t);
  let lane = await open(t, s);
  let viaNode = await open(t, s);
  viaNode.get('/time/0');
  await viaNode.next();
  const ok = `/publish/${PUB}/${SUB}/0/room/0/${encodeURIComponent('{"a":1}')}?uuid=p`;
  const badJson = `/publish/${PUB}/${SUB}/0/room/0/${encodeURIComponent('{nope')}?uuid=p`;
  const badKey = `/publish/wrong-pub/${SUB}/0/room/0/1?uuid=p`;
  const signal = `/signal/${PUB}/${SUB}/0/room/0/${encodeURIComponent('"hi"')}?uuid=p`;
  for (const path of [ok, badJson, badKey, signal]) {
    // A refusal given before the request is complete closes the connection (server.ts), on either path.
    if (lane.socket.destroyed) lane = await open(t, s);
    if (viaNode.socket.destroyed) {
      viaNode = await open(t, s);
      viaNode.get('/time/0');
      await viaNode.next();
    }
    lane.get(path);
    viaNode.get(path);
    const [a, b] = [await lane.next(), await viaNode.next()];
    assert.equal(a.statusLine, b.statusLine, path);
    assert.deepEqual(withoutDate(a.headers), withoutDate(b.headers), path);
    // Timetokens differ between the two publishes; everything else is the same.
    assert.equal(a.body.replace(/\d{17}/g, 'TT'), b.body.replace(/\d{17}/g, 'TT'), path);
    const closing = a.headers.includes('Connection: close');
    assert.equal(closing, b.headers.includes('Connection: close'), path);
    if (closing) await Promise.all([lane.closed, viaNode.closed]);
  }
  assert.equal(laneRequests(s), 4, 'the lane served all four');
});

test('a connection moves to node:http at the first request the lane does not serve, and stays served', async (t) => {
  const s = await server(t);
  const line = await open(t, s);
  line.get(handshake('room', 'a'));
  assert.equal((await line.next()).statusLine, 'HTTP/1.1 200 OK');
  const body = JSON.stringify({ text: 'posted' });
  line.send(
    `POST /publish/${PUB}/${SUB}/0/room/0?uuid=a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  const published = await line.next();
  assert.equal(published.statusLine, 'HTTP/1.1 200 OK');
  assert.match(published.body, /^\[1,"Sent","\d{17}"\]$/);
  line.get(handshake('room', 'a'));
  assert.equal((await line.next()).statusLine, 'HTTP/1.1 200 OK');
  assert.equal(laneRequests(s), 1, 'node:http served the connection from the publish on');
});

test('pipelined subscribes on the lane are answered in order, and a poll behind them still parks and wakes', async (t) => {
  const s = await server(t);
  const line = await open(t, s);
  line.send([handshake('room', 'a'), handshake('other', 'b')].map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
  const first = await line.next();
  const second = await line.next();
  assert.equal(first.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(second.statusLine, 'HTTP/1.1 200 OK');
  const tt = (JSON.parse(second.body) as { t: { t: string } }).t.t;
  line.get(poll('room', 'a', tt));
  await waitFor(() => s.parley.services.hub.parkedCount() === 1, 'the poll parked');
  await publish(s, 'room', 42);
  assert.equal((JSON.parse((await line.next()).body) as { m: { d: unknown }[] }).m[0].d, 42);
  assert.equal(laneRequests(s), 4, 'three subscribes and the publish');
});

test('requests the lane does not take meet node:http: HTTP/1.0, Connection: close, no Host, a bad header, an oversized head', async (t) => {
  const s = await server(t);
  const control = await open(t, s);
  control.get(handshake('room', 'a'));
  assert.equal((await control.next()).statusLine, 'HTTP/1.1 200 OK');
  assert.equal(laneRequests(s), 1, 'a plain subscribe takes the lane');

  const cases: Array<{ what: string; request: string; status: RegExp; closes: boolean }> = [
    { what: 'HTTP/1.0', request: `GET ${handshake('room', 'b')} HTTP/1.0\r\nHost: x\r\n\r\n`, status: /^HTTP\/1\.1 200 /, closes: true },
    {
      what: 'Connection: close',
      request: `GET ${handshake('room', 'c')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      status: /^HTTP\/1\.1 200 /,
      closes: true,
    },
    { what: 'no Host', request: `GET ${handshake('room', 'd')} HTTP/1.1\r\n\r\n`, status: /^HTTP\/1\.1 400 /, closes: true },
    { what: 'a space before the colon', request: `GET ${handshake('room', 'e')} HTTP/1.1\r\nHost : x\r\n\r\n`, status: /^HTTP\/1\.1 400 /, closes: true },
    {
      what: 'a head over maxHeaderSize',
      request: `GET ${handshake('room', 'f')}&pad=${'x'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      status: /^HTTP\/1\.1 414 /,
      closes: true,
    },
  ];
  for (const c of cases) {
    const line = await open(t, s);
    line.send(c.request);
    const answer = await line.next();
    assert.match(answer.statusLine, c.status, c.what);
    if (c.closes) await line.closed;
  }
  assert.equal(laneRequests(s), 1, 'none of them took the lane');
});

test('a client that leaves while its poll is parked on the lane frees its long-poll slot and its poll', async (t) => {
  const s = await server(t);
  const line = await open(t, s);
  line.get(handshake('room', 'a'));
  const tt = (JSON.parse((await line.next()).body) as { t: { t: string } }).t.t;
  line.get(poll('room', 'a', tt));
  const limits = s.parley.services.clientLimits;
  await waitFor(() => s.parley.services.hub.parkedCount() === 1 && limits.openLongPolls === 1, 'the poll parked, holding a slot');
  line.socket.destroy();
  await waitFor(
    () => s.parley.services.hub.parkedCount() === 0 && limits.openLongPolls === 0 && s.parley.services.subscriptions.subscribedChannels === 0,
    'slot and poll released',
  );
  assert.equal(laneRequests(s), 2);
});

test('stopping the server answers a parked lane poll and closes its connection', async (t) => {
  const s = await startServer({ store: 'memory' });
  let stopped = false;
  t.after(() => (stopped ? undefined : s.stop()));
  const line = await open(t, s);
  line.get(handshake('room', 'a'));
  const tt = (JSON.parse((await line.next()).body) as { t: { t: string } }).t.t;
  line.get(poll('room', 'a', tt));
  await waitFor(() => s.parley.services.hub.parkedCount() === 1, 'the poll parked');
  const stopping = s.stop();
  const answer = await line.next();
  assert.equal(answer.statusLine, 'HTTP/1.1 200 OK');
  assert.deepEqual(JSON.parse(answer.body), { t: { t: tt, r: 1 }, m: [] });
  await line.closed;
  await stopping;
  stopped = true;
  assert.equal(laneRequests(s), 2);
});
