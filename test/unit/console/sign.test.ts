import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyRequestSignature, signRequest as serverSign } from '../../../src/access/signature.ts';
import { parseQuery } from '../../../src/protocol/query.ts';
// The console's browser signer, run here on Node's WebCrypto: the same file the page loads.
import { encodeString, importSecret, signRequest } from '../../../src/console/public/sign.js';

const KEYS = { publishKey: 'demo-pub', secretKey: 'demo-secret', subscribeKey: 'demo-sub' };
const SDK = { uuid: 'admin-1', pnsdk: 'PubNub-JS-Nodejs/12.0.3', timestamp: '1700000000' };

/** wire-protocol.md §9 worked examples: the SDK's own signatures. */
test('the browser signer reproduces the wire-protocol §9 worked examples', async () => {
  const key = await importSecret(KEYS.secretKey);
  const cases = [
    {
      method: 'GET',
      path: '/publish/demo-pub/demo-sub/0/ch1/0/%7B%22text%22%3A%22hello%22%7D',
      query: { ...SDK, store: '0' },
      want: 'v2.UdgdIWW9lPzM8yGlJgpHA_J3hXxYi702sCwcM_WTdJk',
    },
    {
      method: 'POST',
      path: '/publish/demo-pub/demo-sub/0/ch1/0',
      query: SDK,
      body: '{"text":"hello"}',
      want: 'v2.frjXUKqnMoLojjPRmODsFy89tKgNOApzwvty3JS6kUs',
    },
    {
      method: 'GET',
      path: '/v2/auth/grant/sub-key/demo-sub',
      query: { channel: 'ch1,ch 2', auth: 'auth-a', r: '1', w: '1', m: '0', d: '0', g: '0', j: '0', u: '0', ttl: '60', ...SDK },
      want: 'v2.7qaFAy06Y4JU5TneZMbtc-vgnxxAVCrb6tAmgxOvw2s',
    },
    {
      method: 'POST',
      path: '/v3/pam/demo-sub/grant',
      query: SDK,
      body: '{"ttl":15,"permissions":{"resources":{"channels":{"ch1":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}',
      want: 'v2.8YnvABMsZkrCfGgdNa1uF4DLjl-Kr2NH8EU53Bq_WiU',
    },
    { method: 'DELETE', path: '/v3/pam/demo-sub/grant/p0F2AkF0', query: SDK, want: 'v2.PJuNmgDp0_FyouD-2Z85btF_cqwkuIngqAxNXrAZDYA' },
  ];
  for (const c of cases) {
    assert.equal(
      await signRequest(key, { method: c.method, publishKey: KEYS.publishKey, path: c.path, query: c.query, body: c.body ?? '' }),
      c.want,
      `${c.method} ${c.path}`,
    );
  }
});

const value = fc.string({ unit: 'grapheme', maxLength: 12 });
const paramName = fc.stringMatching(/^[a-z][a-z_-]{0,8}$/).filter((n) => n !== 'signature' && n !== 'timestamp');

test('whatever the console signs, the server verifies as sent (random queries, bodies, methods), and nothing else', async () => {
  const key = await importSecret(KEYS.secretKey);
  const nowMs = 1_700_000_000_000;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'),
      fc.dictionary(paramName, value, { maxKeys: 6 }),
      fc.string({ maxLength: 40 }),
      async (method, params, body) => {
        const path = '/v1/admin/demo-sub/kick';
        const query: Record<string, string> = { ...params, timestamp: String(nowMs / 1000) };
        const signature = await signRequest(key, { method, publishKey: KEYS.publishKey, path, query, body });
        // The request line exactly as api.js builds it.
        const raw = `${Object.keys(query)
          .map((k) => `${k}=${encodeString(query[k])}`)
          .join('&')}&signature=${encodeString(signature)}`;
        const sent = method === 'POST' || method === 'PATCH' ? body : '';
        const verdict = verifyRequestSignature({ method, path, query: parseQuery(raw), body: sent }, KEYS, nowMs);
        assert.equal(verdict.ok, true, JSON.stringify({ method, query, body }));
        assert.equal(signature, serverSign(KEYS, { method, path, params: query, body: sent }));
        // Another secret never verifies.
        const other = await signRequest(await importSecret('another-secret'), { method, publishKey: KEYS.publishKey, path, query, body });
        const forged = raw.replace(encodeString(signature), encodeString(other));
        assert.equal(verifyRequestSignature({ method, path, query: parseQuery(forged), body: sent }, KEYS, nowMs).ok, false);
      },
    ),
    { numRuns: 300 },
  );
});
