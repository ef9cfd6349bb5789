import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { clusterWorkerCount, isWorkerReady, restartDelayMs, RESTART_BASE_MS, RESTART_MAX_MS } from '../../src/cluster.ts';

const onRedis = { PARLEY_REDIS_URL: 'redis://127.0.0.1:6379', PARLEY_PUBLISH_KEY: 'p', PARLEY_SUBSCRIBE_KEY: 's' };
const issuesOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues.join('\n');
  }
  assert.fail('no ConfigError');
};

test('cluster.workers is off by default and takes off, auto or a count from the env and from a file', () => {
  assert.equal(loadConfig({ env: {} }).cluster.workers, 'off');
  assert.equal(loadConfig({ env: { ...onRedis, PARLEY_CLUSTER_WORKERS: 'auto' } }).cluster.workers, 'auto');
  assert.equal(loadConfig({ env: { ...onRedis, PARLEY_CLUSTER_WORKERS: '4' } }).cluster.workers, 4);
  assert.equal(loadConfig({ env: { ...onRedis, PARLEY_CLUSTER_WORKERS: '0' } }).cluster.workers, 0);
  assert.equal(loadConfig({ env: onRedis, overrides: { cluster: { workers: 3 } } }).cluster.workers, 3);
  assert.match(
    issuesOf(() => loadConfig({ env: { ...onRedis, PARLEY_CLUSTER_WORKERS: 'many' } })),
    /cluster\.workers: off, auto or a number of workers from 0 to 256/,
  );
  assert.match(
    issuesOf(() => loadConfig({ env: { ...onRedis, PARLEY_CLUSTER_WORKERS: '1000' } })),
    /cluster\.workers: Too big/,
  );
});

test('cluster.workers needs the redis engine and configured keysets, and says why', () => {
  for (const kind of ['sqlite', 'memory']) {
    const text = issuesOf(() => loadConfig({ env: { PARLEY_STORE: kind, PARLEY_CLUSTER_WORKERS: '2', PARLEY_PUBLISH_KEY: 'p', PARLEY_SUBSCRIBE_KEY: 's' } }));
    assert.match(
      text,
      new RegExp(
        `cluster\\.workers is 2 but store\\.kind is "${kind}": worker processes share subscriptions, history and grants only through the redis engine`,
      ),
    );
  }
  const noKeys = issuesOf(() => loadConfig({ env: { PARLEY_REDIS_URL: 'redis://127.0.0.1:6379', PARLEY_CLUSTER_WORKERS: 'auto' } }));
  assert.match(noKeys, /cluster\.workers is "auto" but no keyset is configured/);
  // Off, or 0, asks for nothing.
  assert.doesNotThrow(() => loadConfig({ env: { PARLEY_STORE: 'sqlite', PARLEY_CLUSTER_WORKERS: '0' } }));
  assert.doesNotThrow(() => loadConfig({ env: { PARLEY_STORE: 'memory', PARLEY_CLUSTER_WORKERS: 'off' } }));
});

test('worker count: off and 0 are no cluster, auto is one per CPU, N is N', () => {
  assert.equal(clusterWorkerCount('off', 8), 0);
  assert.equal(clusterWorkerCount(0, 8), 0);
  assert.equal(clusterWorkerCount('auto', 8), 8);
  assert.equal(clusterWorkerCount('auto', 0), 1);
  assert.equal(clusterWorkerCount(3, 8), 3);
});

test('restart backoff doubles per quick crash from 100 ms and stops at 30 s', () => {
  assert.equal(restartDelayMs(1), RESTART_BASE_MS);
  assert.equal(restartDelayMs(2), 2 * RESTART_BASE_MS);
  assert.equal(restartDelayMs(5), 16 * RESTART_BASE_MS);
  assert.equal(restartDelayMs(9), 25_600);
  assert.equal(restartDelayMs(10), RESTART_MAX_MS);
  assert.equal(restartDelayMs(10_000), RESTART_MAX_MS);
  for (let n = 1; n < 40; n++) assert.ok(restartDelayMs(n + 1) >= restartDelayMs(n));
});

test('only a well-formed ready message counts', () => {
  assert.equal(isWorkerReady({ parley: 'ready', url: 'http://127.0.0.1:1', isDemoOn: false }), true);
  assert.equal(isWorkerReady({ parley: 'ready' }), false);
  assert.equal(isWorkerReady({ cmd: 'NODE_CLUSTER' }), false);
  assert.equal(isWorkerReady(null), false);
  assert.equal(isWorkerReady('ready'), false);
});
