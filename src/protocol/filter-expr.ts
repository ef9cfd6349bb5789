import { ParleyError } from '../errors.ts';
import type { Envelope } from '../realtime/envelope.ts';

/**
 * PubNub's subscribe filter language (wire-protocol.md §3.6), compiled once per request into a
 * predicate over envelopes: `uuid`, `channel`, meta fields (bare, `meta.x`), payload fields (`data.x`),
 * == != < > <= >= LIKE (with `*`) CONTAINS, && || !, parentheses. A malformed expression is a 400.
 */
type Token = { t: 'id' | 'str' | 'num' | 'op' | '(' | ')'; v: string };
type Node = (env: Envelope) => unknown;

const MAX_LENGTH = 1024;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')') { out.push({ t: c, v: c }); i++; continue; }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw bad('unterminated string');
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) { out.push({ t: 'op', v: two }); i += 2; continue; }
    if ('<>!'.includes(c)) { out.push({ t: 'op', v: c }); i++; continue; }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (num) { out.push({ t: 'num', v: num[0] }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_.\-]*/.exec(src.slice(i));
    if (id) {
      const upper = id[0].toUpperCase();
      out.push(upper === 'LIKE' || upper === 'CONTAINS' ? { t: 'op', v: upper } : { t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    throw bad(`unexpected "${c}"`);
  }
  return out;
}

function bad(why: string): ParleyError {
  return new ParleyError('INVALID_PARAM', `filter-expr: ${why}`);
}

function meta(env: Envelope): Record<string, unknown> | null {
  if (env.parsedMeta === undefined) {
    try {
      const m = env.meta ? JSON.parse(env.meta) : null;
      env.parsedMeta = m && typeof m === 'object' ? m : null;
    } catch {
      env.parsedMeta = null;
    }
  }
  return env.parsedMeta ?? null;
}

function path(obj: unknown, parts: string[]): unknown {
  let cur = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function accessor(name: string): Node {
  if (name === 'uuid' || name === 'publisher') return (e) => e.publisher;
  if (name === 'channel') return (e) => e.channel;
  const parts = name.split('.');
  if (parts[0] === 'meta') return (e) => path(meta(e), parts.slice(1));
  if (parts[0] === 'data') {
    return (e) => {
      try {
        return path(JSON.parse(e.payload), parts.slice(1));
      } catch {
        return undefined;
      }
    };
  }
  return (e) => path(meta(e), parts);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  if (op === 'LIKE') {
    if (typeof a !== 'string' || typeof b !== 'string') return false;
    const re = new RegExp('^' + b.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i');
    return re.test(a);
  }
  if (op === 'CONTAINS') {
    if (Array.isArray(a)) return a.some((x) => String(x) === String(b));
    return typeof a === 'string' && a.includes(String(b));
  }
  const na = typeof a === 'number' ? a : typeof a === 'string' && a !== '' && !isNaN(Number(a)) ? Number(a) : NaN;
  const nb = typeof b === 'number' ? b : typeof b === 'string' && b !== '' && !isNaN(Number(b)) ? Number(b) : NaN;
  const numeric = !isNaN(na) && !isNaN(nb);
  switch (op) {
    case '==': return numeric ? na === nb : String(a) === String(b);
    case '!=': return numeric ? na !== nb : String(a) !== String(b);
    case '<': return numeric && na < nb;
    case '>': return numeric && na > nb;
    case '<=': return numeric && na <= nb;
    case '>=': return numeric && na >= nb;
  }
  return false;
}

export function compileFilter(src: string): (env: Envelope) => boolean {
  if (src.length > MAX_LENGTH) throw bad(`longer than ${MAX_LENGTH} characters`);
  const toks = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => toks[pos];
  const take = (): Token => {
    const t = toks[pos++];
    if (!t) throw bad('unexpected end');
    return t;
  };

  const operand = (): Node => {
    const t = take();
    if (t.t === 'id') return accessor(t.v);
    if (t.t === 'str') return () => t.v;
    if (t.t === 'num') return () => Number(t.v);
    throw bad(`expected a value, got "${t.v}"`);
  };
  const primary = (): Node => {
    const t = peek();
    if (t?.t === 'op' && t.v === '!') {
      take();
      const inner = primary();
      return (e) => !inner(e);
    }
    if (t?.t === '(') {
      take();
      const inner = or();
      if (take().t !== ')') throw bad('expected ")"');
      return inner;
    }
    const left = operand();
    const op = peek();
    if (op?.t === 'op' && ['==', '!=', '<', '>', '<=', '>=', 'LIKE', 'CONTAINS'].includes(op.v)) {
      take();
      const right = operand();
      return (e) => compare(op.v, left(e), right(e));
    }
    return (e) => Boolean(left(e));
  };
  const and = (): Node => {
    let left = primary();
    while (peek()?.v === '&&') {
      take();
      const l = left;
      const r = primary();
      left = (e) => Boolean(l(e)) && Boolean(r(e));
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (peek()?.v === '||') {
      take();
      const l = left;
      const r = and();
      left = (e) => Boolean(l(e)) || Boolean(r(e));
    }
    return left;
  };
  const root = or();
  if (pos !== toks.length) throw bad(`unexpected "${toks[pos].v}"`);
  return (env) => Boolean(root(env));
}
