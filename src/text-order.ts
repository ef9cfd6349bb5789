/**
 * One order for ids and string sort keys everywhere: Unicode code point order, which is also the byte
 * order of their UTF-8 (SQLite's BINARY collation, Redis's lexicographic ranges). JavaScript's `<`
 * compares UTF-16 code units instead, which puts U+E000–U+FFFF after the astral planes; a page read in
 * one order and cursored in the other would repeat or skip records.
 */

/** A UTF-16 code unit renumbered so that comparing units compares code points: surrogates (the astral planes) above U+E000–U+FFFF. */
function fixup(unit: number): number {
  return unit >= 0xd800 ? (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000) : unit;
}

/** Negative, zero or positive as `a` is before, equal to or after `b` in code point order. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}
