import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalQueryFromParams,
  computeSignature,
  encodeString,
  canonicalQueryOf,
  signRequest,
  stringToSign,
  v1Applies,
  verifyRequestSignature,
} from '../../../src/access/signature.ts';
import { parseQuery } from '../../../src/protocol/query.ts';

const KEYS = { publishKey: 'demo-pub', secretKey: 'demo-secret' };
const SDK = 'PubNub-JS-Nodejs/12.0.3';
const NOW_MS = 1_700_000_000_000;

interface Example {
  name: string;
  method: string;
  path: string;
  params: Record<string, string>;
  body: string;
  signed: string;
  signature: string;
}

/** The five worked examples of wire-protocol.md §9, verbatim. */
const EXAMPLES: Example[] = [
  {
    name: '1: GET publish',
    method: 'GET',
    path: '/publish/demo-pub/demo-sub/0/ch1/0/%7B%22text%22%3A%22hello%22%7D',
    params: { uuid: 'admin-1', pnsdk: SDK, timestamp: '1700000000', store: '0' },
    body: '',
    signed:
      'GET\ndemo-pub\n/publish/demo-pub/demo-sub/0/ch1/0/%7B%22text%22%3A%22hello%22%7D\npnsdk=PubNub-JS-Nodejs%2F12.0.3&store=0&timestamp=1700000000&uuid=admin-1\n',
    signature: 'v2.UdgdIWW9lPzM8yGlJgpHA_J3hXxYi702sCwcM_WTdJk',
  },
  {
    name: '2: POST publish (signed as GET, body ignored)',
    method: 'POST',
    path: '/publish/demo-pub/demo-sub/0/ch1/0',
    params: { uuid: 'admin-1', pnsdk: SDK, timestamp: '1700000000' },
    body: '{"text":"hello"}',
    signed: 'GET\ndemo-pub\n/publish/demo-pub/demo-sub/0/ch1/0\npnsdk=PubNub-JS-Nodejs%2F12.0.3&timestamp=1700000000&uuid=admin-1\n',
    signature: 'v2.frjXUKqnMoLojjPRmODsFy89tKgNOApzwvty3JS6kUs',
  },
  {
    name: '3: GET v2 grant',
    method: 'GET',
    path: '/v2/auth/grant/sub-key/demo-sub',
    params: {
      channel: 'ch1,ch 2',
      auth: 'auth-a',
      r: '1',
      w: '1',
      m: '0',
      d: '0',
      g: '0',
      j: '0',
      u: '0',
      ttl: '60',
      uuid: 'admin-1',
      pnsdk: SDK,
      timestamp: '1700000000',
    },
    body: '',
    signed:
      'GET\ndemo-pub\n/v2/auth/grant/sub-key/demo-sub\nauth=auth-a&channel=ch1%2Cch%202&d=0&g=0&j=0&m=0&pnsdk=PubNub-JS-Nodejs%2F12.0.3&r=1&timestamp=1700000000&ttl=60&u=0&uuid=admin-1&w=1\n',
    signature: 'v2.7qaFAy06Y4JU5TneZMbtc-vgnxxAVCrb6tAmgxOvw2s',
  },
  {
    name: '4: POST grant token (body signed)',
    method: 'POST',
    path: '/v3/pam/demo-sub/grant',
    params: { uuid: 'admin-1', pnsdk: SDK, timestamp: '1700000000' },
    body: '{"ttl":15,"permissions":{"resources":{"channels":{"ch1":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}',
    signed:
      'POST\ndemo-pub\n/v3/pam/demo-sub/grant\npnsdk=PubNub-JS-Nodejs%2F12.0.3&timestamp=1700000000&uuid=admin-1\n' +
      '{"ttl":15,"permissions":{"resources":{"channels":{"ch1":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}',
    signature: 'v2.8YnvABMsZkrCfGgdNa1uF4DLjl-Kr2NH8EU53Bq_WiU',
  },
  {
    name: '5: DELETE revoke token',
    method: 'DELETE',
    path: '/v3/pam/demo-sub/grant/p0F2AkF0',
    params: { uuid: 'admin-1', pnsdk: SDK, timestamp: '1700000000' },
    body: '',
    signed: 'DELETE\ndemo-pub\n/v3/pam/demo-sub/grant/p0F2AkF0\npnsdk=PubNub-JS-Nodejs%2F12.0.3&timestamp=1700000000&uuid=admin-1\n',
    signature: 'v2.PJuNmgDp0_FyouD-2Z85btF_cqwkuIngqAxNXrAZDYA',
  },
];

/** Raw query in the SDK's wire order (endpoint params first), encoded with encodeString. */
function rawQueryOf(params: Record<string, string>, signature?: string): string {
  const pairs = Object.entries(params).map(([k, v]) => `${k}=${encodeString(v)}`);
  if (signature !== undefined) pairs.push(`signature=${signature}`);
  return pairs.join('&');
}

for (const ex of EXAMPLES) {
  test(`§9 example ${ex.name}: string to sign and signature reproduce exactly`, () => {
    const canonicalQuery = canonicalQueryFromParams(ex.params);
    const signed = stringToSign({ method: ex.method, publishKey: KEYS.publishKey, path: ex.path, canonicalQuery, body: ex.body });
    assert.equal(signed, ex.signed);
    assert.equal(computeSignature(KEYS.secretKey, signed), ex.signature);
    assert.equal(signRequest(KEYS, { method: ex.method, path: ex.path, params: ex.params, body: ex.body }), ex.signature);
  });

  test(`§9 example ${ex.name}: the verifier accepts it from the raw query`, () => {
    const rawQuery = rawQueryOf(ex.params, ex.signature);
    assert.equal(canonicalQueryOf(parseQuery(rawQuery).pairs).canonicalQuery, canonicalQueryFromParams(ex.params));
    const verdict = verifyRequestSignature({ method: ex.method, path: ex.path, query: parseQuery(rawQuery), body: ex.body }, KEYS, NOW_MS);
    assert.deepEqual(verdict, { ok: true, form: 'v2' });
  });
}

test("encodeString encodes ! ~ * ' ( ) on top of encodeURIComponent", () => {
  assert.equal(encodeString("a!b~c*d'e(f)g h/é"), 'a%21b%7Ec%2Ad%27e%28f%29g%20h%2F%C3%A9');
  assert.equal(encodeString('A-Z_a.z09'), 'A-Z_a.z09');
});

test('the verifier re-encodes values, so a client that leaves ! and * raw still verifies', () => {
  const params = { uuid: 'me!*', pnsdk: SDK, timestamp: '1700000000' };
  const signature = signRequest(KEYS, { method: 'GET', path: '/time0', params });
  const rawQuery = `uuid=me!*&pnsdk=PubNub-JS-Nodejs/12.0.3&timestamp=1700000000&signature=${signature}`;
  assert.deepEqual(verifyRequestSignature({ method: 'GET', path: '/time0', query: parseQuery(rawQuery), body: '' }, KEYS, NOW_MS), { ok: true, form: 'v2' });
});

test('repeated keys (App Context sort) are signed sorted by value, as the SDK does for arrays', () => {
  const params = { sort: ['updated:desc', 'name'], uuid: 'u', timestamp: '1700000000' };
  const signature = signRequest(KEYS, { method: 'GET', path: '/v2/objects/demo-sub/uuids', params });
  assert.equal(canonicalQueryFromParams(params), 'sort=name&sort=updated%3Adesc&timestamp=1700000000&uuid=u');
  const rawQuery = `sort=updated%3Adesc&sort=name&uuid=u&timestamp=1700000000&signature=${signature}`;
  assert.deepEqual(verifyRequestSignature({ method: 'GET', path: '/v2/objects/demo-sub/uuids', query: parseQuery(rawQuery), body: '' }, KEYS, NOW_MS), {
    ok: true,
    form: 'v2',
  });
});

test('PATCH bodies are signed; a changed body fails', () => {
  const params = { uuid: 'u', timestamp: '1700000000' };
  const path = '/v2/objects/demo-sub/uuids/u';
  const signature = signRequest(KEYS, { method: 'PATCH', path, params, body: '{"name":"a"}' });
  const rawQuery = rawQueryOf(params, signature);
  assert.deepEqual(verifyRequestSignature({ method: 'PATCH', path, query: parseQuery(rawQuery), body: '{"name":"a"}' }, KEYS, NOW_MS), {
    ok: true,
    form: 'v2',
  });
  const verdict = verifyRequestSignature({ method: 'PATCH', path, query: parseQuery(rawQuery), body: '{"name":"b"}' }, KEYS, NOW_MS);
  assert.equal(verdict.ok ? 'ok' : verdict.code, 'SIGNATURE_MISMATCH');
});

test('timestamp window: ±60 s by default, configurable, checked against the given clock', () => {
  const ex = EXAMPLES[0];
  const req = { method: ex.method, path: ex.path, query: parseQuery(rawQueryOf(ex.params, ex.signature)), body: '' };
  assert.deepEqual(verifyRequestSignature(req, KEYS, NOW_MS + 60_000), { ok: true, form: 'v2' });
  assert.deepEqual(verifyRequestSignature(req, KEYS, NOW_MS - 60_000), { ok: true, form: 'v2' });
  const late = verifyRequestSignature(req, KEYS, NOW_MS + 61_000);
  assert.equal(late.ok ? 'ok' : late.code, 'SIGNATURE_EXPIRED');
  const early = verifyRequestSignature(req, KEYS, NOW_MS - 61_000);
  assert.equal(early.ok ? 'ok' : early.code, 'SIGNATURE_EXPIRED');
  assert.deepEqual(verifyRequestSignature(req, KEYS, NOW_MS + 300_000, 300), { ok: true, form: 'v2' });
});

test('missing, empty, wrong-key and malformed signatures are refused with their codes', () => {
  const ex = EXAMPLES[0];
  const code = (rawQuery: string, keys = KEYS) => {
    const v = verifyRequestSignature({ method: ex.method, path: ex.path, query: parseQuery(rawQuery), body: '' }, keys, NOW_MS);
    return v.ok ? 'ok' : v.code;
  };
  assert.equal(code(rawQueryOf(ex.params)), 'SIGNATURE_MISSING');
  assert.equal(code(rawQueryOf(ex.params, '')), 'SIGNATURE_MISMATCH');
  assert.equal(code(rawQueryOf(ex.params, ex.signature), { publishKey: 'demo-pub', secretKey: 'other-secret' }), 'SIGNATURE_MISMATCH');
  assert.equal(code(rawQueryOf(ex.params, ex.signature.slice(0, -1))), 'SIGNATURE_MISMATCH');
  // Bad percent-encoding never reaches the verifier: the one parse refuses the request (400).
  assert.throws(() => code(`${rawQueryOf(ex.params, ex.signature)}&bad=%E0%A4%A`), /not valid percent-encoding/);
  // A timestamp that is not a number of seconds is never inside the window, even correctly signed.
  const params = { ...ex.params, timestamp: 'soon' };
  assert.equal(code(rawQueryOf(params, signRequest(KEYS, { method: 'GET', path: ex.path, params }))), 'SIGNATURE_EXPIRED');
});

test('the SDK retry bug: a query signed with a stale signature inside is refused', () => {
  // §0 item 12: the retry signs a query that still holds the previous signature.
  const ex = EXAMPLES[0];
  const staleParams: Record<string, string> = { ...ex.params, signature: 'v2.previous' };
  const canonicalWithStale = Object.keys(staleParams)
    .sort()
    .map((k) => `${k}=${encodeString(staleParams[k])}`)
    .join('&');
  const bad = computeSignature(
    KEYS.secretKey,
    stringToSign({ method: 'GET', publishKey: KEYS.publishKey, path: ex.path, canonicalQuery: canonicalWithStale, body: '' }),
  );
  const v = verifyRequestSignature({ method: 'GET', path: ex.path, query: parseQuery(rawQueryOf(ex.params, bad)), body: '' }, KEYS, NOW_MS);
  assert.equal(v.ok ? 'ok' : v.code, 'SIGNATURE_MISMATCH');
});

// ---------------------------------------------------------------------------------------------
// Other SDKs' signature forms (sdk-differences.md §2)

const KEYSET = { ...KEYS, subscribeKey: 'demo-sub' };
const hmac = (text: string) => createHmac('sha256', KEYS.secretKey).update(text, 'utf8').digest('base64url');

test('v1 (Python, Kotlin, Go POST publish): sub\\npub\\npath\\nquery, padded or not, only where v1 applies', () => {
  const path = '/publish/demo-pub/demo-sub/0/ch1/0';
  const params = { uuid: 'py~1', pnsdk: 'PubNub-Python/10.0.0', timestamp: '1700000000' };
  // Python quotes with safe="~": the tilde stays raw in what it signs.
  const canonical = 'pnsdk=PubNub-Python%2F10.0.0&timestamp=1700000000&uuid=py~1';
  const unpadded = hmac(`demo-sub\ndemo-pub\n${path}\n${canonical}`);
  const padded = unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4);
  const raw = (sig: string) => `${rawQueryOf(params)}&signature=${sig}`;
  for (const sig of [padded, unpadded]) {
    assert.deepEqual(verifyRequestSignature({ method: 'POST', path, query: parseQuery(raw(sig)), body: '{"a":1}' }, KEYSET, NOW_MS), { ok: true, form: 'v1' });
  }
  // Not where a v1 signature could be replayed with another body or method, and not when refused by config.
  const grant = '/v3/pam/demo-sub/grant';
  const grantSig = hmac(`demo-sub\ndemo-pub\n${grant}\n${canonical}`);
  const refused = verifyRequestSignature({ method: 'POST', path: grant, query: parseQuery(raw(grantSig)), body: '{}' }, KEYSET, NOW_MS);
  assert.equal(refused.ok ? 'ok' : refused.code, 'SIGNATURE_MISMATCH');
  const off = verifyRequestSignature({ method: 'POST', path, query: parseQuery(raw(padded)), body: '' }, KEYSET, NOW_MS, { acceptV1: false });
  assert.equal(off.ok ? 'ok' : off.code, 'SIGNATURE_MISMATCH');
  assert.equal(v1Applies('GET', '/v2/history/sub-key/demo-sub/channel/a'), true);
  assert.equal(v1Applies('DELETE', '/v3/history/sub-key/demo-sub/channel/a'), false);
});

test('v2 with the real method and body (Go POST fire) verifies, and covers the body', () => {
  const path = '/publish/demo-pub/demo-sub/0/ch1/0';
  const params = { uuid: 'go', timestamp: '1700000000', norep: 'true', store: '0' };
  const text = `POST\ndemo-pub\n${path}\n${canonicalQueryFromParams(params)}\n{"fire":1}`;
  const sig = `v2.${hmac(text)}`;
  const query = parseQuery(`${rawQueryOf(params)}&signature=${sig}`);
  assert.deepEqual(verifyRequestSignature({ method: 'POST', path, query, body: '{"fire":1}' }, KEYSET, NOW_MS), { ok: true, form: 'v2' });
  const swapped = verifyRequestSignature({ method: 'POST', path, query, body: '{"fire":2}' }, KEYSET, NOW_MS);
  assert.equal(swapped.ok ? 'ok' : swapped.code, 'SIGNATURE_MISMATCH');
});

test('the bytes as sent (Dart: + for spaces, ~ raw) verify, and mean what the one parse says', () => {
  const path = '/v2/objects/demo-sub/uuids/u1';
  const rawPairs = ['uuid=dart+user~1', 'timestamp=1700000000', 'include=custom'];
  const signedText = `GET\ndemo-pub\n${path}\n${[...rawPairs].sort().join('&')}\n`;
  const query = parseQuery(`${rawPairs.join('&')}&signature=v2.${hmac(signedText)}`);
  assert.equal(query.get('uuid'), 'dart user~1');
  assert.deepEqual(verifyRequestSignature({ method: 'GET', path, query, body: '' }, KEYSET, NOW_MS), { ok: true, form: 'v2' });
});
