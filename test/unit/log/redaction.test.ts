import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactPath, redactQuery, redactUrl, redactUrlPassword } from '../../../src/log.ts';
import { signToken } from '../../../src/access/token/sign.ts';

const TOKEN = signToken('sec-redaction-test', {
  version: 2,
  issuedAtSec: 1_700_000_000,
  ttlMinutes: 60,
  resources: { channels: new Map([['lobby', 3]]), groups: new Map(), uuids: new Map() },
  patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
  meta: new Map(),
  authorizedUuid: 'alice',
});

/** Everything a logger wrote, one parsed line per entry. */
function capture(): { lines: () => string; log: ReturnType<typeof createLogger> } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { lines: () => chunks.join(''), log: createLogger({ level: 'debug', destination: sink }) };
}

test('redactPath: the token of a revoke path, a publish signature segment and any token-shaped segment', () => {
  assert.equal(redactPath(`/v3/pam/sub-c-1/grant/${TOKEN}`), '/v3/pam/sub-c-1/grant/[redacted]');
  assert.equal(redactPath('/v1/files/sub-c-1/download/eyJhIjoxfQ.c2lnbmF0dXJl/a.txt'), '/v1/files/sub-c-1/download/[redacted]/a.txt');
  assert.equal(redactPath(`/v3/pam/sub-c-1/grant/${encodeURIComponent(TOKEN)}`), '/v3/pam/sub-c-1/grant/[redacted]');
  assert.equal(redactPath('/publish/pub-1/sub-1/0/ch/0/%22hi%22'), '/publish/pub-1/sub-1/0/ch/0/%22hi%22');
  assert.equal(redactPath('/publish/pub-1/sub-1/c2lnbmF0dXJl/ch/0/%22hi%22'), '/publish/pub-1/sub-1/[redacted]/ch/0/%22hi%22');
  assert.equal(redactPath('/signal/pub-1/sub-1/abc/ch/0/1'), '/signal/pub-1/sub-1/[redacted]/ch/0/1');
  assert.equal(redactPath(`/v2/subscribe/sub-1/${TOKEN}/0`), '/v2/subscribe/sub-1/[redacted]/0');
  assert.equal(redactPath('/v2/subscribe/sub-1/chat.lobby,news/0'), '/v2/subscribe/sub-1/chat.lobby,news/0');
  assert.equal(redactPath('/time/0'), '/time/0');
});

test('redactQuery: auth, signature and token values, whatever the spelling of their names, and token-shaped values', () => {
  assert.equal(redactQuery('uuid=u1&auth=k-secret&pnsdk=x'), 'uuid=u1&auth=[redacted]&pnsdk=x');
  assert.equal(redactQuery('signature=v2.abc&timestamp=1&token=t'), 'signature=[redacted]&timestamp=1&token=[redacted]');
  assert.equal(redactQuery('%61uth=k-secret&AUTH=k2&uuid=u'), '%61uth=[redacted]&AUTH=[redacted]&uuid=u');
  assert.equal(redactQuery(`uuid=u&x=${TOKEN}`), 'uuid=u&x=[redacted]');
  assert.equal(redactQuery('auth'), 'auth=[redacted]');
  assert.equal(redactQuery(''), '');
  assert.equal(redactUrl(`/v2/subscribe/s/c/0?auth=${TOKEN}&uuid=u`), '/v2/subscribe/s/c/0?auth=[redacted]&uuid=u');
});

test('redactUrlPassword: only the password of a URL', () => {
  assert.equal(redactUrlPassword('redis://user:p%40ss@redis.internal:6379/0'), 'redis://user:[redacted]@redis.internal:6379/0');
  assert.equal(redactUrlPassword('rediss://:only-pass@h:6380'), 'rediss://:[redacted]@h:6380');
  assert.equal(redactUrlPassword('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.equal(redactUrlPassword('redis://user@h'), 'redis://user@h');
  assert.equal(redactUrlPassword(''), '');
});

test('a logged path, url, req or query never carries a token, auth key or signature', () => {
  const { log, lines } = capture();
  // The line of issue 9 §4: a revoke that failed during an outage, as protocol/server.ts logs it.
  log.error({ err: new Error('redis revoke failed'), path: `/v3/pam/sub-c-1/grant/${TOKEN}` }, 'request failed');
  log.info({ url: `/v2/subscribe/s/c/0?auth=k-secret-auth&signature=v2.sig-value&uuid=u` }, 'x');
  log.info({ req: { method: 'GET', url: `/publish/p/s/sig-value/c/0/1?auth=k-secret-auth`, headers: {} } }, 'y');
  log.info({ rawQuery: 'auth=k-secret-auth', query: { auth: 'k-secret-auth', token: TOKEN }, token: TOKEN, signature: 'sig-value' }, 'z');
  log.child({ path: `/v3/pam/s/grant/${TOKEN}` }).warn('child binding');
  log.info({ redis: { url: 'redis://u:redis-password@h:6379' } }, 'config');
  const text = lines();
  for (const secret of [TOKEN, 'k-secret-auth', 'sig-value', 'redis-password']) assert.ok(!text.includes(secret), `${secret.slice(0, 20)} leaked: ${text}`);
  assert.equal((text.match(/\[redacted\]/g) ?? []).length >= 9, true, text);
  const first = JSON.parse(text.split('\n')[0]);
  assert.equal(first.path, '/v3/pam/sub-c-1/grant/[redacted]');
});
