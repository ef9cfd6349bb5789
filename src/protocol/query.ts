/**
 * THE query parse. Every request's query string is parsed once, here, into one structure that the
 * signature verifier and every route handler read (security.md "one parse"). Before this, the
 * verifier and the handlers decoded the query differently, so a signed request could be re-encoded
 * after signing into one that verified yet meant something else (`%63hannel=` for `channel=`).
 *
 * Rules, each refusing the request with a 400 before anything else happens:
 * - A parameter name is plain: ASCII letters, digits and `_ . ~ -`, never percent-encoded. Every
 *   official SDK sends names that way (wire-protocol.md §1.1: "query keys are never encoded").
 * - A name appears once. The exception is a name whose value is a list by protocol (App Context
 *   `sort`, which the SDK sends as `sort=a&sort=b`): MULTI_VALUED.
 * - A value is percent-decoded once, with `+` meaning a space (form encoding, as Dart sends it); a
 *   value that is not valid percent-encoding is refused.
 * Empty segments (`a=1&&b=2`) are skipped; a name without `=` has the empty value.
 */
import { ParleyError } from '../errors.ts';

/** Names that may be given more than once; their values are read with `all()`. */
export const MULTI_VALUED: ReadonlySet<string> = new Set(['sort']);

const PLAIN_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;

/** Most parameters any request carries; SDKs send about a dozen. */
export const MAX_QUERY_PARAMS = 64;

/** One decoded parameter, in wire order. */
export interface QueryPair {
  readonly name: string;
  readonly value: string;
  /** The value exactly as sent, still encoded: some SDKs sign these bytes (signature.ts). */
  readonly raw: string;
}

/**
 * The parsed query. `get` answers the only value of a name (the first of a MULTI_VALUED one);
 * `pairs` keeps every parameter in wire order for the signature verifier.
 */
export class ParsedQuery implements ReadonlyMap<string, string> {
  // Built on first use: get() and has() read `pairs` directly (at most MAX_QUERY_PARAMS of them), so
  // a request that only looks parameters up allocates no maps (every subscribe long-poll is one).
  private singleMap: Map<string, string> | null = null;
  private multiMap: Map<string, string[]> | null = null;
  readonly pairs: readonly QueryPair[];

  constructor(pairs: readonly QueryPair[]) {
    this.pairs = pairs;
  }

  private get single(): Map<string, string> {
    if (this.singleMap === null) {
      this.singleMap = new Map();
      for (const { name, value } of this.pairs) if (!this.singleMap.has(name)) this.singleMap.set(name, value);
    }
    return this.singleMap;
  }

  private get multi(): Map<string, string[]> {
    if (this.multiMap === null) {
      this.multiMap = new Map();
      for (const { name, value } of this.pairs) {
        if (!MULTI_VALUED.has(name)) continue;
        const list = this.multiMap.get(name);
        if (list === undefined) this.multiMap.set(name, [value]);
        else list.push(value);
      }
    }
    return this.multiMap;
  }

  /** Every value of a MULTI_VALUED name, in wire order. */
  all(name: string): readonly string[] {
    return this.multi.get(name) ?? (this.single.has(name) ? [this.single.get(name) as string] : []);
  }

  /** The first value of `name`. */
  get(name: string): string | undefined {
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i++) if (pairs[i].name === name) return pairs[i].value;
    return undefined;
  }
  has(name: string): boolean {
    return hasName(this.pairs, name);
  }
  get size(): number {
    return this.single.size;
  }
  forEach(cb: (value: string, key: string, map: ReadonlyMap<string, string>) => void): void {
    for (const [k, v] of this.single) cb(v, k, this);
  }
  entries(): MapIterator<[string, string]> {
    return this.single.entries();
  }
  keys(): MapIterator<string> {
    return this.single.keys();
  }
  values(): MapIterator<string> {
    return this.single.values();
  }
  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.single[Symbol.iterator]();
  }
}

const EMPTY = new ParsedQuery([]);

function decodeValue(raw: string, name: string): string {
  // Fast path: nothing to decode (the common case for short SDK parameters).
  if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, '%20'));
  } catch {
    throw new ParleyError('INVALID_PARAM', `query parameter ${name} is not valid percent-encoding`);
  }
}

function hasName(pairs: readonly QueryPair[], name: string): boolean {
  for (let i = 0; i < pairs.length; i++) if (pairs[i].name === name) return true;
  return false;
}

/** Parses a raw query string (without `?`) by the rules above; ParleyError('INVALID_PARAM') otherwise. */
export function parseQuery(rawQuery: string): ParsedQuery {
  if (rawQuery.length === 0) return EMPTY;
  const pairs: QueryPair[] = [];
  let from = 0;
  while (from <= rawQuery.length) {
    let to = rawQuery.indexOf('&', from);
    if (to < 0) to = rawQuery.length;
    if (to > from) {
      const part = rawQuery.slice(from, to);
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (!PLAIN_NAME.test(name)) {
        throw new ParleyError(
          'INVALID_PARAM',
          `query parameter name "${name.slice(0, 40)}" is not in plain form (letters, digits, _ . ~ - only, not percent-encoded)`,
        );
      }
      // A scan, not a set: there are at most MAX_QUERY_PARAMS pairs.
      if (!MULTI_VALUED.has(name) && hasName(pairs, name)) {
        throw new ParleyError('INVALID_PARAM', `query parameter ${name} is given more than once`);
      }
      if (pairs.length >= MAX_QUERY_PARAMS) throw new ParleyError('INVALID_PARAM', `more than ${MAX_QUERY_PARAMS} query parameters`);
      const raw = eq < 0 ? '' : part.slice(eq + 1);
      pairs.push({ name, value: decodeValue(raw, name), raw });
    }
    from = to + 1;
  }
  return new ParsedQuery(pairs);
}
