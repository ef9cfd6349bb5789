import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLikePattern, type LikeMeter, type LikeOptions } from '../../src/app-context/like-pattern.ts';

/**
 * The linear LIKE matcher against two independent references: a dynamic-programming glob matcher
 * (characters compared by a RegExp with the iu flags) and the RegExp the filters used to build.
 * Inputs stay short so both references are fast; the step bound is checked on every run.
 */

type Atom = { star: true } | { star: false; ch: string };

/** The pattern as the languages define it: `*` wildcard, `\*` a literal star where escapes exist. */
function atoms(pattern: string, options: LikeOptions): Atom[] {
  const out: Atom[] = [];
  const cps = [...pattern];
  for (let i = 0; i < cps.length; i++) {
    if (options.starEscape && cps[i] === '\\' && cps[i + 1] === '*') {
      out.push({ star: false, ch: '*' });
      i++;
    } else if (cps[i] === '*') out.push({ star: true });
    else out.push({ star: false, ch: cps[i] });
  }
  return out;
}

// The syntax characters and `/`: the only identity escapes the `u` flag allows (`\-` is a SyntaxError there).
const escapeRegExp = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const sameChar = (a: string, b: string) => new RegExp(`^${escapeRegExp(a)}$`, 'iu').test(b);

/** match[i][j]: the first i atoms match the first j code points. O(|pattern|·|value|). */
function referenceDp(pattern: string, value: string, options: LikeOptions): boolean {
  const p = atoms(pattern, options);
  const v = [...value];
  let row = new Array<boolean>(v.length + 1).fill(false);
  row[0] = true;
  for (const a of p) {
    const next = new Array<boolean>(v.length + 1).fill(false);
    if (a.star) {
      next[0] = row[0];
      for (let j = 1; j <= v.length; j++) next[j] = row[j] || next[j - 1];
    } else {
      for (let j = 1; j <= v.length; j++) next[j] = row[j - 1] && sameChar(a.ch, v[j - 1]);
    }
    row = next;
  }
  return row[v.length];
}

/** The RegExp app-context/filter.ts built before issue 9 (fine on short inputs). */
function oldRegExp(pattern: string, options: LikeOptions): RegExp {
  let source = '';
  for (const a of atoms(pattern, options)) source += a.star ? '[\\s\\S]*' : escapeRegExp(a.ch);
  return new RegExp(`^${source}$`, 'iu');
}

/** Case pairs and folding oddities, astral letters, line breaks, the escape and the wildcard. */
const TRICKY = [
  'a',
  'A',
  'b',
  'B',
  'k',
  'K',
  '\u212a',
  's',
  'S',
  'ſ',
  'ß',
  'ẞ',
  'σ',
  'ς',
  'Σ',
  'ı',
  'I',
  'i',
  'İ',
  '\u0390',
  '\u1fd3',
  'ﬅ',
  'ﬆ',
  '😀',
  '𐐀',
  '𐐨',
  '\n',
  '\\',
  '*',
];
const trickyString = (maxLength: number) => fc.array(fc.constantFrom(...TRICKY), { maxLength }).map((a) => a.join(''));
const options = fc.constantFrom<LikeOptions>({ starEscape: true }, { starEscape: false });
const codePoints = (s: string) => [...s].length;

function run(pattern: string, value: string, o: LikeOptions): { matched: boolean; steps: number } {
  const meter: LikeMeter = { steps: 0 };
  return { matched: compileLikePattern(pattern, o).matches(value, meter), steps: meter.steps };
}

test('LIKE agrees with a reference DP matcher, within 2·|value| + |pattern| comparisons', () => {
  const starPattern = fc.array(fc.oneof(fc.constant('*'), fc.constantFrom('a', 'b', 'A', 'ab', 'ba', 'aab')), { maxLength: 10 }).map((p) => p.join(''));
  const abValue = fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', 'A') });
  fc.assert(
    fc.property(fc.oneof(starPattern, trickyString(8)), fc.oneof(abValue, trickyString(16)), options, (pattern, value, o) => {
      const r = run(pattern, value, o);
      assert.equal(r.matched, referenceDp(pattern, value, o));
      assert.ok(r.steps <= 2 * codePoints(value) + codePoints(pattern), `${r.steps} steps`);
    }),
    { numRuns: 2000 },
  );
});

test('LIKE agrees with the RegExp it replaces on arbitrary Unicode', () => {
  const anyString = (maxLength: number) => fc.oneof(fc.string({ maxLength, unit: 'binary' }), trickyString(maxLength));
  const withStars = fc.tuple(anyString(6), anyString(6), anyString(6)).map(([a, b, c]) => `${a}*${b}*${c}`);
  fc.assert(
    fc.property(fc.oneof(anyString(10), withStars), anyString(20), options, (pattern, value, o) => {
      assert.equal(compileLikePattern(pattern, o).matches(value), oldRegExp(pattern, o).test(value));
    }),
    // A counterexample once found: `-` must reach the RegExp unescaped under the `u` flag.
    {
      numRuns: 2000,
      examples: [
        ['-**', '', { starEscape: true }],
        ['a-b*', 'A-Bc', { starEscape: false }],
      ],
    },
  );
});

test('adversarial star patterns on long values stay within the linear bound', () => {
  const piece = fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom('a', 'b') });
  const pattern = fc.array(piece, { minLength: 1, maxLength: 30 }).map((ps) => `*${ps.join('*')}*b`);
  const value = fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.constantFrom('', 'b', 'ab')).map(([n, end]) => 'a'.repeat(n) + end);
  fc.assert(
    fc.property(pattern, value, (p, v) => {
      const r = run(p, v, { starEscape: false });
      assert.ok(r.steps <= 2 * v.length + p.length, `${p} on ${v.length} characters: ${r.steps} steps`);
    }),
    { numRuns: 300 },
  );
});
