import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeysetGrants } from '../../src/access/grant-index.ts';
import { isV2Wildcard, PatternCache, validateRegexPattern } from '../../src/access/patterns.ts';
import { READ } from '../../src/access/permissions.ts';

const NOW = 1_700_000_000_000;
const segment = fc.constantFrom('a', 'b', 'ab', 'x-1', 'é');
const name = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.')),
  fc.string({ minLength: 1, maxLength: 10 }),
);

function channelGrant(resource: string): KeysetGrants {
  const g = new KeysetGrants('s');
  g.apply([{ subscribeKey: 's', level: 'channel', resource, authKey: '', perms: READ, ttlMinutes: 0, expiresAtMs: null }]);
  return g;
}

/** Reference for `P.*`: startsWith the prefix up to and including the last dot. */
const referenceCovers = (wildcard: string, channel: string) => channel.startsWith(wildcard.slice(0, -1));

test('a grant on exactly c matches c and nothing else', () => {
  fc.assert(
    fc.property(name, name, (c, n) => {
      fc.pre(!c.includes('*'));
      assert.equal(channelGrant(c).allows('channels', n, 'k', READ, NOW), n === c);
    }),
    { numRuns: 1000 },
  );
});

test('a.* grants behave as the reference prefix matcher on random names', () => {
  const wildcard = fc.array(segment, { minLength: 1, maxLength: 2 }).map((s) => `${s.join('.')}.*`);
  fc.assert(
    fc.property(wildcard, name, (w, n) => {
      assert.ok(isV2Wildcard(w));
      assert.equal(channelGrant(w).allows('channels', n, 'k', READ, NOW), referenceCovers(w, n));
    }),
    { numRuns: 1000 },
  );
});

test('a compiled pattern agrees with new RegExp as a full-string match', () => {
  const atom = fc.constantFrom('a', 'b', '.', '[ab]', '\\.', '(?:ab)', '[^a]');
  const quant = fc.constantFrom('', '', '*', '+', '?', '{1,2}');
  const pattern = fc
    .array(
      fc.tuple(atom, quant).map(([a, q]) => a + q),
      { minLength: 1, maxLength: 5 },
    )
    .chain((parts) => fc.constantFrom(parts.join(''), `^${parts.join('')}$`, `${parts[0]}|${parts.slice(1).join('') || 'b'}`));
  const subject = fc.string({ maxLength: 8, unit: fc.constantFrom('a', 'b', '.', 'c') });
  const cache = new PatternCache();
  fc.assert(
    fc.property(pattern, subject, (p, s) => {
      fc.pre(validateRegexPattern(p).ok);
      assert.equal(cache.get(p).test(s), new RegExp(`^(?:${p})$`).test(s));
    }),
    { numRuns: 1000 },
  );
});

test('nested repeating quantifiers are always rejected at grant time', () => {
  const inner = fc.constantFrom('a', '.', '[a-z]', '\\d', 'ab');
  const repeat = fc.constantFrom('*', '+', '{2,}', '{1,5}', '*?', '+?');
  fc.assert(
    fc.property(inner, repeat, repeat, fc.constantFrom('(', '(?:'), fc.constantFrom('', 'x', '^'), (a, q1, q2, open, prefix) => {
      assert.equal(validateRegexPattern(`${prefix}${open}${a}${q1})${q2}`).ok, false);
      assert.equal(validateRegexPattern(`${prefix}${open}x${open}${a}${q1}))${q2}`).ok, false, 'nested one level deeper');
    }),
  );
});

// Issue 9 §3: bounded quantifiers pass the shape screen, so patterns run on RE2 (linear time) and
// the grant-time guard caps the program size. Short subjects keep the RegExp reference fast.
test('stacked bounded repeats are refused as too large or agree with RegExp', () => {
  const atom = fc.constantFrom('a', '.', '[ab]', '(?:ab)', '(?:a?)');
  const repeat = fc.tuple(fc.nat({ max: 3 }), fc.integer({ min: 1, max: 60 })).map(([lo, span]) => `{${lo},${lo + span}}`);
  const pattern = fc
    .array(
      fc.tuple(atom, repeat).map(([a, r]) => a + r),
      { minLength: 1, maxLength: 8 },
    )
    .map((p) => p.join(''));
  const subject = fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'b') });
  const cache = new PatternCache();
  fc.assert(
    fc.property(pattern, subject, (p, s) => {
      const check = cache.validate(p);
      if (!check.ok) {
        assert.match(check.reason, /too large|nested quantifiers/, p);
        return;
      }
      assert.equal(cache.get(p).test(s), new RegExp(`^(?:${p})$`).test(s), `${p} on ${s}`);
    }),
    { numRuns: 500 },
  );
});

test('a pattern with lookaround anywhere is refused at grant time', () => {
  const look = fc.constantFrom('(?=a)', '(?!a)', '(?<=a)', '(?<!a)', '(?=.*x)');
  const part = fc.constantFrom('', 'a', 'chat-', '.*', '[a-z]+');
  fc.assert(
    fc.property(part, look, part, (before, l, after) => {
      const check = validateRegexPattern(before + l + after);
      assert.equal(check.ok, false);
      if (!check.ok) assert.match(check.reason, /linear time/);
    }),
  );
});
