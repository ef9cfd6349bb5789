import { encodeString, signRequest } from '../../src/access/signature.ts';
import type { Keyset } from '../../src/keyset.ts';

export interface SignedFetchOptions {
  query?: Record<string, string>;
  /** JSON-encoded when not a string. */
  body?: unknown;
  /** Sign with this secret instead of the keyset's (a wrong or rotated-out one). */
  secretKey?: string;
  /** The `timestamp` to sign (a test's fake clock); default now. */
  nowMs?: number;
  uuid?: string;
  /** Leave the signature and timestamp out: an unsigned request. */
  unsigned?: boolean;
}

/** The URL (path and signed query) of a body-less request, for a caller that fetches it itself (a long-poll). */
export function signedUrl(
  baseUrl: string,
  keyset: Pick<Keyset, 'publishKey' | 'secretKey'>,
  method: string,
  path: string,
  query: Record<string, string> = {},
  nowMs = Date.now(),
): string {
  const params: Record<string, string> = { ...query, uuid: query.uuid ?? 'ops', timestamp: String(Math.floor(nowMs / 1000)) };
  const qs = Object.keys(params)
    .map((k) => `${k}=${encodeString(params[k])}`)
    .join('&');
  return `${baseUrl}${path}?${qs}&signature=${signRequest(keyset, { method, path, params })}`;
}

/** One request to a test server, signed with a keyset's secret as a server SDK signs it (§9). */
export async function signedFetch(
  baseUrl: string,
  keyset: Pick<Keyset, 'publishKey' | 'secretKey'>,
  method: string,
  path: string,
  options: SignedFetchOptions = {},
): Promise<{ status: number; body: any }> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const params: Record<string, string> = { ...options.query, uuid: options.uuid ?? 'ops' };
  if (!options.unsigned) params.timestamp = String(Math.floor((options.nowMs ?? Date.now()) / 1000));
  let qs = Object.keys(params)
    .map((k) => `${k}=${encodeString(params[k])}`)
    .join('&');
  if (!options.unsigned) {
    const secretKey = options.secretKey ?? keyset.secretKey;
    const signature = signRequest(
      { publishKey: keyset.publishKey, secretKey },
      { method, path, params, body: method === 'POST' || method === 'PATCH' ? body : undefined },
    );
    qs += `&signature=${signature}`;
  }
  const res = await fetch(`${baseUrl}${path}?${qs}`, { method, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed };
}
