import type { Clock } from '../clock.ts';
import type { ClientLimits } from './client-limits.ts';
import type { Config } from '../config/schema.ts';
import type { Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import type { Metrics, ParleyMetrics } from '../metrics.ts';
import type { Operation } from '../access/enforcement.ts';
import type { Explanation } from '../access/authorize.ts';
import type { KickRequest, KickResult } from '../access/access-manager.ts';
import type { TokenInspection } from '../access/token/inspect.ts';
import type { RotationRequest, RotationResult, RotationStatus } from '../access/secret-rotation.ts';
import type { AccessRequest, Credential, Decision, Requirement, ResourceKind } from '../access/types.ts';
import type { StatsView } from '../console/node-stats.ts';
import type { ObjectService } from '../app-context/object-service.ts';
import type { ChannelGroupService } from '../realtime/channel-groups.ts';
import type { FileService } from '../realtime/files.ts';
import type { Hub } from '../realtime/hub.ts';
import type { MessageActionService } from '../realtime/message-actions.ts';
import type { PresenceService } from '../realtime/presence.ts';
import type { PublishPipeline } from '../realtime/publish.ts';
import type { SubscriptionService } from '../realtime/subscription.ts';
import type { TimetokenGenerator } from '../realtime/timetoken.ts';
import type { HealthReport, MessageStore } from '../store/types.ts';
import type { AnswerEncoder } from './wire.ts';

/** The Access Manager as the protocol layer uses it (implemented by access/access-manager.ts). */
export interface AccessGate {
  check(req: AccessRequest): Decision;
  recheck(credential: Credential, keyset: Keyset, uuid: string, requirements: readonly Requirement[]): Decision;
  /**
   * READ on one channel for an established credential, as recheck() would decide it; no allocation,
   * no logging. Wildcard subscriptions call it for every channel they would deliver from.
   */
  canRead(credential: Credential, keyset: Keyset, uuid: string, channel: string): boolean;
  requirementsFor(operation: Operation, resources: Partial<Record<ResourceKind, readonly string[]>>): Requirement[];
}

/** The Access Manager's administrative side: only ever reached after a valid secret-key signature. */
export interface AccessAdmin {
  /** §7.1: returns the `payload` of the grant answer. */
  grantV2(keyset: Keyset, query: ReadonlyMap<string, string>): Promise<Record<string, unknown>>;
  /** §7.2: returns the `payload` of the audit answer. */
  auditV2(keyset: Keyset, query: ReadonlyMap<string, string>): Promise<Record<string, unknown>>;
  /** §8.1: validates the parsed JSON body and mints a token; ParleyError with `details` on a bad body. */
  grantToken(keyset: Keyset, body: unknown): Promise<string>;
  /** §8.2: puts the token on the denylist until it would have expired. */
  revokeToken(keyset: Keyset, token: string): Promise<void>;
  /** Operator console (routes/admin.ts): cut one uuid off (tokens and/or v2 auth keys). */
  kick(keyset: Keyset, request: KickRequest): Promise<KickResult>;
  /** A token's state and decoded claims. */
  inspectToken(keyset: Keyset, token: string): TokenInspection;
  /** Which grant or token entry decides each requirement for `auth` used as `uuid`. */
  explain(keyset: Keyset, auth: string, uuid: string, requirements: readonly Requirement[]): Explanation;
}

/** Runtime secret rotation (access/secret-rotation.ts); only reached after a valid secret-key signature. */
export interface SecretsAdmin {
  rotate(keyset: Keyset, request: RotationRequest): Promise<RotationResult>;
  status(keyset: Keyset): RotationStatus;
}

/**
 * Everything the routes use together; built once in app.ts and handed whole to every route by the
 * server. Each route family declares the part it uses (a `Pick` of this, in its own file: route.ts).
 */
export interface Services {
  config: Config;
  keysets: ReadonlyMap<string, Keyset>;
  access: AccessGate;
  admin: AccessAdmin;
  secrets: SecretsAdmin;
  /** Per-node figures of the last 15 minutes, for the operator console (console/node-stats.ts). */
  nodeStats: { view(): StatsView };
  pipeline: PublishPipeline;
  subscriptions: SubscriptionService;
  /** Subscribe answer bodies for this node's region, one encoding per delivery shared by the polls it wakes (wire.ts). */
  answers: AnswerEncoder;
  presence: PresenceService;
  groups: ChannelGroupService;
  /** App Context (objects v2). */
  objects: ObjectService;
  /** History (routes/history.ts reads and deletes it directly). */
  messages: MessageStore;
  messageActions: MessageActionService;
  files: FileService;
  hub: Hub;
  timetokens: TimetokenGenerator;
  clock: Clock;
  metrics: Metrics;
  m: ParleyMetrics;
  log: Logger;
  /** Long-polls not yet answered, so a graceful stop can answer them. */
  openPolls: Set<{ interrupt(): void }>;
  /** Connection and long-poll caps per client address and in total (docs/security.md "Limits"). */
  clientLimits: ClientLimits;
  /**
   * Readiness for load balancers (GET /health): ok only while this node serves and its store, its
   * broker and its access mirrors can answer requests; otherwise a one-line reason. Never rejects.
   */
  ready(): Promise<HealthReport>;
}
