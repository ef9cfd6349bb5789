import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEnvelope, type EnvelopeInput } from '../../../src/realtime/envelope.ts';
import { AnswerEncoder, wireFor } from '../../../src/protocol/wire.ts';

const input = (over: Partial<EnvelopeInput> = {}): EnvelopeInput => ({
  subscribeKey: 'sub',
  channel: 'ch',
  timetoken: 17_000_000_000_000_001n,
  publisher: 'alice',
  payload: '{"text":"hi"}',
  meta: null,
  customMessageType: null,
  type: 0,
  stored: true,
  ...over,
});

test('a message in the subscribe wire format (wire-protocol.md §3): optional fields only when set, never e:0', () => {
  assert.equal(
    wireFor(createEnvelope(input(), 7), null),
    '{"a":"1","f":0,"i":"alice","p":{"t":"17000000000000001","r":7},"k":"sub","c":"ch","d":{"text":"hi"}}',
  );
  assert.equal(
    wireFor(createEnvelope(input({ publisher: null, meta: '{"m":1}', customMessageType: 'chat-msg', type: 3 }), 1), 'g1'),
    '{"a":"1","f":0,"p":{"t":"17000000000000001","r":1},"k":"sub","c":"ch","d":{"text":"hi"},"u":{"m":1},"cmt":"chat-msg","e":3,"b":"g1"}',
  );
  assert.equal(JSON.parse(wireFor(createEnvelope(input({ channel: 'a"b', publisher: 'x\ny' }), 1), 'a.*')).b, 'a.*');
});

test('a message is encoded once and reused by every answer that carries it', () => {
  const env = createEnvelope(input(), 1);
  assert.equal(env.encoded, undefined, 'nothing is encoded before an answer needs it');
  const first = wireFor(env, null);
  assert.equal(env.encoded, first.slice(0, -1));
  // Whatever the envelope holds is what goes out: it is not encoded again.
  env.encoded = '{"kept":true';
  assert.equal(wireFor(env, null), '{"kept":true}');
  assert.equal(wireFor(env, 'g'), '{"kept":true,"b":"g"}');
});

test('answer bodies: {t, m} for the node region, one buffer for polls handed the same items', () => {
  const encoder = new AnswerEncoder(4);
  const items = [
    { env: createEnvelope(input(), 4), via: null },
    { env: createEnvelope(input({ timetoken: 17_000_000_000_000_002n }), 4), via: 'g' },
  ];
  const body = encoder.encode(17_000_000_000_000_002n, items);
  const parsed = JSON.parse(body.toString('utf8'));
  assert.deepEqual(parsed.t, { t: '17000000000000002', r: 4 });
  assert.deepEqual(
    parsed.m.map((m: { p: { t: string } }) => m.p.t),
    ['17000000000000001', '17000000000000002'],
  );
  assert.equal(parsed.m[1].b, 'g');
  assert.equal(encoder.encode(17_000_000_000_000_002n, items), body, 'the same items at the same cursor: the same buffer');
  assert.notEqual(encoder.encode(17_000_000_000_000_002n, [...items]), body, 'another array is encoded on its own');
  assert.equal(encoder.encode(5n, []).toString(), '{"t":{"t":"5","r":4},"m":[]}');
});
