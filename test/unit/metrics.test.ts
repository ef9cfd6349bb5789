import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counter, Histogram, type Metric, Registry } from 'prom-client';
import { createParleyMetrics, DELIVERY_SECONDS_BUCKETS, HotCounter, HotHistogram, Metrics, REQUEST_SECONDS_BUCKETS } from '../../src/metrics.ts';
import { hasMetric, parseSamples, sampleValue } from '../helpers/prometheus-text.ts';

function fixture() {
  const metrics = new Metrics();
  return { metrics, m: createParleyMetrics(metrics) };
}

test('counters keep their names and labels, and value() reads what the scrape shows', async () => {
  const { metrics, m } = fixture();
  const v2 = { route: 'v2' };
  m.requests(v2);
  m.requests(v2);
  m.requests({ route: 'publish' });
  m.publishes({ kind: 'signal' });
  m.deliveries(undefined, 3);
  m.deliveries(undefined, 2);
  m.denials({ code: 'ACCESS_DENIED', operation: 'publish' });
  m.denials({ code: 'ACCESS_DENIED', operation: 'subscribe' });
  m.errors({ code: 'INVALID_PARAM' });
  m.capRefusals({ cap: 'maxConnections' });
  m.laneRequests();
  let parked = 4;
  metrics.gauge('parley_long_polls_parked', 'Long-polls currently parked', () => parked);
  parked = 5;

  const text = await metrics.render();
  const expected: Array<[string, Record<string, string>, number]> = [
    ['parley_requests_total', { route: 'v2' }, 2],
    ['parley_requests_total', { route: 'publish' }, 1],
    ['parley_publishes_total', { kind: 'signal' }, 1],
    // An unlabelled counter counts `by`, not 1 (prom-client reads a lone number as the amount).
    ['parley_deliveries_total', {}, 5],
    ['parley_access_denials_total', { code: 'ACCESS_DENIED', operation: 'publish' }, 1],
    ['parley_errors_total', { code: 'INVALID_PARAM' }, 1],
    ['parley_cap_refusals_total', { cap: 'maxConnections' }, 1],
    ['parley_lane_requests_total', {}, 1],
    ['parley_long_polls_parked', {}, 5],
  ];
  for (const [name, labels, value] of expected) {
    assert.equal(sampleValue(text, name, labels), value, `${name} ${JSON.stringify(labels)} in the scrape`);
    assert.equal(metrics.value(name, labels), value, `${name} ${JSON.stringify(labels)} by value()`);
  }
  assert.ok(hasMetric(text, 'parley_requests_total', 'counter'));
  assert.ok(hasMetric(text, 'parley_long_polls_parked', 'gauge'));
  // Without labels, or with some of them, value() sums the label sets that match.
  assert.equal(metrics.value('parley_requests_total'), 3);
  assert.equal(metrics.value('parley_access_denials_total', { code: 'ACCESS_DENIED' }), 2);
  assert.equal(metrics.value('parley_errors_total', { code: 'INTERNAL' }), 0);
  assert.equal(metrics.value('parley_no_such_metric'), 0);
});

test("request durations land in their route's buckets, one series per route", async () => {
  const { metrics, m } = fixture();
  const time = { endpoint: 'GET /time/0' };
  m.requestDuration(time, 0.003);
  m.requestDuration(time, 0.0004);
  m.requestDuration({ endpoint: 'GET /publish/:pub/:sub/0/:channel/0/:payload' }, 12);
  const text = await metrics.render();
  const at = (le: string, endpoint = 'GET /time/0') => sampleValue(text, 'parley_request_duration_seconds_bucket', { endpoint, le });
  assert.equal(at('0.0005'), 1);
  assert.equal(at('0.0025'), 1);
  assert.equal(at('0.005'), 2);
  assert.equal(at('+Inf'), 2);
  assert.equal(sampleValue(text, 'parley_request_duration_seconds_count', { endpoint: 'GET /time/0' }), 2);
  assert.ok(Math.abs(sampleValue(text, 'parley_request_duration_seconds_sum', { endpoint: 'GET /time/0' }) - 0.0034) < 1e-9);
  assert.equal(at('10', 'GET /publish/:pub/:sub/0/:channel/0/:payload'), 0, 'past the last bucket');
  assert.equal(at('+Inf', 'GET /publish/:pub/:sub/0/:channel/0/:payload'), 1);
  const bounds = parseSamples(text)
    .filter((s) => s.name === 'parley_request_duration_seconds_bucket' && s.labels.endpoint === 'GET /time/0')
    .map((s) => s.labels.le);
  assert.deepEqual(bounds, [...REQUEST_SECONDS_BUCKETS.map(String), '+Inf']);
});

test('publish→deliver counts from the timetoken to the answer, by poll; a timetoken ahead of the clock counts as 0', async () => {
  const { metrics, m } = fixture();
  const publishedMs = 1_700_000_000_000;
  m.publishToDeliver(BigInt(publishedMs) * 10_000n, publishedMs + 1500, false);
  m.publishToDeliver(BigInt(publishedMs) * 10_000n + 25_000n, publishedMs, true);
  const text = await metrics.render();
  const at = (poll: string, le: string) => sampleValue(text, 'parley_publish_to_deliver_seconds_bucket', { poll, le });
  assert.equal(at('immediate', '1'), 0);
  assert.equal(at('immediate', '2.5'), 1);
  assert.equal(sampleValue(text, 'parley_publish_to_deliver_seconds_sum', { poll: 'immediate' }), 1.5);
  assert.equal(at('parked', '0.001'), 1);
  assert.equal(sampleValue(text, 'parley_publish_to_deliver_seconds_sum', { poll: 'parked' }), 0);
  const bounds = parseSamples(text)
    .filter((s) => s.name === 'parley_publish_to_deliver_seconds_bucket' && s.labels.poll === 'parked')
    .map((s) => s.labels.le);
  assert.deepEqual(bounds, [...DELIVERY_SECONDS_BUCKETS.map(String), '+Inf']);
});

test("the process series are in every server's scrape, once, with their standard names", async () => {
  const a = new Metrics();
  const b = new Metrics();
  for (const text of [await a.render(), await b.render()]) {
    for (const [name, type] of [
      ['process_cpu_user_seconds_total', 'counter'],
      ['process_cpu_system_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_open_fds', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
      ['nodejs_gc_duration_seconds', 'histogram'],
    ]) {
      assert.ok(hasMetric(text, name, type), `${name} (${type})`);
      assert.equal(text.split('\n').filter((l) => l === `# TYPE ${name} ${type}`).length, 1, `${name} once`);
    }
    assert.ok(sampleValue(text, 'process_resident_memory_bytes') > 0);
  }
});

test('HotHistogram renders exactly as prom-client’s Histogram for the same observations', async () => {
  const bounds = [...REQUEST_SECONDS_BUCKETS];
  // Values on, between, below and past the bounds, and ones that are not numbers at all.
  const value = fc.oneof(fc.constantFrom(...bounds, 0, 11, 1e9), fc.double({ min: 0, max: 20, noNaN: true }));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('GET /a', 'POST /b', 'x"y\\z'), value), { maxLength: 60 }), async (obs) => {
      const theirs = new Registry();
      const ours = new Registry();
      const reference = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['endpoint'], buckets: bounds, registers: [theirs] });
      const hot = new HotHistogram('h_seconds', 'help', 'endpoint', bounds);
      ours.registerMetric(hot as unknown as Metric);
      for (const [endpoint, v] of obs) {
        reference.observe({ endpoint }, v);
        hot.cell(endpoint).observe(v);
      }
      assert.equal(await ours.metrics(), await theirs.metrics());
    }),
    { numRuns: 200 },
  );
});

test('HotCounter renders exactly as prom-client’s Counter for the same increments, and total() sums what it shows', async () => {
  const label = fc.constantFrom('a', 'b', 'x"y\\z', 'ü');
  const step = fc.tuple(fc.option(label, { nil: undefined }), fc.option(label, { nil: undefined }), fc.integer({ min: 0, max: 5 }));
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
      const theirs = new Registry();
      const ours = new Registry();
      const refPlain = new Counter({ name: 'plain_total', help: 'help', registers: [theirs] });
      const refTwo = new Counter({ name: 'two_total', help: 'help', labelNames: ['code', 'operation'], registers: [theirs] });
      const plain = new HotCounter('plain_total', 'help', []);
      const two = new HotCounter('two_total', 'help', ['code', 'operation']);
      ours.registerMetric(plain as unknown as Metric);
      ours.registerMetric(two as unknown as Metric);
      for (const [code, operation, by] of steps) {
        const labels: Record<string, string> = {};
        if (code !== undefined) labels.code = code;
        if (operation !== undefined) labels.operation = operation;
        refTwo.inc(labels, by);
        two.inc(labels, by);
        refPlain.inc(by);
        plain.inc(undefined, by);
      }
      assert.equal(await ours.metrics(), await theirs.metrics());
      assert.equal(
        plain.total(),
        steps.reduce((a, [, , by]) => a + by, 0),
      );
      assert.equal(
        two.total({ code: 'a' }),
        steps.filter(([c]) => c === 'a').reduce((a, [, , by]) => a + by, 0),
      );
    }),
    { numRuns: 200 },
  );
  assert.throws(() => new HotCounter('c_total', 'help', ['code']).inc({ nope: 'x' }, 1), /no label "nope"/);
  assert.throws(() => new HotCounter('c_total', 'help', []).inc(undefined, -1), /only goes up/);
});
