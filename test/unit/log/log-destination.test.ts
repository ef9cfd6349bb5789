import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LogDestination } from '../../../src/log-destination.ts';
import { createLogger } from '../../../src/log.ts';
import { tempDir } from '../../helpers/start-server.ts';
import { waitFor } from '../../helpers/wait-for.ts';

test('lines reach the descriptor in order; drain resolves once they are written', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  t.after(() => closeSync(fd));
  const out = new LogDestination({ fd });
  const log = createLogger({ level: 'info', destination: out });
  for (let i = 0; i < 500; i++) log.info({ i }, 'line');
  await out.drain(5000);
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).i);
  assert.deepEqual(
    lines,
    Array.from({ length: 500 }, (_, i) => i),
  );
  assert.equal(out.brokenBy, null);
});

test('a descriptor that fails (EBADF here, EPIPE for a dead pipe) stops logging: no throw, nothing retried, drain resolves', async () => {
  // A descriptor number nothing has open (closing a real one could see its number reused meanwhile).
  const out = new LogDestination({ fd: 987_654 });
  const log = createLogger({ level: 'info', destination: out });
  log.info('first');
  await waitFor(() => out.brokenBy !== null, 'the failure is noticed');
  assert.equal(out.brokenBy, 'EBADF');
  for (let i = 0; i < 1000; i++) log.info({ i }, 'after the failure');
  assert.equal(out.buffered, 0, 'nothing is held for a dead stream');
  await out.drain(5000);
});

test('a reader that stops reading costs bounded memory: lines past the cap are dropped, counted and reported later', {
  skip: process.platform === 'win32' && 'needs mkfifo',
}, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // Both ends in this process, non-blocking: a full pipe answers EAGAIN instead of parking a thread.
  const writeFd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  t.after(() => {
    closeSync(writeFd);
    closeSync(readFd);
  });
  const cap = 64 * 1024;
  const out = new LogDestination({ fd: writeFd, maxBufferedBytes: cap, retryDelayMs: 5 });
  const line = 'x'.repeat(1000) + '\n';
  for (let i = 0; i < 1000; i++) out.write(line); // 1 MB into a 64 KiB pipe and a 64 KiB buffer
  assert.ok(out.buffered <= cap, `buffered ${out.buffered}`);
  assert.ok(out.dropped > 0);
  const dropped = out.dropped;

  let read = '';
  const chunk = Buffer.alloc(65536);
  await waitFor(
    () => {
      try {
        const n = readSync(readFd, chunk, 0, chunk.length, null);
        read += chunk.subarray(0, n).toString();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      return read.includes('log lines dropped');
    },
    'the drop report',
    10_000,
  );
  const report = JSON.parse(read.split('\n').find((l) => l.includes('log lines dropped'))!);
  assert.equal(report.droppedLines, dropped);
  assert.equal(report.level, 40);
  assert.equal(out.brokenBy, null);
});
