import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { HttpListener } from '../../../src/app/http-listener.ts';

/** One GET on its own connection; resolves with the body. */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a stop answers parked work, lets an in-flight request finish, refuses new connections, then resolves', async (t) => {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => void held.push(res));
  const listener = new HttpListener(server);
  t.after(() => server.closeAllConnections());
  assert.equal(listener.isServing, false);
  await listener.listen(0, '127.0.0.1');
  assert.equal(listener.isServing, true);
  const port = listener.port;

  const answer = get(port);
  await once(server, 'request');
  assert.equal(listener.connections, 1);

  let answeredParked = false;
  listener.stopAccepting(() => (answeredParked = true));
  assert.equal(answeredParked, true);
  assert.equal(listener.isServing, false);
  const refused = connect(port, '127.0.0.1');
  await assert.rejects(once(refused, 'connect'), { code: 'ECONNREFUSED' });

  // The stop's sweep runs at least once while the request is in flight (stopAccepting made the first call).
  let idleCloses = 0;
  const swept = new Promise<void>((resolve) => {
    const closeIdle = server.closeIdleConnections.bind(server);
    server.closeIdleConnections = () => {
      closeIdle();
      if (++idleCloses === 1) resolve();
    };
  });
  const closed = listener.closed();
  await swept;
  // The request was in flight when the stop began: it still gets its whole answer.
  held[0].end('finished');
  assert.equal(await answer, 'finished');
  await closed;
});

test('stopping a listener that never listened resolves', async () => {
  const listener = new HttpListener(createServer());
  listener.stopAccepting(() => {});
  await listener.closed();
  assert.equal(listener.isServing, false);
});
