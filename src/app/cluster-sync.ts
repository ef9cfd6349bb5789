import type { AccessManager } from '../access/access-manager.ts';
import { changeConcerns } from '../access/change-scope.ts';
import type { SecretRotation } from '../access/secret-rotation.ts';
import { MAX_TOKEN_TTL_MINUTES } from '../access/token/grant-body.ts';
import type { AccessChange, AccessRequest, Decision } from '../access/types.ts';
import type { Clock } from '../clock.ts';
import type { NodeStats } from '../console/node-stats.ts';
import type { Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import type { ChannelGroupService } from '../realtime/channel-groups.ts';
import type { Hub } from '../realtime/hub.ts';
import type { TimetokenGenerator } from '../realtime/timetoken.ts';
import type { Broker, ControlEvent, HealthReport, NodeSample } from '../store/types.ts';

/** What a secured keyset's requests get while this node may be missing other nodes' revocations. */
export const UNAVAILABLE: Decision = {
  allowed: false,
  code: 'STORE_UNAVAILABLE',
  missing: { channels: [], groups: [], uuids: [] },
  message: 'the link to the other nodes is down; access cannot be verified',
};

/** The readiness reason while the mirrors reload (GET /health, the console's samples). */
export const RELOADING_REASON = 'reloading the access mirrors after a gap in the link to the other nodes';

/** How long after a failed reload the next attempt starts. */
export const DEFAULT_RETRY_DELAY_MS = 1000;

/**
 * How far ahead of this node's clock the hub's memory is trusted again after a gap, in timetoken ticks
 * (1 s): other nodes' clocks may lead this one, and what they committed during the gap never reached
 * this node's memory.
 */
const COVERAGE_LEAD_TICKS = 10_000_000n;

/** The parts of the node that mirror shared state or hold parked polls; each a narrow slice of the real component. */
export interface ClusterSyncDeps {
  broker: Pick<Broker, 'nodeId' | 'broadcast' | 'onControl' | 'onResync' | 'isHealthy'>;
  access: Pick<AccessManager, 'check' | 'onChange' | 'applyRemoteChange' | 'resync' | 'forgetVerifiedTokens'>;
  rotation: Pick<SecretRotation, 'onChange' | 'reload'>;
  groups: Pick<ChannelGroupService, 'onChange' | 'changed' | 'clearCache'>;
  hub: Pick<Hub, 'waiters' | 'waitersOfGroup' | 'invalidateCoverage'>;
  nodeStats: Pick<NodeStats, 'receive'>;
  timetokens: Pick<TimetokenGenerator, 'now'>;
  /** Every keyset this node serves (the same objects rotation updates in place). */
  keysets: readonly Keyset[];
  clock: Clock;
  log: Logger;
  /** Default DEFAULT_RETRY_DELAY_MS. */
  retryDelayMs?: number;
}

/**
 * Keeps this node's mirrors (grants, denylist, kicks, secrets, group memberships, the hub's buffers) and
 * its parked polls consistent with changes made here and on the other nodes of a deployment. On the
 * single-node engines nothing arrives and broadcasts go nowhere; the contract still holds.
 *
 * What it guarantees, from construction on (it subscribes to the broker and the components at once):
 * - Fail closed: check() answers UNAVAILABLE for every keyset with a secret key whenever the broker says
 *   it may be missing events (isHealthy() false), and from the moment a gap is seen (onResync) until
 *   every mirror (access.resync, and rotation.reload of every keyset) reloaded after the newest gap. A
 *   reload started for an older gap never reopens, even when it finishes after the newer one began.
 *   Keysets without a secret key are never closed.
 * - A failed reload is retried after retryDelayMs until it succeeds, a newer gap supersedes it (that
 *   gap's reload covers it) or close() is called.
 * - On a gap, before the reload: cached group memberships are forgotten, the hub trusts its memory only
 *   from a moment ahead, and every parked poll of every keyset ends so that it re-polls and reads the gap
 *   from history.
 * - Every change, made here or reported by another node, re-checks (access, secrets) or ends (group
 *   membership) the parked polls it may affect; changes made here are broadcast to the other nodes,
 *   changes reported by them never are. Broadcast and apply failures are logged, never thrown.
 */
export class ClusterSync {
  private readonly retryDelayMs: number;
  /** Between a gap and the end of the newest gap's reload. */
  private isReloading = false;
  /** Bumped by every gap: only the reload of the newest one may reopen. */
  private gap = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(private readonly d: ClusterSyncDeps) {
    this.retryDelayMs = d.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    d.access.onChange((change, origin) => this.onAccessChange(change, origin));
    d.rotation.onChange((subscribeKey, change, origin) => this.onSecretsChange(subscribeKey, change, origin));
    d.groups.onChange((subscribeKey, group, origin) => this.onGroupChange(subscribeKey, group, origin));
    d.broker.onControl((event) => this.applyRemote(event));
    d.broker.onResync(() => this.onGap());
  }

  /** Access can be decided from the mirrors now: the link is up and no reload after a gap is pending. */
  isAccessVerifiable(): boolean {
    return this.d.broker.isHealthy() && !this.isReloading;
  }

  /** AccessManager.check behind the fail-closed gate (the hot path: one branch before the decision). */
  readonly check = (req: AccessRequest): Decision => (this.isAccessVerifiable() || !req.keyset.secretKey ? this.d.access.check(req) : UNAVAILABLE);

  /**
   * The mirrors' part of readiness: not ok while they reload after a gap. The broker's own health
   * (Broker.health) is separate, so that /health names the link first when both fail.
   */
  mirrorHealth(): HealthReport {
    return this.isReloading ? { ok: false, reason: RELOADING_REASON } : { ok: true };
  }

  /** Tells the other nodes this node's latest console figures (NodeStats' share). */
  shareNodeStats(sample: NodeSample): Promise<void> {
    return this.d.broker.broadcast({ kind: 'node-stats', nodeId: this.d.broker.nodeId, sample });
  }

  /** Stops a pending retry and ignores later gaps: for stop(), before the stores close. */
  close(): void {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private onAccessChange(change: AccessChange, origin: 'local' | 'remote'): void {
    // Only the polls the change can concern (a grant to one auth key re-checks that key's polls): a
    // re-check is an access decision over every channel of the poll, and grants come with every login.
    const concerns = changeConcerns(change);
    for (const w of this.d.hub.waiters(change.subscribeKey)) if (concerns(w.accessKey, w.uuid)) w.recheckAccess();
    if (origin !== 'local') return;
    // The event carries an upper bound on the revocation's life (the longest token lifetime); the store keeps the exact one.
    const event: ControlEvent = change.kind === 'token-revoked' ? { ...change, expiresAtMs: this.d.clock.nowMs() + MAX_TOKEN_TTL_MINUTES * 60_000 } : change;
    this.d.broker.broadcast(event).catch((err) => this.d.log.error({ err, kind: change.kind }, 'access change broadcast failed'));
  }

  /**
   * A rotation (here or on another node) or the end of its window: cached tokens are verified again and
   * parked polls re-checked, so what only the old secret verified is refused once it stops. The end of a
   * window is reached on every node by its own clock, so only a rotation is broadcast.
   */
  private onSecretsChange(subscribeKey: string, change: 'rotated' | 'window-ended', origin: 'local' | 'remote'): void {
    this.d.access.forgetVerifiedTokens(subscribeKey);
    for (const w of this.d.hub.waiters(subscribeKey)) w.recheckAccess();
    if (origin !== 'local' || change !== 'rotated') return;
    this.d.broker.broadcast({ kind: 'secret-rotated', subscribeKey }).catch((err) => this.d.log.error({ err }, 'secret rotation broadcast failed'));
  }

  /** Parked polls of the group (or its presence) end, and re-resolve the membership when they re-poll. */
  private onGroupChange(subscribeKey: string, group: string, origin: 'local' | 'remote'): void {
    // Only the group's own polls: a change costs what it ends, not a scan of every parked poll (on an
    // open keyset anyone may change a group).
    for (const w of this.d.hub.waitersOfGroup(subscribeKey, group)) w.interrupt();
    if (origin !== 'local') return;
    this.d.broker.broadcast({ kind: 'group-changed', subscribeKey, group }).catch((err) => this.d.log.error({ err }, 'group change broadcast failed'));
  }

  /** Another node's event, to the component that mirrors it. */
  private applyRemote(event: ControlEvent): void {
    const { access, rotation, groups, nodeStats, log } = this.d;
    switch (event.kind) {
      case 'group-changed':
        groups.changed(event.subscribeKey, event.group, 'remote');
        return;
      case 'token-revoked':
      case 'grants-changed':
      case 'uuid-kicked': {
        // The broadcaster's bound on the expiry is dropped: applyRemoteChange finds a tighter one when it can.
        const change: AccessChange = event.kind === 'token-revoked' ? { kind: event.kind, subscribeKey: event.subscribeKey, tokenId: event.tokenId } : event;
        access.applyRemoteChange(change).catch((err) => log.error({ err }, 'applying a remote access change failed'));
        return;
      }
      case 'secret-rotated':
        rotation.reload(event.subscribeKey).catch((err) => log.error({ err }, 'applying a remote secret rotation failed'));
        return;
      case 'node-stats':
        nodeStats.receive(event.nodeId, event.sample);
        return;
      case 'objects-changed':
        // App Context keeps no mirror: every read goes to the store.
        return;
      default: {
        const unknown: never = event;
        log.debug({ event: unknown }, 'unknown control event ignored');
      }
    }
  }

  /** After a gap in the link the other nodes' events may be lost: close, let parked polls re-poll, reload every mirror. */
  private onGap(): void {
    if (this.isClosed) return;
    this.isReloading = true;
    const gap = ++this.gap;
    // The newer gap's reload covers whatever an older one still had to retry.
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.d.groups.clearCache();
    this.d.hub.invalidateCoverage(this.d.timetokens.now() + COVERAGE_LEAD_TICKS);
    for (const k of this.d.keysets) for (const w of this.d.hub.waiters(k.subscribeKey)) w.interrupt();
    this.reload(gap);
  }

  private reload(gap: number): void {
    const { access, rotation, keysets, log } = this.d;
    Promise.all([access.resync(), ...keysets.map((k) => rotation.reload(k.subscribeKey))]).then(
      () => {
        if (gap === this.gap) this.isReloading = false;
      },
      (err) => {
        if (this.isClosed) return;
        if (gap !== this.gap) {
          log.warn({ err }, 'access resync failed; a later one is under way');
          return;
        }
        log.error({ err }, 'access resync failed; retrying');
        this.retryTimer = setTimeout(() => this.reload(gap), this.retryDelayMs);
        this.retryTimer.unref();
      },
    );
  }
}
