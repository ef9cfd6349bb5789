import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { sendJson } from '../../../src/protocol/request.ts';
import { Lane } from '../../../src/protocol/lane.ts';

/**
 * The lane's share of node:http's connection handling, on a bare server: headersTimeout for a head that
 * stops arriving, keepAliveTimeout for an idle connection, closeIdleConnections. (Its answers and
 * hand-overs are covered end to end in test/e2e/lane.test.ts.) The lane checks its timeouts
 * once a second, so these waits are bounded by a few seconds, not timed.
 */

interface Harness {
  port: number;
  served: () => number;
  /** Requests the handler has not answered yet (it holds `/lane/hold`). */
  held: ServerResponse[];
  clientErrors: string[];
  server: ReturnType<typeof createServer>;
}

async function harness(t: TestContext, timeouts: { headersMs: number; keepAliveMs: number }): Promise<Harness> {
  let served = 0;
  const held: ServerResponse[] = [];
  const clientErrors: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/lane/hold') held.push(res);
    else sendJson(res, 200, '{"ok":true}');
  });
  new Lane(server, {
    matchPath: (p) => (p.startsWith('/lane/') ? true : null),
    maxHeaderBytes: 16_384,
    isRefused: () => false,
    onRequest: () => void served++,
  });
  server.headersTimeout = timeouts.headersMs;
  server.keepAliveTimeout = timeouts.keepAliveMs;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    clientErrors.push(err.code ?? '');
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, served: () => served, held, clientErrors, server };
}

function client(t: TestContext, port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port }, () => resolve({ socket, received: () => received, closed }));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.once('error', reject);
    t.after(() => socket.destroy());
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]);
}

test('a request head that stops arriving meets headersTimeout: the server clientError listener answers it', async (t) => {
  const h = await harness(t, { headersMs: 200, keepAliveMs: 60_000 });
  const c = await client(t, h.port);
  c.socket.write('GET /lane/x HTTP/1.1\r\nHost: x\r\n');
  await within(c.closed, 4000, 'the stalled connection closed');
  assert.deepEqual(h.clientErrors, ['ERR_HTTP_REQUEST_TIMEOUT']);
  assert.match(c.received(), /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.equal(h.served(), 0);
});

test('an idle keep-alive connection is closed after keepAliveTimeout, as node:http closes its own', async (t) => {
  const h = await harness(t, { headersMs: 60_000, keepAliveMs: 100 });
  const c = await client(t, h.port);
  c.socket.write('GET /lane/x HTTP/1.1\r\nHost: x\r\n\r\n');
  await within(c.closed, 4000, 'the idle connection closed');
  assert.match(c.received(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\nKeep-Alive: timeout=0\r\n\r\n\{"ok":true\}$/);
  assert.equal(h.served(), 1);
});

test('closeIdleConnections closes idle lane connections and keeps one whose request is in flight', async (t) => {
  const h = await harness(t, { headersMs: 60_000, keepAliveMs: 60_000 });
  const idle = await client(t, h.port);
  const busy = await client(t, h.port);
  idle.socket.write('GET /lane/x HTTP/1.1\r\nHost: x\r\n\r\n');
  busy.socket.write('GET /lane/hold HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 0; i < 200 && (h.held.length === 0 || !idle.received().includes('{"ok":true}')); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(h.held.length, 1);
  h.server.closeIdleConnections();
  await within(idle.closed, 2000, 'the idle connection closed');
  assert.equal(busy.socket.destroyed, false);
  sendJson(h.held[0], 200, '{"late":true}');
  for (let i = 0; i < 200 && !busy.received().includes('{"late":true}'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(busy.received(), /\{"late":true\}$/);
  assert.equal(h.served(), 2);
});

test('the lane takes a request only when node:http would read it the same way: a plain GET on a lane path with a Host', () => {
  const lane = new Lane(createServer(), { matchPath: (p) => (p.startsWith('/lane/') ? true : null), maxHeaderBytes: 16_384, isRefused: () => false });
  const takes = (head: string): boolean => lane.parse(head) !== null;
  const get = (headers: string, target = '/lane/x?a=1'): string => `GET ${target} HTTP/1.1\r\n${headers}`;
  // taken
  assert.equal(takes(get('Host: a')), true);
  assert.equal(takes(get('host: a\r\nUser-Agent: x/1\r\nAccept: */*')), true);
  assert.equal(takes(get('Host: a\r\nConnection: keep-alive')), true);
  assert.equal(takes(get('Host: a\r\nconnection:\tKeep-Alive ')), true);
  assert.equal(takes(get('Host: a\r\nX-Name: caf\xe9')), true, 'obs-text in a value');
  assert.deepEqual(lane.parse(get('Host: a')), { url: '/lane/x?a=1', headerText: 'Host: a', match: true });
  // node:http's
  assert.equal(takes(get('User-Agent: x')), false, 'no Host');
  assert.equal(takes('GET /lane/x HTTP/1.1'), false, 'no headers at all');
  assert.equal(takes(get('Host : a')), false, 'space before the colon');
  assert.equal(takes(get('Host: a\r\n folded')), false, 'obsolete line folding');
  assert.equal(takes(get('Host: a\nX: b')), false, 'bare LF');
  assert.equal(takes(get('Host: a\r\nX: \x01')), false, 'control character in a value');
  assert.equal(takes(get('Host: a\r\nConnection: close')), false);
  assert.equal(takes(get('Host: a\r\nConnection: keep-alive, Upgrade')), false);
  for (const h of ['Content-Length: 0', 'Transfer-Encoding: chunked', 'TE: trailers', 'Trailer: x', 'Expect: 100-continue', 'Upgrade: websocket']) {
    assert.equal(takes(get(`Host: a\r\n${h}`)), false, h);
  }
  assert.equal(takes(get('Host: a', '/other/x')), false, 'not a lane path');
  assert.equal(takes(get('Host: a', '/lane/a b')), false, 'space in the target');
  assert.equal(takes(get('Host: a', '/lane/\xe9')), false, 'non-ASCII target');
  assert.equal(takes('POST /lane/x HTTP/1.1\r\nHost: a'), false);
  assert.equal(takes('GET /lane/x HTTP/1.0\r\nHost: a'), false);
  assert.equal(takes('GET  /lane/x HTTP/1.1\r\nHost: a'), false);
  assert.equal(takes(get(['Host: a', ...Array.from({ length: 64 }, (_, i) => `X-${i}: y`)].join('\r\n'))), false, 'more than 64 header lines');
});

test('pipelined bytes behind a parked request are read up to one head, then the socket waits; all are answered after', async (t) => {
  const h = await harness(t, { headersMs: 60_000, keepAliveMs: 60_000 });
  const serverSockets: Socket[] = [];
  h.server.on('connection', (s: Socket) => serverSockets.push(s));
  const c = await client(t, h.port);
  c.socket.write('GET /lane/hold HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 0; i < 200 && h.held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(h.held.length, 1);
  // 4,000 pipelined requests of 256 bytes: 1 MiB behind the parked one.
  const one = `GET /lane/x HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(256 - 42)}\r\n\r\n`;
  assert.equal(one.length, 256);
  c.socket.write(one.repeat(4000));
  // Give the kernel time to move what it will (bounded polling, not a timed assertion).
  let last = -1;
  for (let i = 0; i < 100 && serverSockets[0].bytesRead !== last; i++) {
    last = serverSockets[0].bytesRead;
    await new Promise((r) => setTimeout(r, 20));
  }
  // One head's worth (16 KiB) plus at most a read or two of 64 KiB, not the megabyte.
  assert.ok(serverSockets[0].bytesRead < 16_384 + 3 * 65_536, `read ${serverSockets[0].bytesRead} bytes while the request was parked`);
  sendJson(h.held[0], 200, '{"late":true}');
  for (let i = 0; i < 500 && h.served() < 4001; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(h.served(), 4001);
  for (let i = 0; i < 200 && (c.received().match(/\{"ok":true\}/g) ?? []).length < 4000; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal((c.received().match(/\{"ok":true\}/g) ?? []).length, 4000);
});
