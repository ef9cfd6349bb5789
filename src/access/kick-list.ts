/**
 * The in-memory mirror of the DenyList's kicks (store/types.ts DenyList.addKick), read on the request
 * path: a token used as a kicked uuid and issued in or before the kick's second (`t` is whole seconds)
 * is refused (UUID_KICKED). One Map lookup per token check, and none while no kick is in force.
 */
import { KICK_RETENTION_MS, type KickEntry } from '../store/types.ts';

function keyOf(subscribeKey: string, uuid: string): string {
  return `${subscribeKey}\u0000${uuid}`;
}

export class KickList {
  /** `subscribeKey NUL uuid` → kickedAtMs. */
  private readonly kicked = new Map<string, number>();
  /** subscribeKey → the keyset's latest kickedAtMs (an unbound token may be used as any kicked uuid). */
  private readonly latest = new Map<string, number>();

  get size(): number {
    return this.kicked.size;
  }

  /** Adds kicks, keeping the later one for a uuid kicked twice (a kick never moves back). */
  load(entries: readonly KickEntry[]): void {
    for (const e of entries) {
      const key = keyOf(e.subscribeKey, e.uuid);
      this.kicked.set(key, Math.max(this.kicked.get(key) ?? 0, e.kickedAtMs));
      this.latest.set(e.subscribeKey, Math.max(this.latest.get(e.subscribeKey) ?? 0, e.kickedAtMs));
    }
  }

  kickedAt(subscribeKey: string, uuid: string): number | undefined {
    return this.kicked.get(keyOf(subscribeKey, uuid));
  }

  /** Whether a token issued at issuedAtSec is refused when used as `uuid`. */
  refuses(subscribeKey: string, uuid: string, issuedAtSec: number): boolean {
    if (this.kicked.size === 0) return false;
    const kickedAtMs = this.kicked.get(keyOf(subscribeKey, uuid));
    return kickedAtMs !== undefined && issuedAtSec <= Math.floor(kickedAtMs / 1000);
  }

  /**
   * Whether a token minted now (issuedAtSec) could be refused at once: bound to a uuid kicked in this
   * second, or unbound while any uuid of the keyset was. Minting then waits for the next second.
   */
  blocksMinting(subscribeKey: string, authorizedUuid: string | undefined, issuedAtSec: number): boolean {
    if (this.kicked.size === 0) return false;
    const kickedAtMs = authorizedUuid === undefined ? this.latest.get(subscribeKey) : this.kicked.get(keyOf(subscribeKey, authorizedUuid));
    return kickedAtMs !== undefined && issuedAtSec <= Math.floor(kickedAtMs / 1000);
  }

  /** Forgets kicks older than KICK_RETENTION_MS: every token they could refuse has expired. */
  purge(nowMs: number): void {
    for (const [key, kickedAtMs] of this.kicked) if (kickedAtMs + KICK_RETENTION_MS <= nowMs) this.kicked.delete(key);
  }
}
