import { parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { demoKeyset } from '../config/demo-keyset.ts';
import { keysetFromConfig } from '../config/keyset-from-config.ts';
import type { Keyset } from '../keyset.ts';
import { createLogger, redactUrlPassword } from '../log.ts';
import { AccessManager } from '../access/access-manager.ts';
import { isOperation, OPERATIONS, requirementsFor, type Operation } from '../access/enforcement.ts';
import { describePermissions } from '../access/permissions.ts';
import { newSecretKey, SecretRotation } from '../access/secret-rotation.ts';
import { encodeString, signRequest } from '../access/signature.ts';
import { tokenBytes, checkTokenSignature } from '../access/token/verify.ts';
import { decodeTokenClaims, type PermissionMaps } from '../access/token/codec.ts';
import { TimetokenGenerator } from '../realtime/timetoken.ts';
import { backendsFromConfig } from '../store/index.ts';
import { isParleyError } from '../errors.ts';

/**
 * `parley` — operator commands. Output is for people (the only place console output is allowed);
 * exit codes: 0 ok (or allowed), 1 denied / invalid, 2 usage, 69 store unreachable, 78 bad config.
 */
const EX_UNAVAILABLE = 69;
const USAGE = `usage:
  parley serve                                   start the server (same as npm start)
  parley config print | check                    show the effective config (secrets redacted) / validate it
  parley token inspect <token> [--secret-key K]  decode a v3 token; with the secret, verify its signature
  parley explain --operation OP [--channel C]... [--group G]... [--uuid-resource U]...
                 [--auth TOKEN_OR_AUTH_KEY] [--uuid UUID] [--subscribe-key S]
                                                 the Access Manager's decision and which grant or pattern made it
  parley secret rotate [--url URL] [--subscribe-key S] [--overlap-minutes N] [--secret-key NEW]
                 [--current-secret-key K]        give the keyset a new secret key on the running server(s),
                                                 the current one accepted for N more minutes (default 60);
                                                 signed with the configured (or given) current secret
operations: ${Object.keys(OPERATIONS).join(', ')}`;

const out = (s = ''): void => void process.stdout.write(s + '\n');

function fail(message: string, code = 2): never {
  process.stderr.write(`parley: ${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EX_CONFIG);
    throw err;
  }
}

function keysetsOf(cfg: Config): Keyset[] {
  return cfg.keysets.length ? cfg.keysets.map(keysetFromConfig) : [demoKeyset(cfg.store.kind === 'sqlite' ? cfg.dataDir : null)];
}

function printMaps(title: string, maps: PermissionMaps): void {
  for (const kind of ['channels', 'groups', 'uuids'] as const) {
    for (const [name, bits] of maps[kind]) out(`  ${title} ${kind.slice(0, -1).padEnd(7)} ${JSON.stringify(name)}: ${describePermissions(bits)}`);
  }
}

function tokenInspect(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'secret-key': { type: 'string' } } });
  const token = positionals[0];
  if (!token) fail('token inspect needs a token');
  const bytes = tokenBytes(token);
  if (!bytes) fail('not a token: not base64url', 1);
  let claims: ReturnType<typeof decodeTokenClaims>;
  try {
    claims = decodeTokenClaims(bytes);
  } catch (err) {
    fail(`not a token: ${(err as Error).message}`, 1);
  }
  const expiresMs = (claims.issuedAtSec + claims.ttlMinutes * 60) * 1000;
  out(`version        ${claims.version}`);
  out(`issued         ${new Date(claims.issuedAtSec * 1000).toISOString()}`);
  out(`ttl            ${claims.ttlMinutes} min`);
  out(`expires        ${new Date(expiresMs).toISOString()}${expiresMs < Date.now() ? '  (EXPIRED)' : ''}`);
  out(`authorized     ${claims.authorizedUuid ?? '(any uuid)'}`);
  printMaps('resource', claims.resources);
  printMaps('pattern ', claims.patterns);
  if (claims.meta.size) out(`meta           ${JSON.stringify(Object.fromEntries(claims.meta))}`);
  const secret = values['secret-key'];
  if (secret !== undefined) {
    const check = checkTokenSignature(bytes, secret);
    out(`signature      ${check === 'ok' ? 'valid for this secret key' : 'INVALID for this secret key'}`);
    if (check !== 'ok') process.exitCode = 1;
  } else {
    out('signature      not checked (pass --secret-key to verify)');
  }
}

async function explainCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      operation: { type: 'string' },
      channel: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
      'uuid-resource': { type: 'string', multiple: true },
      auth: { type: 'string', default: '' },
      uuid: { type: 'string', default: '' },
      'subscribe-key': { type: 'string' },
    },
  });
  const op = values.operation;
  if (!op || !isOperation(op)) fail(`--operation must be one of: ${Object.keys(OPERATIONS).join(', ')}`);
  const cfg = config();
  const keysets = keysetsOf(cfg);
  const keyset = values['subscribe-key'] ? keysets.find((k) => k.subscribeKey === values['subscribe-key']) : keysets[0];
  if (!keyset) fail(`no keyset with subscribe key ${values['subscribe-key']}`, 1);
  let requirements: ReturnType<typeof requirementsFor>;
  try {
    requirements = requirementsFor(op as Operation, { channels: values.channel, groups: values.group, uuids: values['uuid-resource'] });
  } catch (err) {
    fail((err as Error).message);
  }
  // The server's backend (sqlite file, Redis prefix), chosen by the same function as app.ts uses.
  const log = createLogger({ level: 'silent' });
  const clock = { nowMs: () => Date.now() };
  const { stores, broker } = backendsFromConfig(cfg, { clock, timetokens: new TimetokenGenerator(clock), log });
  const access = new AccessManager({ grants: stores.grants, denyList: stores.denyList, clock, log, keysets });
  try {
    try {
      // The secrets the server verifies with: the config's, then any runtime rotation stored since.
      await new SecretRotation({ store: stores.secretRotations, keysets, clock, log }).start();
      await access.start();
    } catch (err) {
      if (!isParleyError(err)) throw err;
      fail(`cannot read the ${cfg.store.kind} store: ${err.message}`, EX_UNAVAILABLE);
    }
    const { decision, checks } = access.explain(keyset, values.auth ?? '', values.uuid ?? '', requirements);
    out(`keyset     ${keyset.subscribeKey}${keyset.secretKey ? '' : '  (Access Manager off)'}`);
    out(`operation  ${op}${OPERATIONS[op as Operation].admin ? '  (needs a secret-key signature)' : ''}`);
    out(`credential ${values.auth ? (values.auth.length > 40 ? 'v3 token' : 'v2 auth key') : '(none)'}${values.uuid ? `, uuid ${values.uuid}` : ''}`);
    for (const c of checks) {
      out(
        `  ${c.allowed ? 'ALLOW' : 'DENY '} ${describePermissions(c.requirement.perm)} on ${c.requirement.kind.slice(0, -1)} ${c.requirement.name === '' ? '(keyset level)' : JSON.stringify(c.requirement.name)}: ${c.detail}`,
      );
    }
    if (decision.allowed) out('decision   ALLOW');
    else out(`decision   DENY ${decision.code}: ${decision.message}`);
    process.exitCode = decision.allowed ? 0 : 1;
  } finally {
    access.close();
    await broker.close();
    await stores.close();
  }
}

function configCommand(sub: string | undefined): void {
  const cfg = config();
  if (sub === 'check') {
    out('configuration is valid');
    return;
  }
  if (sub !== 'print') fail('config takes print or check');
  const redacted = {
    ...cfg,
    redis: { ...cfg.redis, url: redactUrlPassword(cfg.redis.url) },
    keysets: cfg.keysets.map((k) => ({
      ...k,
      secretKey: k.secretKey ? '[redacted]' : '',
      ...(k.previousSecretKey !== undefined ? { previousSecretKey: '[redacted]' } : {}),
    })),
  };
  out(JSON.stringify(redacted, null, 2));
}

/**
 * `parley secret rotate`: the same signed call the operator console makes (POST
 * /v1/admin/{sub}/secret/rotate), so the running nodes apply and share the rotation. The new secret is
 * drawn here unless given, and printed once: it must go into the configuration of every app server.
 */
async function secretCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'rotate') fail(`secret takes rotate\n${USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string' },
      'subscribe-key': { type: 'string' },
      'overlap-minutes': { type: 'string', default: '60' },
      'secret-key': { type: 'string' },
      'current-secret-key': { type: 'string' },
    },
  });
  const overlapMinutes = Number(values['overlap-minutes']);
  if (!/^\d{1,6}$/.test(values['overlap-minutes'] ?? '')) fail('--overlap-minutes must be a whole number of minutes');
  const cfg = config();
  const keysets = keysetsOf(cfg);
  const keyset = values['subscribe-key'] ? keysets.find((k) => k.subscribeKey === values['subscribe-key']) : keysets[0];
  if (!keyset) fail(`no keyset with subscribe key ${values['subscribe-key']}`, 1);
  const current = values['current-secret-key'] ?? keyset.secretKey;
  if (!current) fail(`keyset ${keyset.subscribeKey} has no secret key: pass --current-secret-key`, 1);
  const base = (values.url ?? `http://127.0.0.1:${cfg.port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(base)) fail('--url must be http(s)://host:port');
  const secretKey = values['secret-key'] ?? newSecretKey();
  const path = `/v1/admin/${encodeString(keyset.subscribeKey)}/secret/rotate`;
  const params = { uuid: 'parley-cli', timestamp: String(Math.floor(Date.now() / 1000)) };
  const body = JSON.stringify({ secretKey, overlapMinutes });
  const signature = signRequest({ publishKey: keyset.publishKey, secretKey: current }, { method: 'POST', path, params, body });
  let res: Response;
  try {
    res = await fetch(`${base}${path}?uuid=${params.uuid}&timestamp=${params.timestamp}&signature=${signature}`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json' },
    });
  } catch (err) {
    fail(`cannot reach ${base}: ${(err as Error).message}`, EX_UNAVAILABLE);
  }
  const answer = (await res.json().catch(() => null)) as {
    data?: { rotatedAt: string; previousSecretValidUntil: string };
    code?: string;
    reason?: string;
    message?: string;
  } | null;
  if (!res.ok || !answer?.data) {
    fail(`rotation refused: ${res.status} ${answer?.code ?? ''} ${answer?.reason ?? answer?.message ?? ''}`.trim(), 1);
  }
  out(`keyset         ${keyset.subscribeKey}`);
  out(`rotated        ${answer.data.rotatedAt}`);
  out(`old secret     accepted until ${answer.data.previousSecretValidUntil}`);
  out(`new secret     ${secretKey}`);
  out('');
  out('Store the new secret now: it signs every new token. Put it in keysets[].secretKey (PARLEY_SECRET_KEY)');
  out('and in every app server; keep the old one as keysets[].previousSecretKey with previousSecretValidUntil');
  out('until then if you restart with the new configuration before the window ends.');
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      await import('../main.ts');
      return;
    case 'config':
      return configCommand(rest[0]);
    case 'token':
      if (rest[0] !== 'inspect') fail(USAGE);
      return tokenInspect(rest.slice(1));
    case 'explain':
      return explainCommand(rest);
    case 'secret':
      return secretCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      out(USAGE);
      return;
    default:
      fail(`unknown command "${cmd}"\n${USAGE}`);
  }
}

await main(process.argv.slice(2));
