import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createLifecycle, startSteps, stopSteps, type LifecycleStep } from '../../../src/app/lifecycle.ts';
import { wire, type Wiring } from '../../../src/app/wiring.ts';
import { loadConfig } from '../../../src/config/load.ts';
import type { Keyset } from '../../../src/keyset.ts';

const KEYSET: Keyset = { publishKey: 'pub-l', subscribeKey: 'sub-l', secretKey: 'secret-l-0123456789abcdef0123456789' };

function recordingSteps(log: string[], names: string[]): LifecycleStep[] {
  return names.map((name) => ({
    name,
    start: () => void log.push(`start ${name}`),
    preClose: () => void log.push(`preClose ${name}`),
    close: async () => void log.push(`close ${name}`),
  }));
}

test('steps start in order; stop runs every preClose in reverse, then every close in reverse', async () => {
  const log: string[] = [];
  const steps = [...recordingSteps(log, ['a', 'b']), { name: 'no-op' }, ...recordingSteps(log, ['c'])];
  await startSteps(steps);
  await stopSteps(steps);
  assert.deepEqual(log, ['start a', 'start b', 'start c', 'preClose c', 'preClose b', 'preClose a', 'close c', 'close b', 'close a']);
});

test('a failing start rejects and the later steps do not start; stop still runs every step', async () => {
  const log: string[] = [];
  const failing: LifecycleStep = {
    name: 'listener',
    start: async () => {
      throw new Error('EADDRINUSE');
    },
  };
  const steps = [...recordingSteps(log, ['a']), failing, ...recordingSteps(log, ['b'])];
  await assert.rejects(startSteps(steps), /EADDRINUSE/);
  assert.deepEqual(log, ['start a']);
  await stopSteps(steps);
  assert.deepEqual(log.slice(1), ['preClose b', 'preClose a', 'close b', 'close a']);
});

/** Replaces `obj[method]` with a wrapper that records `label` and calls through. */
function spy<T extends object, K extends keyof T>(obj: T, method: K, label: string, log: string[]): void {
  const original = obj[method] as (...args: unknown[]) => unknown;
  obj[method] = ((...args: unknown[]) => {
    log.push(label);
    return original.apply(obj, args);
  }) as T[K];
}

function spyOnParley(w: Wiring, log: string[]): void {
  spy(w.broker, 'ready', 'broker ready', log);
  spy(w.rotation, 'start', 'secrets loaded', log);
  spy(w.access, 'start', 'access mirrors loaded', log);
  spy(w.presence, 'start', 'presence started', log);
  spy(w.listener, 'listen', 'listening', log);
  spy(w.nodeStats, 'start', 'node stats started', log);
  const stopAccepting = w.listener.stopAccepting.bind(w.listener);
  w.listener.stopAccepting = (answerParked) => {
    log.push('stop accepting');
    stopAccepting(() => {
      log.push('answer parked polls');
      answerParked();
    });
  };
  spy(w.pipeline, 'drain', 'drain pipeline', log);
  spy(w.presence, 'close', 'presence stopped', log);
  spy(w.nodeStats, 'close', 'node stats stopped', log);
  spy(w.listener, 'closed', 'wait for in-flight requests', log);
  spy(w.sync, 'close', 'cluster sync closed', log);
  spy(w.access, 'close', 'access closed', log);
  spy(w.broker, 'close', 'broker closed', log);
  spy(w.stores, 'close', 'stores closed', log);
}

test('the node starts its parts in dependency order and stops them gracefully in reverse, the broker before the stores', async () => {
  const config = loadConfig({
    env: {},
    overrides: { host: '127.0.0.1', port: 0, store: { kind: 'memory' }, keysets: [KEYSET], demo: { enabled: false }, console: { enabled: false } },
  });
  const w = wire({ config, log: pino({ level: 'silent' }) });
  const log: string[] = [];
  spyOnParley(w, log);
  const lifecycle = createLifecycle(w);

  const { port, url } = await lifecycle.start();
  assert.ok(port > 0);
  assert.equal(url, `http://127.0.0.1:${port}`);
  assert.deepEqual(await w.services.ready(), { ok: true });
  assert.deepEqual(log.splice(0), ['broker ready', 'secrets loaded', 'access mirrors loaded', 'presence started', 'listening', 'node stats started']);

  const stopping = lifecycle.stop();
  assert.equal(w.listener.isServing, false, 'stop() stops serving before it first yields');
  await stopping;
  assert.deepEqual(log, [
    'stop accepting',
    'answer parked polls',
    'drain pipeline',
    'presence stopped',
    'node stats stopped',
    'wait for in-flight requests',
    'cluster sync closed',
    'access closed',
    'broker closed',
    'stores closed',
  ]);
  assert.deepEqual(await w.services.ready(), { ok: false, reason: 'not serving (starting or shutting down)' });
});
