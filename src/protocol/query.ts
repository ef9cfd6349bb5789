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
  private readonly single = new Map<string, string>();
  private readonly multi = new Map<string, string[]>();
  readonly pairs: readonly QueryPair[];

  constructor(pairs: readonly QueryPair[]) {
    this.pairs = pairs;
    for (const { name, value } of pairs) {
      if (!this.single.has(name)) this.single.set(name, value);
      if (MULTI_VALUED.has(name)) {
        const list = this.multi.get(name);
        if (list === undefined) this.multi.set(name, [value]);
        else list.push(value);
      }
    }
  }

  /** Every value of a MULTI_VALUED name, in wire order. */
  all(name: string): readonly string[] {
    return this.multi.get(name) ?? (this.single.has(name) ? [this.single.get(name) as string] : []);
  }

  get(name: string): string | undefined {
    return this.single.get(name);
  }
  has(name: string): boolean {
    return this.single.has(name);
  }
  get size(): number {
    return this.single.size;
  }
  forEach(cb: (value: string, key: string, map: ReadonlyMap<string, string>) => void): void {
    this.single.forEach((v, k) => cb(v, k, this));
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

/** Parses a raw query string (without `?`) by the rules above; ParleyError('INVALID_PARAM') otherwise. */
export function parseQuery(rawQuery: string): ParsedQuery {
  if (rawQuery.length === 0) return EMPTY;
  const pairs: QueryPair[] = [];
  const seen = new Set<string>();
  let from = 0;
  while (from <= rawQuery.length) {
    let to = rawQuery.indexOf('&', from);
    if (to < 0) to = rawQuery.length;
    if (to > from) {
      const part = rawQuery.slice(from, to);
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (!PLAIN_NAME.test(name)) {
        throw new ParleyError('INVALID_PARAM', `query parameter name "${name.slice(0, 40)}" is not in plain form (letters, digits, _ . ~ - only, not percent-encoded)`);
      }
      if (seen.has(name) && !MULTI_VALUED.has(name)) {
        throw new ParleyError('INVALID_PARAM', `query parameter ${name} is given more than once`);
      }
      seen.add(name);
      if (pairs.length >= MAX_QUERY_PARAMS) throw new ParleyError('INVALID_PARAM', `more than ${MAX_QUERY_PARAMS} query parameters`);
      const raw = eq < 0 ? '' : part.slice(eq + 1);
      pairs.push({ name, value: decodeValue(raw, name), raw });
    }
    from = to + 1;
  }
  return new ParsedQuery(pairs);
}
