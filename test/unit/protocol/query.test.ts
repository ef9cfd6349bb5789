import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_QUERY_PARAMS, parseQuery } from '../../../src/protocol/query.ts';
import { isParleyError } from '../../../src/errors.ts';

const refused = (raw: string, pattern: RegExp) =>
  assert.throws(
    () => parseQuery(raw),
    (e: unknown) => isParleyError(e) && e.code === 'INVALID_PARAM' && pattern.test(e.message),
  );

test('values are decoded once, + is a space, names are plain', () => {
  const q = parseQuery('uuid=a%2Bb&state=%7B%22x%22%3A1%7D&ee&channel=p+q&pnsdk=PubNub-JS-Nodejs%2F12.0.3');
  assert.equal(q.get('uuid'), 'a+b');
  assert.equal(q.get('state'), '{"x":1}');
  assert.equal(q.get('ee'), '');
  assert.equal(q.get('channel'), 'p q');
  assert.deepEqual(
    q.pairs.map((p) => p.name),
    ['uuid', 'state', 'ee', 'channel', 'pnsdk'],
  );
  assert.equal(parseQuery('').size, 0);
  assert.equal(parseQuery('a=1&&b=2').size, 2);
});

test('percent-encoded or unusual parameter names are refused', () => {
  refused('%63hannel=x', /not in plain form/);
  refused('ch%61nnel=x', /not in plain form/);
  refused('a b=1', /not in plain form/);
  refused('=1', /not in plain form/);
  refused('a[0]=1', /not in plain form/);
});

test('a repeated name is refused, except App Context sort which is a list', () => {
  refused('auth=a&auth=b', /auth is given more than once/);
  refused('signature=a&x=1&signature=a', /more than once/);
  const q = parseQuery('sort=name&sort=updated%3Adesc');
  assert.deepEqual(q.all('sort'), ['name', 'updated:desc']);
  assert.equal(q.get('sort'), 'name');
});

test('bad percent-encoding and too many parameters are refused', () => {
  refused('a=%E0%A4%A', /not valid percent-encoding/);
  refused('a=%zz', /not valid percent-encoding/);
  const many = Array.from({ length: MAX_QUERY_PARAMS + 1 }, (_, i) => `p${i}=1`).join('&');
  refused(many, /more than 64/);
});

test('property: parse never throws anything but INVALID_PARAM, and get() agrees with pairs', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (raw) => {
      try {
        const q = parseQuery(raw);
        for (const p of q.pairs) assert.equal(q.all(p.name).includes(p.value), true);
        assert.equal(new Set(q.pairs.map((p) => p.name)).size, q.size);
      } catch (e) {
        assert.ok(isParleyError(e) && e.code === 'INVALID_PARAM', String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
