import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWellFormedUnicode } from '../../src/access/patterns.ts';
import { encodeString, signatureCoversBody, signRequest, verifyRequestSignature } from '../../src/access/signature.ts';
import { isParleyError } from '../../src/errors.ts';
import { parseQuery } from '../../src/protocol/query.ts';

/**
 * Issue 9 §5: random re-encodings of signed requests (names, values, order, repeats, bodies) are each
 * either refused or have exactly the signed effect. "Effect" is what every handler reads: the one
 * parsed query (name → value) and the body. The pipeline under test is the server's own: parseQuery
 * (protocol/query.ts), then verifyRequestSignature over that parse.
 */

const KEYS = { publishKey: 'demo-pub', secretKey: 'demo-secret' };
const NOW_MS = 1_700_000_000_000;
const TIMESTAMP = String(NOW_MS / 1000);

const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/).filter((k) => k !== 'signature' && k !== 'timestamp');
const tricky = fc.constantFrom('+', ' ', '%', '&', '=', '#', '!', '*', '~', "'", '(', ')', ',', '/', ':', 'é', '😀', 'a', 'Z', '0');
const value = fc
  .array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 8 })
  .map((a) => a.join(''))
  .filter(isWellFormedUnicode);
const params = fc.dictionary(name, value, { minKeys: 1, maxKeys: 5 });
const method = fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE');
const path = fc.constantFrom(
  '/v2/auth/grant/sub-key/demo-sub',
  '/v3/pam/demo-sub/grant',
  '/publish/demo-pub/demo-sub/0/ch1/0',
  '/v2/objects/demo-sub/uuids/u%201',
);

/** One character of a value as some client might put it on the wire. */
function spell(ch: string, how: number): string {
  const canonical = encodeString(ch);
  switch (how % 5) {
    case 0:
      return canonical;
    case 1: // raw, where a raw character would not change the parse structure
      return /[&=#%+ ]/.test(ch) ? canonical : ch;
    case 2: // lower-case hex
      return canonical.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
    case 3: // a space as +, a plus raw (the classic confusion)
      return ch === ' ' ? '+' : ch === '+' ? '+' : canonical;
    default: // encode even unreserved characters
      return [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
}

interface Mutation {
  spellings: number[];
  encodeNameAt: number | null;
  order: number[];
  duplicate: number | null;
  drop: number | null;
  extra: boolean;
  bodyChange: string | null;
}

/** `arb` one time in `1 + nullWeight`, else null: most runs change one thing or nothing. */
const sometimes = <T>(arb: fc.Arbitrary<T>, nullWeight = 4): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: nullWeight }, { arbitrary: arb, weight: 1 });

const mutation: fc.Arbitrary<Mutation> = fc.record({
  spellings: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
  encodeNameAt: sometimes(fc.nat()),
  order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
  duplicate: sometimes(fc.nat()),
  drop: sometimes(fc.nat()),
  extra: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  bodyChange: sometimes(fc.string({ maxLength: 5 })),
});

function wire(pairs: Array<[string, string]>, m: Mutation): string {
  let k = 0;
  const parts = pairs.map(([n, v], i) => {
    const rawName = m.encodeNameAt !== null && m.encodeNameAt % pairs.length === i ? `%${n.charCodeAt(0).toString(16)}${n.slice(1)}` : n;
    const rawValue = [...v].map((ch) => spell(ch, m.spellings[k++ % m.spellings.length])).join('');
    return `${rawName}=${rawValue}`;
  });
  if (m.duplicate !== null) parts.push(parts[m.duplicate % parts.length]);
  if (m.drop !== null && parts.length > 1) parts.splice(m.drop % parts.length, 1);
  if (m.extra) parts.push('zzextra=1');
  // A deterministic shuffle from the order seeds.
  return parts
    .map((p, i) => ({ p, key: m.order[i % m.order.length] * 31 + i }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.p)
    .join('&');
}

test('property: every re-encoding of a signed request is refused or has exactly the signed effect', () => {
  let accepted = 0;
  let refusedCount = 0;
  fc.assert(
    fc.property(method, path, params, fc.string({ maxLength: 20 }), mutation, (m, pth, p0, body, mut) => {
      const signedParams: Record<string, string> = { ...p0, timestamp: TIMESTAMP };
      const signature = signRequest(KEYS, { method: m, path: pth, params: signedParams, body });
      const pairs: Array<[string, string]> = [...Object.entries(signedParams), ['signature', signature]];
      const raw = wire(pairs, mut);
      const sentBody = mut.bodyChange === null ? body : body + mut.bodyChange + 'x';
      let query: ReturnType<typeof parseQuery>;
      try {
        query = parseQuery(raw);
      } catch (e) {
        assert.ok(isParleyError(e) && e.code === 'INVALID_PARAM');
        refusedCount++;
        return;
      }
      const verdict = verifyRequestSignature({ method: m, path: pth, query, body: sentBody }, KEYS, NOW_MS);
      if (!verdict.ok) {
        refusedCount++;
        return;
      }
      accepted++;
      // Accepted: the parse is exactly what was signed, and so is the body where the signature covers it.
      const effect = Object.fromEntries(query.pairs.filter((x) => x.name !== 'signature').map((x) => [x.name, x.value]));
      assert.deepEqual(effect, signedParams);
      assert.equal(query.pairs.length, Object.keys(signedParams).length + 1);
      if (signatureCoversBody(m, pth)) assert.equal(sentBody, body);
    }),
    { numRuns: 3000 },
  );
  // Both outcomes must actually occur, or the property proves nothing.
  assert.ok(accepted > 100, `accepted ${accepted}`);
  assert.ok(refusedCount > 100, `refused ${refusedCount}`);
});
