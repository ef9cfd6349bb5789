/**
 * The signature forms of signing.ts reproduce the SDKs' own signatures: the JavaScript SDK's five
 * worked examples (wire-protocol.md §9), a getFileUrl URL made by the real JS SDK at test time, and
 * three vectors computed by the real Python SDK's utils.sign_request (pubnub/python 10.4.0,
 * utils.py L190-218) for fixed inputs (timestamp 1700000000, publish key demo-pub, subscribe key
 * demo-sub, secret demo-secret). A form that drifts from its SDK fails here before it misleads
 * the conformance suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import PubNub from 'pubnub';
import { signJavaScript, signJavaScriptFileUrl, signPython } from './signing.ts';
import type { Method, SignInput } from './types.ts';
import { qs } from './sdks/shared.ts';

const keys = { publishKey: 'demo-pub', subscribeKey: 'demo-sub', secretKey: 'demo-secret' };
const JS_COMMON = 'uuid=admin-1&pnsdk=PubNub-JS-Nodejs%2F12.0.3&timestamp=1700000000';

function input(method: Method, path: string, query: string, body = ''): SignInput {
  return { method, path, query: qs(query), body, keys, signsEncoded: new Set() };
}

test('signJavaScript reproduces the five worked examples of wire-protocol.md §9', () => {
  const grantBody =
    '{"ttl":15,"permissions":{"resources":{"channels":{"ch1":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}';
  const cases: Array<[SignInput, string]> = [
    [
      input('GET', '/publish/demo-pub/demo-sub/0/ch1/0/%7B%22text%22%3A%22hello%22%7D', `store=0&${JS_COMMON}`),
      'v2.UdgdIWW9lPzM8yGlJgpHA_J3hXxYi702sCwcM_WTdJk',
    ],
    [input('POST', '/publish/demo-pub/demo-sub/0/ch1/0', JS_COMMON, '{"text":"hello"}'), 'v2.frjXUKqnMoLojjPRmODsFy89tKgNOApzwvty3JS6kUs'],
    [
      input('GET', '/v2/auth/grant/sub-key/demo-sub', `channel=ch1%2Cch%202&auth=auth-a&r=1&w=1&m=0&d=0&g=0&j=0&u=0&ttl=60&${JS_COMMON}`),
      'v2.7qaFAy06Y4JU5TneZMbtc-vgnxxAVCrb6tAmgxOvw2s',
    ],
    [input('POST', '/v3/pam/demo-sub/grant', JS_COMMON, grantBody), 'v2.8YnvABMsZkrCfGgdNa1uF4DLjl-Kr2NH8EU53Bq_WiU'],
    [input('DELETE', '/v3/pam/demo-sub/grant/p0F2AkF0', JS_COMMON), 'v2.PJuNmgDp0_FyouD-2Z85btF_cqwkuIngqAxNXrAZDYA'],
  ];
  for (const [i, expected] of cases) assert.equal(signJavaScript(i), expected, `${i.method} ${i.path}`);
});

test('signJavaScriptFileUrl reproduces the signature of a URL made by the real SDK getFileUrl', () => {
  const pubnub = new PubNub({ ...keys, userId: 'admin-1', origin: '127.0.0.1:9', ssl: false } as ConstructorParameters<typeof PubNub>[0]);
  try {
    const url = new URL(pubnub.getFileUrl({ channel: 'ch 1', id: 'abc-1', name: 'a b.txt' }));
    const rawQuery = url.search.slice(1);
    const signature = qs(rawQuery).find(([k]) => k === 'signature')?.[1];
    assert.ok(signature, 'the URL is signed');
    const unsigned = rawQuery
      .split('&')
      .filter((p) => !p.startsWith('signature='))
      .join('&');
    assert.equal(signJavaScriptFileUrl(input('GET', url.pathname, unsigned)), signature);
    // And it is not the GET form: a verifier that only tries GET refuses it.
    assert.notEqual(signJavaScript(input('GET', url.pathname, unsigned)), signature);
  } finally {
    pubnub.destroy();
  }
});

test('signPython reproduces vectors computed by the real Python SDK (v1 for POST /publish, v2 otherwise)', () => {
  const common = 'pnsdk=PubNub-Python%2F10.4.0&uuid=py-user&timestamp=1700000000';
  assert.equal(
    signPython(input('POST', '/publish/demo-pub/demo-sub/0/ch1/0', `store=1&${common}`, '{"text": "via post"}')),
    '4yerZlmS09VbunJ2T7f_fyFXD1lM9_f881FjjxPEcZk=',
  );
  assert.equal(
    signPython(input('GET', '/publish/demo-pub/demo-sub/0/ch1/0/%7B%22a%22%3A%201%7D', `store=1&${common}`)),
    'v2.mUEw9krS_wGYfls05z6kM5XqprpNQVl_G6CxIj8T3Gs',
  );
  assert.equal(
    signPython(input('PATCH', '/v2/objects/demo-sub/uuids/py-user', `include=custom,status&${common}`, '{"name": "Ann"}')),
    'v2.SFc3N_cArRUM3nUBOPSiLfz2z1WhmSNccgHjYyZDKGg',
  );
});
