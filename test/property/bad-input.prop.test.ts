import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startServer, OPEN_KEYSET, PAM_KEYSET } from '../helpers/start-server.ts';

/**
 * Random, mostly malformed requests against every route family: the answer is always a protocol-shaped
 * client error or success (never a 5xx, never a hang, never a body that is not JSON), and the server lives on.
 */
const ROUTES = [
  '/publish/{pub}/{sub}/0/{ch}/0/{payload}',
  '/signal/{pub}/{sub}/0/{ch}/0/{payload}',
  '/v2/subscribe/{sub}/{ch}/0',
  '/v2/presence/sub-key/{sub}/channel/{ch}',
  '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat',
  '/v2/presence/sub-key/{sub}/channel/{ch}/leave',
  '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{ch}/data',
  '/v2/presence/sub-key/{sub}/uuid/{ch}',
  '/v2/history/sub-key/{sub}/channel/{ch}',
  '/v3/history/sub-key/{sub}/channel/{ch}',
  '/v3/history/sub-key/{sub}/message-counts/{ch}',
  '/v1/channel-registration/sub-key/{sub}/channel-group/{ch}',
  '/v2/auth/grant/sub-key/{sub}',
  '/v3/pam/{sub}/grant',
  '/v3/pam/{sub}/grant/{payload}',
  '/v2/objects/{sub}/uuids/{ch}',
  '/v2/objects/{sub}/channels/{ch}/uuids',
  '/v1/message-actions/{sub}/channel/{ch}/message/{payload}',
  '/v1/files/{sub}/channels/{ch}/generate-upload-url',
  '/v1/files/{sub}/channels/{ch}/files',
];
const PARAMS = [
  'tt',
  'start',
  'end',
  'count',
  'max',
  'heartbeat',
  'state',
  'meta',
  'store',
  'ttl',
  'channel-group',
  'add',
  'remove',
  'filter-expr',
  'filter',
  'sort',
  'limit',
  'include',
  'auth',
  'signature',
  'timestamp',
  'r',
  'w',
  'channel',
  'custom_message_type',
  'timetoken',
  'channelsTimetoken',
];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    '0',
    '-1',
    'null',
    '1e400',
    '%',
    '%E0%A4%A',
    '{',
    '[]',
    '{"a":1}',
    '"x"',
    '..',
    '.',
    'a.*',
    'x-pnpres',
    ',',
    '99999999999999999999999',
    'v2.abc',
    'p0F2AkF0',
  ),
);
const segment = text.map((s) => encodeURIComponent(s).replace(/%25/g, '%'));

test('no request shape makes the server answer 5xx or non-JSON, or fall over', { timeout: 120_000 }, async (t) => {
  const server = await startServer({ store: 'memory', overrides: { subscribe: { longPollTimeoutSec: 1 } } });
  t.after(() => server.stop());
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      fc.constantFrom(OPEN_KEYSET, PAM_KEYSET, { publishKey: 'x', subscribeKey: 'y', secretKey: '' }),
      segment,
      segment,
      fc.array(fc.tuple(fc.constantFrom(...PARAMS), segment), { maxLength: 5 }),
      fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'),
      fc.option(text, { nil: undefined }),
      async (route, keyset, ch, payload, params, method, body) => {
        const path = route
          .replace('{pub}', keyset.publishKey)
          .replace('{sub}', keyset.subscribeKey)
          .replace(/\{ch\}/g, ch || 'c')
          .replace('{payload}', payload || 'p');
        const query = params.map(([k, v]) => `${k}=${v}`).join('&');
        const res = await fetch(`${server.url}${path}?uuid=fuzz&${query}`, {
          method,
          body: method === 'GET' ? undefined : body,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(5000),
        });
        const raw = await res.text();
        assert.ok(res.status < 500, `${method} ${path}?${query} → ${res.status} ${raw.slice(0, 200)}`);
        if (raw.length > 0 && !(res.headers.get('content-type') ?? '').includes('xml') && !path.includes('/files/')) {
          assert.doesNotThrow(() => JSON.parse(raw), `${method} ${path} answered non-JSON: ${raw.slice(0, 100)}`);
        }
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261126 },
  );
  const alive = await fetch(`${server.url}/time/0`);
  assert.equal(alive.status, 200);
});
