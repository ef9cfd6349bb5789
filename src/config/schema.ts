import { z } from 'zod';

/**
 * The single source of Parley's configuration: types, defaults, units and descriptions.
 * Env names are derived from the path (presence.defaultTimeoutSec → PARLEY_PRESENCE_DEFAULT_TIMEOUT_SEC);
 * a few short public names (PORT, PARLEY_DATA_DIR, PARLEY_*_KEY, PARLEY_REDIS_URL) are mapped in load.ts.
 */

const name = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const KeysetSchema = z
  .object({
    publishKey: name.describe('Publish key clients put in publish and signal paths'),
    subscribeKey: name.describe('Subscribe key; scopes all data of the keyset'),
    secretKey: z
      .string()
      .max(256)
      .default('')
      .describe('Secret key; non-empty turns the Access Manager on for this keyset, empty leaves it open'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0').describe('Address to listen on'),
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port (0 = any free port)'),
    dataDir: z.string().min(1).default('./data').describe('Directory for the SQLite file, demo keys and uploads'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level'),
    store: z
      .object({
        kind: z.enum(['sqlite', 'memory', 'redis']).default('sqlite').describe('Storage engine: sqlite (durable, default), memory (tests) or redis (several nodes)'),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        url: z.string().default('').describe('redis:// URL shared by every node; setting it (PARLEY_REDIS_URL) selects the redis engine'),
        prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only (no braces or spaces)').default('parley').describe('Key prefix of this deployment; all its nodes use the same'),
      })
      .strict()
      .prefault({}),
    keysets: z.array(KeysetSchema).default([]).describe('Keysets; empty = the demo keyset'),
    subscribe: z
      .object({
        longPollTimeoutSec: z.number().int().min(1).max(300).default(280).describe('How long a long-poll is held before an empty answer (SDK gives up at 310 s)'),
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
      })
      .strict()
      .prefault({}),
    access: z
      .object({
        signatureWindowSec: z.number().int().min(1).max(3600).default(60).describe('Allowed clock skew of signed requests (seconds)'),
        tokenCacheSize: z.number().int().min(0).default(10_000).describe('Verified tokens cached in memory (0 = no cache)'),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        enabled: z.boolean().default(true).describe('Serve the secure chat demo at /demo/ with its app server in-process'),
        channel: z.string().min(1).default('demo-chat').describe('The secured chat channel'),
        grantTtlMinutes: z.number().int().min(1).default(1).describe('How long a demo login lasts (minutes)'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
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
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
