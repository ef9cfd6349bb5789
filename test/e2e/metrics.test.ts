import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DELIVERY_SECONDS_BUCKETS, REQUEST_SECONDS_BUCKETS } from '../../src/metrics.ts';
import { createFakeClock, type FakeClock } from '../helpers/fake-clock.ts';
import { hasMetric, sampleValue } from '../helpers/prometheus-text.ts';
import { OPEN_KEYSET, startServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const { publishKey: PUB, subscribeKey: SUB } = OPEN_KEYSET;

async function serve(t: TestContext, clock?: FakeClock): Promise<TestServer> {
  const server = await startServer({ store: 'memory', clock });
  t.after(() => server.stop());
  return server;
}

const scrape = async (s: TestServer): Promise<string> => (await fetch(`${s.url}/metrics`)).text();
/** The endpoints these tests time (method and route path, as the histogram labels them). */
const ENDPOINT: Record<string, string> = {
  time: 'GET /time/0',
  subscribe: 'GET /v2/subscribe/:sub/:channels/0',
  publish: 'GET /publish/:pub/:sub/0/:channel/0/:payload',
};
const requestCount = (text: string, endpoint: string) => sampleValue(text, 'parley_request_duration_seconds_count', { endpoint: ENDPOINT[endpoint] });
const deliverCount = (text: string, poll: string) => sampleValue(text, 'parley_publish_to_deliver_seconds_count', { poll });
const deliverBucket = (text: string, poll: string, le: string) => sampleValue(text, 'parley_publish_to_deliver_seconds_bucket', { poll, le });

async function handshake(s: TestServer, channel: string): Promise<string> {
  const res = await fetch(`${s.url}/v2/subscribe/${SUB}/${channel}/0?uuid=watcher`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { t: { t: string } }).t.t;
}

async function publish(s: TestServer, channel: string, message: unknown): Promise<void> {
  const res = await fetch(`${s.url}/publish/${PUB}/${SUB}/0/${channel}/0/${encodeURIComponent(JSON.stringify(message))}?uuid=publisher`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

test('a request is timed under its route; a parked long-poll is not, and its delivery is observed as parked', async (t) => {
  const s = await serve(t);
  const before = await scrape(s);
  assert.equal((await fetch(`${s.url}/time/0`)).status, 200);
  const afterTime = await scrape(s);
  assert.equal(requestCount(afterTime, 'time'), requestCount(before, 'time') + 1);
  assert.equal(
    sampleValue(afterTime, 'parley_request_duration_seconds_bucket', { endpoint: ENDPOINT.time, le: '+Inf' }),
    sampleValue(before, 'parley_request_duration_seconds_bucket', { endpoint: ENDPOINT.time, le: '+Inf' }) + 1,
  );
  assert.ok(sampleValue(afterTime, 'parley_request_duration_seconds_sum', { endpoint: ENDPOINT.time }) > 0);

  const cursor = await handshake(s, 'timed');
  const parked = await scrape(s);
  assert.equal(requestCount(parked, 'subscribe'), requestCount(afterTime, 'subscribe') + 1, 'the handshake answers at once: timed');
  const poll = fetch(`${s.url}/v2/subscribe/${SUB}/timed/0?tt=${cursor}&uuid=watcher`);
  await waitFor(() => s.parley.services.hub.parkedCount() === 1, 'the poll parks');
  await publish(s, 'timed', { n: 1 });
  const answer = await poll;
  assert.equal(answer.status, 200);
  assert.equal(((await answer.json()) as { m: unknown[] }).m.length, 1);

  const after = await scrape(s);
  assert.equal(requestCount(after, 'subscribe'), requestCount(parked, 'subscribe'), 'the parked poll is not timed (its wait is the hold)');
  assert.equal(requestCount(after, 'publish'), requestCount(parked, 'publish') + 1);
  assert.equal(deliverCount(after, 'parked'), deliverCount(parked, 'parked') + 1, 'one publish→deliver observation, parked');
  assert.equal(deliverCount(after, 'immediate'), deliverCount(parked, 'immediate'));
});

test('a poll that finds its message waiting is answered at once: timed as a request, publish→deliver is the time since the publish', async (t) => {
  const clock = createFakeClock();
  const s = await serve(t, clock);
  const cursor = await handshake(s, 'late');
  await publish(s, 'late', 'while the subscriber was away');
  clock.advance(1500);
  const before = await scrape(s);
  const res = await fetch(`${s.url}/v2/subscribe/${SUB}/late/0?tt=${cursor}&uuid=watcher`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { m: unknown[] }).m.length, 1);

  const after = await scrape(s);
  assert.equal(deliverCount(after, 'immediate'), deliverCount(before, 'immediate') + 1);
  assert.equal(deliverCount(after, 'parked'), deliverCount(before, 'parked'));
  // 1.5 s on the timetokens' clock: in the 2.5 s bucket, not the 1 s one.
  assert.equal(deliverBucket(after, 'immediate', '1'), deliverBucket(before, 'immediate', '1'));
  assert.equal(deliverBucket(after, 'immediate', '2.5'), deliverBucket(before, 'immediate', '2.5') + 1);
  assert.equal(requestCount(after, 'subscribe'), requestCount(before, 'subscribe') + 1, 'answered at once: timed');
});

test('/metrics is Prometheus text with the process series, and docs/metrics.md lists every Parley series and its buckets', async (t) => {
  const s = await serve(t);
  const res = await fetch(`${s.url}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  for (const [name, type] of [
    ['process_cpu_seconds_total', 'counter'],
    ['process_resident_memory_bytes', 'gauge'],
    ['nodejs_heap_size_used_bytes', 'gauge'],
    ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
    ['nodejs_gc_duration_seconds', 'histogram'],
    ['parley_request_duration_seconds', 'histogram'],
    ['parley_publish_to_deliver_seconds', 'histogram'],
    ['parley_connections', 'gauge'],
  ]) {
    assert.ok(hasMetric(text, name, type), `${name} (${type})`);
  }
  assert.ok(sampleValue(text, 'process_cpu_seconds_total') > 0);

  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const parleySeries = text
    .split('\n')
    .filter((l) => l.startsWith('# TYPE parley_'))
    .map((l) => l.split(' ')[2]);
  assert.ok(parleySeries.length >= 12);
  for (const name of parleySeries) assert.ok(doc.includes(`\`${name}\``), `${name} is in docs/metrics.md`);
  for (const buckets of [REQUEST_SECONDS_BUCKETS, DELIVERY_SECONDS_BUCKETS]) assert.ok(doc.includes(buckets.join(', ')), `buckets ${buckets.join(', ')}`);
});
