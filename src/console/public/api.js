// Every call the console makes: an ordinary request to Parley's public API, signed with the keyset's
// secret like a server SDK's (no cookie, no session, no private endpoint). The Access Manager and its
// logs see the console as any other holder of the secret key.
import { encodeString, importSecret, signRequest } from './sign.js';

const PNSDK = 'Parley-Console/1';

/** A refusal or failure as Parley answered it: HTTP status, error code and its reason. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function reasonOf(status, body) {
  if (body && typeof body === 'object') {
    if (typeof body.reason === 'string') return body.reason;
    if (body.error && typeof body.error === 'object' && typeof body.error.message === 'string') return body.error.message;
    if (typeof body.message === 'string') return body.message;
    if (typeof body.error_message === 'string') return body.error_message;
  }
  return `HTTP ${status}`;
}

export class ParleyApi {
  /** Use ParleyApi.signIn: the key is a non-extractable CryptoKey, never the secret's text. */
  constructor({ subscribeKey, publishKey, key, uuid = 'parley-console' }) {
    this.subscribeKey = subscribeKey;
    this.publishKey = publishKey;
    this.key = key;
    this.uuid = uuid;
    /** Server time minus this browser's time (ms): signatures carry the server's notion of now. */
    this.offsetMs = 0;
  }

  /**
   * Imports the secret and makes one signed call (the overview's stats): a wrong secret or key is
   * refused by Parley with a 403 whose reason the sign-in form shows, and nothing else is fetched.
   */
  static async signIn({ subscribeKey, publishKey, secretKey }) {
    const api = new ParleyApi({ subscribeKey, publishKey, key: await importSecret(secretKey) });
    await api.syncTime();
    const stats = await api.stats();
    return { api, stats };
  }

  /** Replaces the signing key (after a rotation); the old one is dropped. */
  async useSecret(secretKey) {
    this.key = await importSecret(secretKey);
  }

  /** Reads Parley's clock (`/time/0`, public, never signed) so `timestamp` is within its window. */
  async syncTime() {
    const before = Date.now();
    const res = await fetch('/time/0', { cache: 'no-store' });
    const [timetoken] = await res.json();
    const after = Date.now();
    this.offsetMs = Math.round(Number(timetoken) / 10_000 - (before + after) / 2);
  }

  timestamp() {
    return String(Math.floor((Date.now() + this.offsetMs) / 1000));
  }

  get sub() {
    return encodeString(this.subscribeKey);
  }

  async request(method, path, options = {}) {
    const { query = {}, body, uuid, signal, isRetry = false } = options;
    const params = { ...query, uuid: uuid ?? this.uuid, pnsdk: PNSDK, timestamp: this.timestamp() };
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const signature = await signRequest(this.key, { method, publishKey: this.publishKey, path, query: params, body: text });
    const qs = Object.keys(params).map((k) => `${k}=${encodeString(String(params[k]))}`).join('&');
    let res;
    try {
      res = await fetch(`${path}?${qs}&signature=${encodeString(signature)}`, {
        method,
        body: method === 'POST' || method === 'PATCH' ? text : undefined,
        headers: method === 'POST' || method === 'PATCH' ? { 'Content-Type': 'application/json' } : undefined,
        cache: 'no-store',
        signal,
      });
    } catch (err) {
      if (err && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'NETWORK', 'Parley could not be reached', null);
    }
    const raw = await res.text();
    let data;
    try {
      data = raw === '' ? null : JSON.parse(raw);
    } catch {
      data = raw;
    }
    // This browser's clock or the offset drifted (or the server's clock moved): read it again, once.
    if (res.status === 403 && data && data.code === 'SIGNATURE_EXPIRED' && !isRetry) {
      await this.syncTime();
      return this.request(method, path, { ...options, isRetry: true });
    }
    if (!res.ok) throw new ApiError(res.status, (data && data.code) || `HTTP_${res.status}`, reasonOf(res.status, data), data);
    return data;
  }

  // Parley's admin API (/v1/admin/{sub}/…): admin operations, secret-key signature only.
  async stats() {
    return (await this.request('GET', `/v1/admin/${this.sub}/stats`)).data;
  }
  async inspectToken(token) {
    return (await this.request('POST', `/v1/admin/${this.sub}/token/inspect`, { body: { token } })).data;
  }
  async explain(request) {
    return (await this.request('POST', `/v1/admin/${this.sub}/explain`, { body: request })).data;
  }
  async kick(request) {
    return (await this.request('POST', `/v1/admin/${this.sub}/kick`, { body: request })).data;
  }
  async rotateSecret(request) {
    return (await this.request('POST', `/v1/admin/${this.sub}/secret/rotate`, { body: request })).data;
  }

  // PubNub's own API, as any server SDK calls it.
  hereNowGlobal() {
    return this.request('GET', `/v2/presence/sub-key/${this.sub}`);
  }
  hereNow(channel) {
    return this.request('GET', `/v2/presence/sub-key/${this.sub}/channel/${encodeString(channel)}`, { query: { state: '1', limit: '1000' } });
  }
  history(channel, max = 25) {
    return this.request('GET', `/v3/history/sub-key/${this.sub}/channel/${encodeString(channel)}`, {
      query: { max: String(max), include_uuid: 'true', include_meta: 'true' },
    });
  }
  /** Publish as any uuid: the secret's signature bypasses grants, the uuid is the publisher's. */
  publish(channel, message, uuid) {
    const path = `/publish/${encodeString(this.publishKey)}/${this.sub}/0/${encodeString(channel)}/0/${encodeString(JSON.stringify(message))}`;
    return this.request('GET', path, { uuid, query: { store: '1' } });
  }
  /** One subscribe long-poll; heartbeat=0 keeps the console out of the channel's presence. */
  subscribe(channel, timetoken, region, signal) {
    const query = { tt: timetoken, heartbeat: '0' };
    if (region !== undefined) query.tr = String(region);
    return this.request('GET', `/v2/subscribe/${this.sub}/${encodeString(channel)}/0`, { query, signal });
  }
  grantToken(body) {
    return this.request('POST', `/v3/pam/${this.sub}/grant`, { body });
  }
  revokeToken(token) {
    return this.request('DELETE', `/v3/pam/${this.sub}/grant/${encodeString(token)}`);
  }
  audit() {
    return this.request('GET', `/v2/auth/audit/sub-key/${this.sub}`);
  }
  /** v2 grant; all flags 0 withdraws (§7.1). */
  grantV2(query) {
    return this.request('GET', `/v2/auth/grant/sub-key/${this.sub}`, { query });
  }
}
