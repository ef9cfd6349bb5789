import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Keyset } from '../keyset.ts';

/**
 * The keyset `npm start` uses when none is configured. The secret is random per data directory (kept
 * in demo-keyset.json, mode 0600) so a demo left listening on a network does not share a known secret.
 * With the memory store nothing is written and a fresh secret is drawn per start.
 */
export function demoKeyset(dataDir: string | null): Keyset {
  const file = dataDir ? join(dataDir, 'demo-keyset.json') : null;
  if (file && existsSync(file)) {
    const k = JSON.parse(readFileSync(file, 'utf8')) as Keyset;
    if (k.publishKey && k.subscribeKey && k.secretKey) return k;
  }
  const keyset: Keyset = { publishKey: 'pub-c-demo', subscribeKey: 'sub-c-demo', secretKey: 'sec-c-' + randomBytes(24).toString('base64url') };
  if (file && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(keyset, null, 2) + '\n', { mode: 0o600 });
  }
  return keyset;
}
