import { z } from 'zod';

/**
 * The single source of Parley's configuration: types, defaults, units and descriptions.
 * Env names are derived from the path (presence.defaultTimeoutSec → PARLEY_PRESENCE_DEFAULT_TIMEOUT_SEC);
 * a few short public names (PORT, PARLEY_DATA_DIR, PARLEY_*_KEY, PARLEY_REDIS_URL) are mapped in load.ts.
 */

/** Upper bound of cluster.workers: far past any one machine's cores, low enough to catch a typo. */
export const MAX_CLUSTER_WORKERS = 256;

const name = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const KeysetSchema = z
  .object({
    publishKey: name.describe('Publish key clients put in publish and signal paths'),
    subscribeKey: name.describe('Subscribe key; scopes all data of the keyset'),
    secretKey: z.string().max(256).default('').describe('Secret key; non-empty turns the Access Manager on for this keyset, empty leaves it open'),
    previousSecretKey: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'The secret key before a rotation: signatures, tokens and file URLs made with it are still accepted until previousSecretValidUntil (new tokens are signed with secretKey); unset = none',
      ),
    previousSecretValidUntil: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('ISO-8601 time (e.g. 2026-01-31T12:00:00Z) until which previousSecretKey is accepted; required with it'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0').describe('Address to listen on'),
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port (0 = any free port)'),
    dataDir: z
      .string()
      .min(1)
      .default('./data')
      .describe(
        "Directory of the sqlite engine: its database and the demo keyset's secret; created if missing and checked writable at start (exit 78 otherwise); other engines never use it",
      ),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level'),
    fastLane: z
      .boolean()
      .default(true)
      .describe(
        "Serve subscribe long-polls and GET publishes on the socket (protocol/lane.ts) instead of through node:http: about 1.4x the deliveries per CPU-second; anything else, or false, is node:http's",
      ),
    shutdownTimeoutSec: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(10)
      .describe('Longest a graceful stop (SIGTERM, SIGINT) may take, seconds; past it the process exits with code 1 whatever is still open'),
    store: z
      .object({
        kind: z
          .enum(['sqlite', 'memory', 'redis'])
          .default('sqlite')
          .describe('Storage engine: sqlite (durable, default), memory (tests) or redis (several nodes)'),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        url: z.string().default('').describe('redis:// URL shared by every node; setting it (PARLEY_REDIS_URL) selects the redis engine'),
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only (no braces or spaces)')
          .default('parley')
          .describe('Key prefix of this deployment; all its nodes use the same'),
      })
      .strict()
      .prefault({}),
    keysets: z.array(KeysetSchema).default([]).describe('Keysets; empty = the demo keyset'),
    subscribe: z
      .object({
        longPollTimeoutSec: z
          .number()
          .int()
          .min(1)
          .max(300)
          .default(280)
          .describe('How long a long-poll is held before an empty answer (SDK gives up at 310 s)'),
        region: z.number().int().min(1).max(255).default(1).describe('Region number sent as t.r / p.r; must be non-zero'),
        bufferPerChannel: z.number().int().min(1).max(100_000).default(500).describe('Recent messages kept in memory per channel for fast catch-up'),
        bufferMaxAgeSec: z.number().int().min(1).default(600).describe('Age after which buffered messages are dropped from memory (history keeps them)'),
        maxMessagesPerResponse: z.number().int().min(1).max(100).default(100).describe('Envelopes per subscribe answer (PubNub: 100)'),
      })
      .strict()
      .prefault({}),
    presence: z
      .object({
        defaultTimeoutSec: z.number().int().min(5).max(3600).default(300).describe('Presence timeout when a request names none (seconds)'),
        maxTimeoutSec: z
          .number()
          .int()
          .min(5)
          .max(86_400)
          .default(3600)
          .describe(
            "Longest presence timeout a heartbeat or subscribe may ask for (seconds); a larger `heartbeat` is taken as this. A uuid's entries outlive its last heartbeat by its timeout, so this bounds how long a client's presence lingers (the JavaScript SDK caps its presenceTimeout at 320)",
          ),
        sweepIntervalMs: z.number().int().min(10).max(60_000).default(1000).describe('How often expired presence is swept (ms)'),
      })
      .strict()
      .prefault({}),
    history: z
      .object({
        retentionHours: z.number().int().min(0).default(0).describe('Default message retention in hours; 0 = keep forever'),
        storeByDefault: z.boolean().default(true).describe('Store a publish that has no store parameter'),
      })
      .strict()
      .prefault({}),
    files: z
      .object({
        maxFileBytes: z
          .number()
          .int()
          .min(1)
          .max(104_857_600)
          .default(5_242_880)
          .describe('Largest file a client may upload, bytes (PubNub: 5 MiB); an upload is held in memory while it is stored'),
        uploadUrlTtlSec: z.number().int().min(1).max(3600).default(60).describe('How long an upload URL from generate-upload-url stays valid (seconds)'),
        downloadUrlTtlSec: z
          .number()
          .int()
          .min(1)
          .max(86_400)
          .default(900)
          .describe('How long the storage URL a file download redirects to stays valid (seconds), like a presigned bucket URL'),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxMessageBytes: z.number().int().min(64).max(1_048_576).default(32_768).describe('Largest publish (URL-encoded GET payload or raw POST body), bytes'),
        maxSignalBytes: z.number().int().min(1).max(32_768).default(64).describe('Largest signal payload, bytes (PubNub: 64)'),
        maxChannelLength: z.number().int().min(1).max(1024).default(92).describe('Longest channel or group name, characters (PubNub: 92)'),
        maxChannelsPerGroup: z.number().int().min(1).default(2000).describe('Channels per channel group'),
        maxChannelsPerSubscribe: z.number().int().min(1).default(10_000).describe('Channels plus groups in one subscribe'),
        maxGroupsPerSubscribe: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(10)
          .describe('Channel groups named in one subscribe or presence call (PubNub: 10); a group and its -pnpres twin count once'),
        maxChannelsPerSubscription: z
          .number()
          .int()
          .min(1)
          .default(42_000)
          .describe(
            'Channels one subscribe, heartbeat or here-now reaches once its channel groups are expanded, each -pnpres name counting as one more; default: 10 groups of 2,000 channels with their presence, plus 2,000 direct channels. Past it: 400',
          ),
        maxSubscribedChannelsPerNode: z
          .number()
          .int()
          .min(1)
          .default(1_000_000)
          .describe('Channels (as counted by maxChannelsPerSubscription) held by all open long-polls of this node together; past it a new long-poll gets 429'),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .default(10_000)
          .describe('Open TCP connections to this node; past it a new connection is answered 429 and closed. Keep it below the open-file limit (ulimit -n)'),
        maxConnectionsPerAddress: z
          .number()
          .int()
          .min(1)
          .default(256)
          .describe(
            'Open TCP connections from one client address (IPv6: one /64); past it a new connection is answered 429 and closed. Not applied when trustProxy is on (every connection comes from the proxy)',
          ),
        maxLongPolls: z.number().int().min(1).default(8_000).describe('Subscribe long-polls held open by this node at once; past it a new one gets 429'),
        maxLongPollsPerAddress: z
          .number()
          .int()
          .min(1)
          .default(128)
          .describe('Subscribe long-polls held open for one client address (IPv6: one /64); past it a new one gets 429'),
        trustProxy: z
          .boolean()
          .default(false)
          .describe(
            'Take the client address for the per-address caps from the last entry of X-Forwarded-For (set by the proxy in front); off: the socket address, and the header is ignored',
          ),
        bodyIdleTimeoutMs: z
          .number()
          .int()
          .min(10)
          .max(600_000)
          .default(10_000)
          .describe(
            'Longest pause between two chunks of a request body, ms; a body that stops arriving is answered 408 and its connection closed. A file download its client stops reading is cut after the same time',
          ),
      })
      .strict()
      .prefault({}),
    access: z
      .object({
        signatureWindowSec: z.number().int().min(1).max(3600).default(60).describe('Allowed clock skew of signed requests (seconds)'),
        acceptV1Signatures: z
          .boolean()
          .default(true)
          .describe(
            'Accept the older v1 request signature (Python, Kotlin and Go sign POST publish with it) on GET requests and POST publish; it covers neither method nor body',
          ),
        tokenCacheSize: z.number().int().min(0).default(10_000).describe('Verified tokens cached in memory (0 = no cache)'),
      })
      .strict()
      .prefault({}),
    console: z
      .object({
        enabled: z
          .union([z.literal('auto'), z.boolean()])
          .default('auto')
          .describe(
            'Serve the operator console at /console/ (the operator signs in with a keyset\'s secret key; every call it makes is a signed request to the public API): "auto" = only on the demo keyset (no keysets configured); true = also with configured keysets; false = never',
          ),
        sampleIntervalSec: z
          .number()
          .int()
          .min(1)
          .max(60)
          .default(5)
          .describe('How often each node records its figures for the console overview (seconds); the last 15 minutes of samples are kept in memory'),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        enabled: z
          .union([z.literal('auto'), z.boolean()])
          .default('auto')
          .describe(
            'Serve the secure chat demo at /demo/ with its app server in-process, which grants any visitor read+write on demo.channel: "auto" = only on the demo keyset (no keysets configured); true = also with configured keysets (logged as a warning); false = never',
          ),
        channel: z.string().min(1).default('demo-chat').describe('The secured chat channel'),
        grantTtlMinutes: z.number().int().min(1).default(1).describe('How long a demo login lasts (minutes)'),
      })
      .strict()
      .prefault({}),
    cluster: z
      .object({
        // A string default keeps the derived env name (PARLEY_CLUSTER_WORKERS) taking "auto" and "4" alike.
        workers: z
          .preprocess(
            (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
            z
              .union([z.literal('off'), z.literal('auto'), z.number().int().min(0).max(MAX_CLUSTER_WORKERS)], {
                error: `off, auto or a number of workers from 0 to ${MAX_CLUSTER_WORKERS}`,
              })
              .default('off'),
          )
          .describe(
            'Worker processes sharing the listening port (node:cluster), to use every core of one machine: off or 0 = one process; auto = one per CPU (os.availableParallelism()); N = N workers. Needs store.kind "redis", the only engine whose state every process shares, and configured keysets. A crashed worker is restarted (backoff from 0.1 s doubling to 30 s); SIGTERM and SIGINT go to the primary, which stops every worker within shutdownTimeoutSec. Per-node limits (limits.max*) apply to each worker',
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const workers = cfg.cluster.workers;
    if (workers !== 'off' && workers !== 0) {
      if (cfg.store.kind !== 'redis') {
        ctx.addIssue({
          code: 'custom',
          path: ['cluster', 'workers'],
          message: `cluster.workers is ${JSON.stringify(workers)} but store.kind is "${cfg.store.kind}": worker processes share subscriptions, history and grants only through the redis engine (set redis.url / PARLEY_REDIS_URL), or set cluster.workers to off`,
        });
      }
      if (cfg.keysets.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['cluster', 'workers'],
          message: `cluster.workers is ${JSON.stringify(workers)} but no keyset is configured: the demo keyset's secret would be drawn per worker, so workers would reject each other's tokens; set PARLEY_PUBLISH_KEY, PARLEY_SUBSCRIBE_KEY and PARLEY_SECRET_KEY (or keysets)`,
        });
      }
    }
    if (cfg.store.kind === 'redis' && !cfg.redis.url) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'url'], message: 'store.kind is "redis" but redis.url (PARLEY_REDIS_URL) is empty' });
    }
    if (cfg.redis.url && !/^rediss?:\/\//.test(cfg.redis.url)) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'url'], message: `must start with redis:// or rediss:// (got "${cfg.redis.url.slice(0, 40)}")` });
    }
    const seen = new Set<string>();
    cfg.keysets.forEach((k, i) => {
      if (seen.has(k.subscribeKey)) {
        ctx.addIssue({ code: 'custom', path: ['keysets', i, 'subscribeKey'], message: `duplicate subscribeKey "${k.subscribeKey}"` });
      }
      seen.add(k.subscribeKey);
    });
    if (cfg.presence.defaultTimeoutSec > cfg.presence.maxTimeoutSec) {
      ctx.addIssue({
        code: 'custom',
        path: ['presence', 'defaultTimeoutSec'],
        message: `presence.defaultTimeoutSec (${cfg.presence.defaultTimeoutSec}) is above presence.maxTimeoutSec (${cfg.presence.maxTimeoutSec})`,
      });
    }
    const { limits } = cfg;
    if (limits.maxConnectionsPerAddress > limits.maxConnections) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxConnectionsPerAddress'],
        message: `limits.maxConnectionsPerAddress (${limits.maxConnectionsPerAddress}) is larger than limits.maxConnections (${limits.maxConnections})`,
      });
    }
    if (limits.maxChannelsPerSubscription > limits.maxSubscribedChannelsPerNode) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxChannelsPerSubscription'],
        message: `limits.maxChannelsPerSubscription (${limits.maxChannelsPerSubscription}) is larger than limits.maxSubscribedChannelsPerNode (${limits.maxSubscribedChannelsPerNode})`,
      });
    }
    if (limits.maxLongPollsPerAddress > limits.maxLongPolls) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxLongPollsPerAddress'],
        message: `limits.maxLongPollsPerAddress (${limits.maxLongPollsPerAddress}) is larger than limits.maxLongPolls (${limits.maxLongPolls})`,
      });
    }
    // A token or signature made with a secret verifies on every keyset that holds it: keysets sharing
    // a secret would accept each other's tokens and signed admin calls. The secret is never echoed.
    const secretOwner = new Map<string, number>();
    cfg.keysets.forEach((k, i) => {
      if (k.secretKey === '') return;
      const first = secretOwner.get(k.secretKey);
      if (first === undefined) secretOwner.set(k.secretKey, i);
      else {
        ctx.addIssue({
          code: 'custom',
          path: ['keysets', i, 'secretKey'],
          message: `keysets[${i}].secretKey is also the secret key of keysets[${first}]; each keyset needs its own secret key`,
        });
      }
    });
    // A previous secret is accepted like the current one while its window lasts: the same rule applies.
    cfg.keysets.forEach((k, i) => {
      const hasKey = k.previousSecretKey !== undefined;
      const hasUntil = k.previousSecretValidUntil !== undefined;
      if (hasKey !== hasUntil) {
        ctx.addIssue({
          code: 'custom',
          path: ['keysets', i, hasKey ? 'previousSecretValidUntil' : 'previousSecretKey'],
          message: `keysets[${i}].previousSecretKey and keysets[${i}].previousSecretValidUntil are set together (got only ${hasKey ? 'previousSecretKey' : 'previousSecretValidUntil'})`,
        });
      }
      if (!hasKey) return;
      if (k.secretKey === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['keysets', i, 'previousSecretKey'],
          message: `keysets[${i}].previousSecretKey needs a secretKey (the keyset has none)`,
        });
        return;
      }
      if (k.previousSecretKey === k.secretKey) {
        ctx.addIssue({ code: 'custom', path: ['keysets', i, 'previousSecretKey'], message: `keysets[${i}].previousSecretKey equals its secretKey` });
        return;
      }
      const owner = secretOwner.get(k.previousSecretKey as string);
      if (owner !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['keysets', i, 'previousSecretKey'],
          message: `keysets[${i}].previousSecretKey is the secret key of keysets[${owner}]; each keyset needs its own secret key`,
        });
      }
    });
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
