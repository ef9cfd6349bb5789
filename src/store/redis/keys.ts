import { ParleyError } from '../../errors.ts';

/** 2^63-1 has 19 digits: every int64 timetoken fits a fixed-width 19-digit string. */
const TIMETOKEN_DIGITS = 19;

/**
 * Fixed-width decimal text of a timetoken. Lexicographic order of these strings is numeric order, which
 * is what lets a score-0 ZSET (ZRANGEBYLEX) index timetokens beyond 2^53 that a double score would round.
 */
export function timetokenText(tt: bigint): string {
  return tt.toString().padStart(TIMETOKEN_DIGITS, '0');
}

/**
 * The subscribe key goes inside a `{hash tag}`, so `{`, `}` must not appear in it (the tag would end
 * early), and `:` is our separator: percent-encode the three (and `%` itself, to stay reversible).
 * Real subscribe keys (`sub-c-…`) pass through unchanged.
 */
function encodeTag(value: string): string {
  return value.replace(/[%{}:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Escapes Redis glob metacharacters so a prefix is matched literally by PSUBSCRIBE / SCAN MATCH. */
export function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The keys of one keyset. Every key shares the hash tag `{<subscribeKey>}`, so on Redis Cluster all of
 * a keyset's data sits in one slot and a Lua script may touch any of it. Names (channel, group, uuid)
 * are always the last component, after a fixed family word, so any character in them is unambiguous.
 */
export class KeysetKeys {
  private readonly base: string;

  constructor(
    prefix: string,
    readonly subscribeKey: string,
  ) {
    this.base = `${prefix}:{${encodeTag(subscribeKey)}}`;
  }

  /** ZSET, all scores 0, members = 19-digit timetokens: the channel's history index. */
  msg(channel: string): string {
    return `${this.base}:msg:${channel}`;
  }
  /** HASH 19-digit timetoken → message body (message-codec.ts). */
  body(channel: string): string {
    return `${this.base}:body:${channel}`;
  }
  /** ZSET score expiresAtMs, member 19-digit timetoken: only the channel's messages that expire. */
  mexp(channel: string): string {
    return `${this.base}:mexp:${channel}`;
  }
  /** SET of channels that have a non-empty mexp key (what purgeExpired visits). */
  get mexpChannels(): string {
    return `${this.base}:mexpch`;
  }
  /** STRING, 19 digits: the last timetoken the broker assigned in this keyset (commit.lua). */
  get lastTimetoken(): string {
    return `${this.base}:last`;
  }
  /** HASH channel → last timetoken, the per-channel form `lastTimetoken` replaced; commit.lua folds it in once and deletes it. */
  get legacyLastTimetokens(): string {
    return `${this.base}:lasttt`;
  }
  /** HASH JSON [level, resource, authKey] → JSON [perms, ttlMinutes, expiresAtMs]. */
  get grants(): string {
    return `${this.base}:grants`;
  }
  /** ZSET score expiresAtMs, member = the grants field: grants that expire. */
  get grantExpiry(): string {
    return `${this.base}:gexp`;
  }
  /** ZSET score expiresAtMs, member tokenId. */
  get denyList(): string {
    return `${this.base}:deny`;
  }
  /** ZSET score kickedAtMs, member uuid: the keyset's kicks (DenyList.addKick). */
  get kicks(): string {
    return `${this.base}:kick`;
  }
  /** LIST of JSON SecretRotationRecord without subscribeKey, oldest first, at most MAX_SECRET_ROTATIONS. */
  get secretRotations(): string {
    return `${this.base}:secrot`;
  }
  /** ZSET score expiresAtMs, member JSON [channel, uuid]: every presence entry. */
  get presenceExpiry(): string {
    return `${this.base}:pexp`;
  }
  /** SET of channels with at least one occupant. */
  get presenceChannels(): string {
    return `${this.base}:pchans`;
  }
  /** HASH JSON [channel, uuid] → JSON state. */
  get presenceState(): string {
    return `${this.base}:pstate`;
  }
  /** SET of uuids present on a channel. */
  occupants(channel: string): string {
    return `${this.base}:occ:${channel}`;
  }
  /** SET of channels a uuid is present on. */
  channelsOf(uuid: string): string {
    return `${this.base}:uch:${uuid}`;
  }
  /** SET of a group's channels. */
  group(group: string): string {
    return `${this.base}:cg:${group}`;
  }
  /** SET of groups with at least one channel. */
  get groups(): string {
    return `${this.base}:cgs`;
  }
  /** ZSET, scores 0, members `<actionTT19>:<messageTT19>`: a channel's message actions in listing order. */
  actions(channel: string): string {
    return `${this.base}:act:${channel}`;
  }
  /** ZSET, scores 0, members `<messageTT19>:<actionTT19>`: the same actions by message. */
  actionsByMessage(channel: string): string {
    return `${this.base}:actm:${channel}`;
  }
  /** HASH `<messageTT19>:<actionTT19>` → JSON [messageTT19, type, value, uuid] (also the actdup field). */
  actionBodies(channel: string): string {
    return `${this.base}:actb:${channel}`;
  }
  /** HASH JSON [messageTT19, type, value, uuid] → `<messageTT19>:<actionTT19>`: refuses the same action twice. */
  actionDedup(channel: string): string {
    return `${this.base}:actd:${channel}`;
  }
  /** HASH file id → JSON [name, size, created, contentType]. */
  fileMeta(channel: string): string {
    return `${this.base}:fmeta:${channel}`;
  }
  /** HASH file id → the file's bytes. */
  fileBytes(channel: string): string {
    return `${this.base}:fbytes:${channel}`;
  }
  /** ZSET, scores 0, members `<created ISO> <id>`: a channel's files in time order. */
  fileIndex(channel: string): string {
    return `${this.base}:fidx:${channel}`;
  }
  /** HASH uuid or channel id → App Context record JSON (ObjectMetadata). */
  objects(kind: 'uuid' | 'channel'): string {
    return `${this.base}:obj:${kind}`;
  }
  /**
   * ZSET, scores 0, members the ids of objects(kind): their code point order for page() (ZRANGEBYLEX).
   * put and remove keep it with the HASH; page() rebuilds it when the two disagree in size (data
   * written before the index existed).
   */
  objectIndex(kind: 'uuid' | 'channel'): string {
    return `${this.base}:objidx:${kind}`;
  }
  /** HASH channel → membership JSON: a uuid's memberships. */
  membershipsOf(uuid: string): string {
    return `${this.base}:mship:${uuid}`;
  }
  /** ZSET, scores 0, of membershipsOf(uuid)'s fields (channels), kept with it like objectIndex. */
  membershipsIndexOf(uuid: string): string {
    return `${this.base}:mshipidx:${uuid}`;
  }
  /** ZSET, scores 0, of membersOf(channel)'s fields (uuids), kept with it like objectIndex. */
  membersIndexOf(channel: string): string {
    return `${this.base}:mbridx:${channel}`;
  }
  /** HASH uuid → membership JSON: a channel's members (the same records as membershipsOf). */
  membersOf(channel: string): string {
    return `${this.base}:mbr:${channel}`;
  }
  /** Pub/sub channel carrying this keyset's committed batches (not a key; same naming for clarity). */
  get fanout(): string {
    return `${this.base}:fanout`;
  }
}

/** Key layout of one Parley deployment (docs/redis.md). Node-wide names use the hash tag `{<prefix>}`. */
export class RedisKeys {
  /** SET of subscribe keys that ever stored anything: what the keyset-spanning sweeps iterate. */
  readonly keysets: string;
  /** Pub/sub channel for ControlEvents between nodes. */
  readonly control: string;
  /** STRING, ms: the deny list's epoch (DenyList.epoch), written once with SET NX; gone when Redis lost its data. */
  readonly denyListEpoch: string;
  /** PSUBSCRIBE pattern matching every keyset's fanout channel. */
  readonly fanoutPattern: string;
  private readonly fanoutShape: RegExp;

  constructor(readonly prefix: string) {
    if (prefix === '' || /[{}\s]/.test(prefix)) {
      throw new ParleyError('INVALID_PARAM', `redis prefix must be non-empty without braces or spaces (got ${JSON.stringify(prefix)})`);
    }
    this.keysets = `${prefix}:{${prefix}}:keysets`;
    this.control = `${prefix}:{${prefix}}:control`;
    this.denyListEpoch = `${prefix}:{${prefix}}:epoch`;
    this.fanoutPattern = `${escapeGlob(prefix)}:*:fanout`;
    // The glob's `*` also matches `a:b`, so a deployment whose prefix is `<ours>:x` would match too;
    // the exact shape (encoded tags contain no `:`) filters those out.
    this.fanoutShape = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\{[^:{}]*\\}:fanout$`);
  }

  keyset(subscribeKey: string): KeysetKeys {
    return new KeysetKeys(this.prefix, subscribeKey);
  }

  isFanoutChannel(channel: string): boolean {
    return this.fanoutShape.test(channel);
  }
}
