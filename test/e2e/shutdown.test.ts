import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { OPEN_KEYSET, spawnMain } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A cap on a hang, not a speed assertion: the default shutdown deadline is 10 s. */
const EXIT_BOUND_MS = 15_000;

/** Resolves with the exit code, or rejects when the process is still running after EXIT_BOUND_MS. */
function exitWithin(child: ChildProcess, boundMs = EXIT_BOUND_MS): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`still running ${boundMs} ms after SIGTERM`)), boundMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test('with the reader of its stdout gone (a dead log pipe), SIGTERM still stops the server', { timeout: 60_000 }, async (t) => {
  // Three at once: the old logger hung in most runs, depending on when its last write failed.
  const servers = await Promise.all([0, 1, 2].map(() => spawnMain(t)));
  for (const { child, url } of servers) {
    child.stdout!.destroy(); // close the read end: every later write to stdout fails with EPIPE
    await fetch(`${url}/time/0`);
  }
  for (const { child } of servers) child.kill('SIGTERM');
  const codes = await Promise.all(servers.map(({ child }) => exitWithin(child)));
  assert.deepEqual(codes, [0, 0, 0]);
  for (const { stderr } of servers) assert.match(stderr(), /writing the log failed \(EPIPE\); logging stopped/);
});

test('a stop that cannot finish by shutdownTimeoutSec ends the process with a non-zero code', { timeout: 60_000 }, async (t) => {
  const { child, url } = await spawnMain(t, {
    PARLEY_SHUTDOWN_TIMEOUT_SEC: '1',
    PARLEY_PUBLISH_KEY: OPEN_KEYSET.publishKey,
    PARLEY_SUBSCRIBE_KEY: OPEN_KEYSET.subscribeKey,
  });
  let logged = '';
  child.stdout!.on('data', (d) => (logged += d));
  // A client that sends half a body and stalls: its request stays in flight through the stop.
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(
    `POST /publish/${OPEN_KEYSET.publishKey}/${OPEN_KEYSET.subscribeKey}/0/ch/0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":`,
  );
  // Connected: the stalled socket plus this metrics request.
  await waitFor(async () => Number(/parley_connections (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1]) >= 2, 'the stalled client is connected');
  child.kill('SIGTERM');
  const code = await exitWithin(child);
  assert.notEqual(code, 0);
  assert.match(logged, /shutdown did not finish in time/);
});
