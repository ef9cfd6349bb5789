/**
 * The long-poll load generator: N subscribers on one channel, each one keep-alive HTTP/1.1 connection
 * on a raw socket, and a publisher with a few requests in flight. Per message it records when the
 * publish was sent and how many subscribers have it, so it measures latency and counts losses and
 * duplicates.
 *
 * Why raw sockets: a node:http client costs tens of microseconds per long-poll answer and cannot drive
 * a fast server from one core (performance.md: about 26k deliveries/s). Here each connection reads
 * through `onread` into one buffer shared by every socket (no stream machinery, no allocation per read)
 * and parses only what these servers send: the status line, Content-Length, nchan's Etag, the body.
 *
 * Two dialects, one workload: PubNub's subscribe v2 (Parley and the node:http baseline: a handshake,
 * then `tt` from each answer's `t.t`, each envelope's own timetoken `p.t`) and nchan's long-poll (no
 * handshake: the first poll waits for the next message; the position is the Etag of the last answer,
 * sent back as `tt`; a behind subscriber gets every queued message in one answer, one per line).
 */
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Dialect, HOST, PUB_KEY, type ServerProcess, SUB_KEY } from './servers.ts';
import { selfCpuSeconds, sleep, waitIdle } from './system.ts';

export const CHANNEL = 'bench-fanout';
/** Pads each message to about 100 bytes of JSON, the size the peers in performance.md were run with. */
const PAD = 'x'.repeat(78);
/** Messages per run at most (ids index the per-message accounting arrays). */
export const MAX_MESSAGES = 1 << 20;

/** Every socket's reads land here; each read is parsed (or copied) before the next one. */
const READ_BUFFER = Buffer.allocUnsafe(1 << 20);
const HEAD_END = Buffer.from('\r\n\r\n');

type Answer = (err: Error | null, status: number, etag: string, body: string) => void;

/** One keep-alive HTTP/1.1 connection: one request at a time, each answered before the next. */
class RawConnection {
  private socket: net.Socket | null = null;
  private pending: Buffer | null = null;
  private done: Answer | null = null;

  constructor(private readonly port: number) {}

  request(head: string, done: Answer): void {
    if (!this.socket || this.socket.destroyed) this.socket = this.connect();
    this.done = done;
    this.socket.write(head, 'latin1');
  }

  private connect(): net.Socket {
    this.pending = null;
    const socket = net.connect({
      host: HOST,
      port: this.port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.onBytes(buf as Buffer, n);
          return true;
        },
      },
    });
    const fail = (err: Error): void => {
      const done = this.done;
      this.done = null;
      done?.(err, 0, '', '');
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return socket;
  }

  private onBytes(buf: Buffer, n: number): void {
    let data = this.pending === null ? buf.subarray(0, n) : Buffer.concat([this.pending, buf.subarray(0, n)]);
    this.pending = null;
    for (;;) {
      const headEnd = data.indexOf(HEAD_END);
      if (headEnd < 0) break;
      const head = data.toString('latin1', 0, headEnd);
      let cl = head.indexOf('\r\nContent-Length: ');
      if (cl < 0) cl = head.toLowerCase().indexOf('\r\ncontent-length: ');
      if (cl < 0) {
        this.socket?.destroy(new Error('answer without Content-Length'));
        return;
      }
      const bodyStart = headEnd + 4;
      const bodyEnd = bodyStart + parseInt(head.slice(cl + 18), 10);
      if (data.length < bodyEnd) break;
      let etag = '';
      const e = head.indexOf('\r\nEtag: ');
      if (e >= 0) {
        const end = head.indexOf('\r\n', e + 8);
        etag = head.slice(e + 8, end < 0 ? head.length : end);
      }
      const body = data.toString('utf8', bodyStart, bodyEnd);
      data = data.subarray(bodyEnd);
      const done = this.done;
      this.done = null;
      done?.(null, parseInt(head.slice(9, 12), 10), etag, body);
      if (data.length === 0) return;
    }
    // Keep the partial answer: `buf` is reused by the next read of any socket.
    if (data.length > 0) this.pending = Buffer.from(data);
  }

  close(): void {
    this.done = null;
    this.socket?.destroy();
  }
}

interface SubscribeAnswer {
  t: { t: string };
  m: { p: { t: string }; d: { id: number } }[];
}

/** Decimal positions of different lengths compare by length, then digits (timetokens pass 2^53). */
const after = (a: string, b: string): boolean => a.length > b.length || (a.length === b.length && a > b);

/** nchan message ids are `<time>:<tag>` (the tag counts within one second). */
function etagAfter(a: string, b: string): boolean {
  if (b === '') return true;
  const ia = a.indexOf(':');
  const ib = b.indexOf(':');
  const ta = a.slice(0, ia);
  const tb = b.slice(0, ib);
  if (ta !== tb) return after(ta, tb);
  return after(a.slice(ia + 1), b.slice(ib + 1));
}

class Subscriber {
  cursor = '';
  /** Position of the last message received: it must rise strictly per subscriber. */
  lastPosition = '';
  /** Id of the last message received (the latency phase publishes one at a time, so ids rise too). */
  lastId = 0;
  private readonly conn: RawConnection;
  private readonly pollHead: string;

  constructor(
    private readonly load: Load,
    port: number,
    private readonly uuid: string,
  ) {
    this.conn = new RawConnection(port);
    this.pollHead = `/v2/subscribe/${SUB_KEY}/${CHANNEL}/0?`;
  }

  /** wire-protocol.md §3.2: the first subscribe has no tt and answers at once with the current one. */
  handshake(): Promise<void> {
    if (this.load.dialect === 'nchan') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.conn.request(`GET ${this.pollHead}uuid=${this.uuid} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, (err, status, _etag, body) => {
        if (err || status !== 200) return reject(err ?? new Error(`handshake: HTTP ${status} ${body.slice(0, 200)}`));
        this.cursor = (JSON.parse(body) as SubscribeAnswer).t.t;
        resolve();
      });
    });
  }

  poll(): void {
    const load = this.load;
    if (!load.running) return;
    const query = load.dialect === 'pubnub' ? `tt=${this.cursor}&tr=1&uuid=${this.uuid}` : this.cursor ? `tt=${this.cursor}` : '';
    this.conn.request(`GET ${this.pollHead}${query} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, (err, status, etag, body) => {
      if (!load.running) return;
      if (err || status !== 200) {
        load.errors++;
        if (load.errors <= 3) process.stderr.write(`  subscribe failed: ${err?.message ?? `HTTP ${status} ${body.slice(0, 200)}`}\n`);
        setTimeout(() => this.poll(), 50);
        return;
      }
      const now = performance.now();
      load.answers++;
      if (load.dialect === 'pubnub') {
        const answer = JSON.parse(body) as SubscribeAnswer;
        this.cursor = answer.t.t;
        for (const env of answer.m) {
          if (after(env.p.t, this.lastPosition)) this.lastPosition = env.p.t;
          else load.duplicates++;
          load.delivered(this, env.d.id, now);
        }
      } else {
        // One message per line; the Etag is the position of the last one.
        if (!etagAfter(etag, this.lastPosition)) load.duplicates++;
        this.cursor = this.lastPosition = etag;
        let from = 0;
        while (from < body.length) {
          let to = body.indexOf('\n', from);
          if (to < 0) to = body.length;
          if (to > from) load.delivered(this, (JSON.parse(body.slice(from, to)) as { id: number }).id, now);
          from = to + 1;
        }
      }
      this.poll();
    });
  }

  close(): void {
    this.conn.close();
  }
}

/** N subscribers on the channel, a publisher, and per-message delivery accounting. */
export class Load {
  readonly dialect: Dialect;
  readonly pubAgent: http.Agent;
  readonly subs: Subscriber[] = [];
  running = true;
  /** Per message id: when its publish was sent, and how many subscribers have it. */
  private readonly sentAt = new Float64Array(MAX_MESSAGES + 1);
  private readonly got = new Uint32Array(MAX_MESSAGES + 1);
  nextId = 1;
  /** Lowest id not yet delivered to every subscriber. */
  complete = 1;
  /** Called whenever `complete` advances or a publish answers. */
  onProgress: (() => void) | null = null;
  /** Per-delivery latencies (ms) while recording. */
  latencies: number[] | null = null;
  /** Told every delivery's latency (ms) and message id (the soak's per-minute histograms). */
  onLatency: ((ms: number, id: number) => void) | null = null;
  deliveries = 0;
  answers = 0;
  errors = 0;
  duplicates = 0;
  /** Deliveries that had not arrived when a latency phase gave up waiting. */
  missing = 0;

  constructor(
    readonly server: ServerProcess,
    readonly n: number,
    readonly publishesInFlight: number,
  ) {
    this.dialect = server.dialect;
    // performance.md lever 5: no Nagle on either side.
    this.pubAgent = new http.Agent({ keepAlive: true, maxSockets: 2 * publishesInFlight, noDelay: true });
    for (let i = 0; i < n; i++) this.subs.push(new Subscriber(this, server.port, `bench-sub-${i}`));
  }

  /**
   * Handshakes and parks the polls 100 subscribers at a time: each batch's parked polls hold their
   * sockets, so the next batch opens its own, and no burst of connects overflows the listen backlog
   * (a dropped SYN is retried only after a second).
   */
  async connect(): Promise<void> {
    for (let i = 0; i < this.subs.length; i += 100) {
      const batch = this.subs.slice(i, i + 100);
      await Promise.all(batch.map((s) => s.handshake()));
      for (const s of batch) s.poll();
      // nchan has no handshake: let the batch's polls reach it before the next batch connects.
      if (this.dialect === 'nchan') await sleep(5);
    }
  }

  delivered(sub: Subscriber, id: number, now: number): void {
    if (!(id > 0 && id < MAX_MESSAGES) || this.got[id] >= this.n) {
      this.duplicates++;
      return;
    }
    if (id > sub.lastId) sub.lastId = id;
    this.deliveries++;
    this.latencies?.push(now - this.sentAt[id]);
    this.onLatency?.(now - this.sentAt[id], id);
    if (++this.got[id] === this.n && id === this.complete) {
      while (this.got[this.complete] === this.n) this.complete++;
      this.onProgress?.();
    }
  }

  /** How many subscribers lack message `id`. */
  missingOf(id: number): number {
    return this.n - this.got[id];
  }

  publish(id: number, done: () => void): void {
    const message = JSON.stringify({ id, text: PAD });
    this.sentAt[id] = performance.now();
    const finish = (err: Error | null, status: number, body: string): void => {
      if (err || status < 200 || status > 299) {
        this.errors++;
        if (this.errors <= 3) process.stderr.write(`  publish failed: ${err?.message ?? `HTTP ${status} ${body.slice(0, 200)}`}\n`);
      }
      done();
      this.onProgress?.();
    };
    const pathBase = `/publish/${PUB_KEY}/${SUB_KEY}/0/${CHANNEL}/0`;
    // nchan publishes the POST body; Parley and the baseline take PubNub's GET publish.
    const post = this.dialect === 'nchan';
    const req = http.request(
      {
        agent: this.pubAgent,
        host: HOST,
        port: this.server.port,
        method: post ? 'POST' : 'GET',
        path: post ? pathBase : `${pathBase}/${encodeURIComponent(message)}?uuid=bench-pub`,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => finish(null, res.statusCode ?? 0, body));
        res.on('error', (err) => finish(err, 0, ''));
      },
    );
    req.on('error', (err) => finish(err, 0, ''));
    req.end(post ? message : undefined);
  }

  close(): void {
    this.running = false;
    for (const s of this.subs) s.close();
    this.pubAgent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// Phases

export interface LatencyResult {
  latencies: Float64Array;
  deliveries: number;
  serverCpu: number;
}

/** One message at a time; each waits (bounded) until every subscriber has it and the server sleeps again. */
export async function latencyPhase(load: Load, count: number, record: boolean, deliveryTimeoutMs: number): Promise<LatencyResult> {
  const srv = load.server;
  const latencies: number[] = [];
  load.latencies = record ? latencies : null;
  let timeouts = 0;
  const d0 = load.deliveries;
  const cpu0 = srv.cpuSeconds();
  for (let k = 0; k < count && timeouts < 3; k++) {
    const id = load.nextId++;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), deliveryTimeoutMs);
      load.onProgress = () => {
        if (load.complete > id) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      load.publish(id, () => {});
    });
    load.onProgress = null;
    if (!ok) {
      timeouts++;
      load.missing += load.missingOf(id);
      // Give up on this id so later ids can complete.
      load.complete = Math.max(load.complete, id + 1);
    }
    // Let the re-polls reach the server and park before the next publish, so each message measures a
    // wake of parked polls rather than a race with the previous fan-out.
    await new Promise((r) => setImmediate(r));
    await waitIdle(srv.pids(), 50);
  }
  load.latencies = null;
  const serverCpu = srv.cpuSeconds() - cpu0;
  return { latencies: Float64Array.from(latencies).sort(), deliveries: load.deliveries - d0, serverCpu };
}

export interface ThroughputResult {
  seconds: number;
  messages: number;
  deliveries: number;
  answers: number;
  /** Deliveries still missing after the drain: lost messages (should be 0). */
  undelivered: number;
  serverCpu: number;
  /** The part of serverCpu spent in the kernel. */
  serverSystemCpu: number;
  clientCpu: number;
}

/**
 * Publishes with a few requests in flight for `seconds` (paused while the slowest subscriber is
 * `window` messages behind), then waits for the drain (bounded).
 */
export async function throughputPhase(load: Load, seconds: number, window: number, drainTimeoutMs: number): Promise<ThroughputResult> {
  const srv = load.server;
  const firstId = load.nextId;
  const d0 = load.deliveries;
  const a0 = load.answers;
  const cpu0 = srv.cpuSeconds();
  const sys0 = srv.systemSeconds();
  const ccpu0 = selfCpuSeconds();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let inFlight = 0;

  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadlineTimer);
      clearTimeout(drainTimer);
      load.onProgress = null;
      resolve();
    };
    const pump = (): void => {
      const publishing = performance.now() < deadline;
      while (publishing && inFlight < load.publishesInFlight && load.nextId - load.complete < window && load.nextId < MAX_MESSAGES) {
        inFlight++;
        load.publish(load.nextId++, () => inFlight--);
      }
      if (!publishing && inFlight === 0 && load.complete === load.nextId) finish();
    };
    // Wakes the pump when the deadline passes with nothing else happening, and bounds the drain.
    const deadlineTimer = setTimeout(pump, seconds * 1000 + 1);
    const drainTimer = setTimeout(finish, seconds * 1000 + drainTimeoutMs);
    load.onProgress = pump;
    pump();
  });

  const messages = load.nextId - firstId;
  let undelivered = 0;
  for (let id = firstId; id < load.nextId; id++) undelivered += load.missingOf(id);
  return {
    seconds: (performance.now() - t0) / 1000,
    messages,
    deliveries: load.deliveries - d0,
    answers: load.answers - a0,
    undelivered,
    serverCpu: srv.cpuSeconds() - cpu0,
    serverSystemCpu: srv.systemSeconds() - sys0,
    clientCpu: selfCpuSeconds() - ccpu0,
  };
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
