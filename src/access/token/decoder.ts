/**
 * Decoder for the v3 token layout (codec.ts): strict, allocation-light, and producing the final
 * TokenClaims shape in one pass. It runs only on bytes whose signature already verified
 * (verify.ts), and on foreign tokens for inspection; anything outside the §8.5 structure plus
 * Parley's optional nonce `n` (codec.ts) — indefinite lengths, arrays, unknown keys, invalid UTF-8,
 * trailing bytes — is a TokenFormatError. Tokens with and without `n` both decode.
 */
import type { MetaValue, PermissionMaps, TokenClaims } from './codec.ts';

/** Shared by every empty permission map a decode produces (most of them: usr, spc, …). */
const EMPTY_MAP: ReadonlyMap<string, number> = new Map();

/** A token that does not decode into the §8.5 structure. Caught by verify.ts, never escapes it. */
export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Structural keys packed into a number (≤ 4 ASCII bytes) so the decoder switches without strings. */
function packKey(key: string): number {
  let v = 0;
  for (let i = 0; i < key.length; i++) v = v * 256 + key.charCodeAt(i);
  return v;
}
const K_V = packKey('v');
const K_T = packKey('t');
const K_TTL = packKey('ttl');
const K_RES = packKey('res');
const K_PAT = packKey('pat');
const K_META = packKey('meta');
const K_UUID = packKey('uuid');
const K_SIG = packKey('sig');
const K_NONCE = packKey('n');
const K_CHAN = packKey('chan');
const K_GRP = packKey('grp');
const K_USR = packKey('usr');
const K_SPC = packKey('spc');

/** Cursor over one token; a fresh instance per decode keeps the decoder re-entrant. */
class Reader {
  pos = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly end: number,
  ) {}

  fail(what: string): never {
    throw new TokenFormatError(`${what} at byte ${this.pos}`);
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.b[this.pos++];
  }

  /** Argument of a head; indefinite lengths (31) and reserved values are malformed here. */
  arg(ai: number): number {
    if (ai < 24) return ai;
    const b = this.b;
    const p = this.pos;
    if (ai === 24) {
      if (p + 1 > this.end) this.fail('unexpected end');
      this.pos = p + 1;
      return b[p];
    }
    if (ai === 25) {
      if (p + 2 > this.end) this.fail('unexpected end');
      this.pos = p + 2;
      return (b[p] << 8) | b[p + 1];
    }
    if (ai === 26) {
      if (p + 4 > this.end) this.fail('unexpected end');
      this.pos = p + 4;
      return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
    }
    if (ai === 27) {
      if (p + 8 > this.end) this.fail('unexpected end');
      const hi = b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
      const lo = b[p + 4] * 0x1000000 + ((b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]);
      if (hi >= 0x200000) this.fail('integer beyond 2^53');
      this.pos = p + 8;
      return hi * 0x100000000 + lo;
    }
    return this.fail('unsupported length encoding');
  }

  expect(major: number): number {
    const ib = this.byte();
    if (ib >> 5 !== major) this.fail(`expected CBOR major type ${major}`);
    return this.arg(ib & 31);
  }

  uint(): number {
    return this.expect(0);
  }

  mapLength(): number {
    return this.expect(5);
  }

  /** A structural key: byte string (PubNub's form) or text string (also accepted by the SDK). */
  structuralKey(): number {
    const ib = this.byte();
    const major = ib >> 5;
    if (major !== 2 && major !== 3) this.fail('expected a string key');
    const n = this.arg(ib & 31);
    if (n > 4 || this.pos + n > this.end) this.fail('unknown key');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.b[this.pos++];
    return v;
  }

  text(): string {
    const n = this.expect(3);
    const s = this.pos;
    const e = s + n;
    if (e > this.end) this.fail('unexpected end');
    this.pos = e;
    const b = this.b;
    // Short ASCII names are the norm: building them char by char beats TextDecoder's call cost.
    if (n <= 32) {
      let out = '';
      for (let i = s; i < e; i++) {
        const c = b[i];
        if (c > 0x7f) return decodeUtf8(b, s, e, this);
        out += String.fromCharCode(c);
      }
      return out;
    }
    return decodeUtf8(b, s, e, this);
  }

  permissionMap(): ReadonlyMap<string, number> {
    const n = this.mapLength();
    if (n === 0) return EMPTY_MAP;
    const map = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const name = this.text();
      const perms = this.uint();
      if (perms > 255) this.fail('permission value above 255');
      map.set(name, perms);
    }
    return map;
  }

  scalar(): MetaValue {
    const ib = this.b[this.pos];
    const major = ib >> 5;
    if (major === 0) return this.uint();
    if (major === 1) return -1 - this.expect(1);
    if (major === 3) return this.text();
    this.pos++;
    switch (ib) {
      case 0xf4:
        return false;
      case 0xf5:
        return true;
      case 0xf6:
        return null;
      case 0xfb: {
        if (this.pos + 8 > this.end) this.fail('unexpected end');
        const v = Buffer.from(this.b.buffer, this.b.byteOffset + this.pos, 8).readDoubleBE(0);
        this.pos += 8;
        return v;
      }
      default:
        return this.fail('meta values must be scalars');
    }
  }
}

function decodeUtf8(b: Uint8Array, s: number, e: number, r: Reader): string {
  try {
    return UTF8.decode(b.subarray(s, e));
  } catch {
    return r.fail('invalid UTF-8');
  }
}

function readPermissionMaps(r: Reader): PermissionMaps {
  let channels: ReadonlyMap<string, number> | undefined;
  let groups: ReadonlyMap<string, number> | undefined;
  let uuids: ReadonlyMap<string, number> = EMPTY_MAP;
  const n = r.mapLength();
  for (let i = 0; i < n; i++) {
    const key = r.structuralKey();
    const map = r.permissionMap();
    if (key === K_CHAN) channels = map;
    else if (key === K_GRP) groups = map;
    else if (key === K_UUID) uuids = map;
    else if (key !== K_USR && key !== K_SPC) r.fail('unknown resource type');
  }
  // The SDK's parseToken requires chan and grp (§8.5); a token without them is not one of ours.
  if (channels === undefined || groups === undefined) r.fail('res/pat without chan or grp');
  return { channels, groups, uuids };
}

/**
 * Decodes the claims of a token whose signature was already verified. `bytes` is the whole token;
 * the `sig` entry is skipped. Throws TokenFormatError for anything outside the §8.5 structure.
 */
export function decodeTokenClaims(bytes: Uint8Array): TokenClaims {
  const r: Reader = new Reader(bytes, bytes.length);
  const n = r.mapLength();
  let version: number | undefined;
  let issuedAtSec: number | undefined;
  let ttlMinutes: number | undefined;
  let resources: PermissionMaps | undefined;
  let patterns: PermissionMaps | undefined;
  let meta: ReadonlyMap<string, MetaValue> = new Map();
  let authorizedUuid: string | undefined;
  let nonce: string | undefined;
  for (let i = 0; i < n; i++) {
    const key = r.structuralKey();
    if (key === K_V) version = r.uint();
    else if (key === K_T) issuedAtSec = r.uint();
    else if (key === K_TTL) ttlMinutes = r.uint();
    else if (key === K_RES) resources = readPermissionMaps(r);
    else if (key === K_PAT) patterns = readPermissionMaps(r);
    else if (key === K_META) {
      const count = r.mapLength();
      const m = new Map<string, MetaValue>();
      for (let j = 0; j < count; j++) {
        const k = r.text();
        m.set(k, r.scalar());
      }
      meta = m;
    } else if (key === K_UUID) authorizedUuid = r.text();
    else if (key === K_NONCE) nonce = r.text();
    else if (key === K_SIG) {
      const len = r.expect(2);
      if (r.pos + len > bytes.length) r.fail('unexpected end');
      r.pos += len;
    } else r.fail('unknown top-level key');
  }
  if (r.pos !== bytes.length) r.fail('trailing bytes');
  if (version === undefined || issuedAtSec === undefined || ttlMinutes === undefined) r.fail('missing v, t or ttl');
  if (resources === undefined || patterns === undefined) r.fail('missing res or pat');
  return { version, issuedAtSec, ttlMinutes, resources, patterns, meta, authorizedUuid, nonce };
}
