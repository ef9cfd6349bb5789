/**
 * Authorized publish beside a trivial node:http JSON handler, in one run (issue 11, performance.md
 * "Targets": authorized publish ≥ 0.75x the trivial handler).
 *
 *   npx tsx bench/publish.ts [--seconds 4] [--rounds 3] [--connections 50] [--parley dist|src] [--cpu-prof DIR]
 *   (also part of `npm run bench`)
 *
 * Servers, all started first and idle on the server core until their turn; each round loads each in
 * turn with the same load for the same time (ratios: median of the per-round ratios):
 * - json:          bench/baseline-json-server.ts, answers every request with `[1,"Sent","…"]`;
 * - parley-memory: Parley with the Access Manager on (a keyset with a secret key), publishing with a v3
 *                  token granting write on the channel, `store=0` (storage off), memory engine;
 * - parley-sqlite: the same on the SQLite engine with storage on (each message written to history).
 * The load is `wrk -t1 -c<connections>` pinned to the load core (Debian package `wrk`), or, without
 * wrk, the same number of keep-alive connections on raw sockets from this process. Figures: requests
 * per second and per server-CPU-second; every answer must be a 200 (counted otherwise).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { encodeString, signRequest } from '../src/access/signature.ts';
import { HOST, type ParleyBuild, PUB_KEY, prepareParley, type ServerProcess, SUB_KEY, startServer } from './lib/servers.ts';
import { LOAD_CORE, pinned, pinSelfToLoadCore, sleep } from './lib/system.ts';

const SECRET = 'bench-secret-0123456789abcdef0123456789';
const CHANNEL = 'bench-publish';
const UUID = 'bench-pub';
/** A ~100-byte message, as in the fan-out benchmark. */
const MESSAGE = JSON.stringify({ id: 1, text: 'x'.repeat(78) });
const WRITE = 2;

export type PublishServer = 'json' | 'parley-memory' | 'parley-sqlite';

export interface PublishRow {
  server: PublishServer;
  /** What the server does per request. */
  what: string;
  /** Medians over the rounds. */
  requestsPerSecond: number;
  requestsPerCpuSecond: number;
  serverCpuPercent: number;
  /** Answers that were not 200, and socket errors, over every round. */
  failures: number;
  /** Median of the per-round ratios to the JSON handler (null for the handler itself). */
  ratio: number | null;
  ratioPerCpuSecond: number | null;
  rounds: number;
  client: string;
}

async function wrkAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('wrk', ['-v'], (_err, stdout, stderr) => resolve(/^wrk /.test(String(stdout) + String(stderr)))));
}

/** A v3 token granting write on the channel to UUID, minted by the server (POST /v3/pam/…/grant, signed). */
async function grantToken(port: number): Promise<string> {
  const path = `/v3/pam/${SUB_KEY}/grant`;
  const body = JSON.stringify({
    ttl: 60,
    permissions: {
      uuid: UUID,
      resources: { channels: { [CHANNEL]: WRITE }, groups: {}, uuids: {}, users: {}, spaces: {} },
      patterns: { channels: {}, groups: {}, uuids: {}, users: {}, spaces: {} },
      meta: {},
    },
  });
  const params = { uuid: 'bench-admin', timestamp: String(Math.floor(Date.now() / 1000)) };
  const signature = signRequest({ publishKey: PUB_KEY, secretKey: SECRET }, { method: 'POST', path, params, body });
  const qs = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeString(v)}`)
    .join('&');
  const res = await fetch(`http://${HOST}:${port}${path}?${qs}&signature=${signature}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' },
  });
  const answer = (await res.json()) as { data?: { token?: string } };
  if (res.status !== 200 || typeof answer.data?.token !== 'string') throw new Error(`grant failed: HTTP ${res.status} ${JSON.stringify(answer).slice(0, 200)}`);
  return answer.data.token;
}

function publishPath(server: PublishServer, token: string): string {
  const base = `/publish/${PUB_KEY}/${SUB_KEY}/0/${CHANNEL}/0/${encodeURIComponent(MESSAGE)}?uuid=${UUID}`;
  if (server === 'json') return base;
  return `${base}&auth=${encodeURIComponent(token)}${server === 'parley-memory' ? '&store=0' : ''}`;
}

interface LoadResult {
  requests: number;
  seconds: number;
  failures: number;
}

function runWrk(port: number, path: string, seconds: number, connections: number): Promise<LoadResult> {
  const { command, args } = pinned(LOAD_CORE, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', `http://${HOST}:${port}${path}`]);
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      const text = String(stdout);
      const total = /(\d+) requests in ([\d.]+)(m?s)/.exec(text);
      if (!total) return reject(new Error(`unexpected wrk output:\n${text}`));
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
      const errors = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      resolve({ requests: Number(total[1]), seconds: Number(total[2]) / (total[3] === 'ms' ? 1000 : 1), failures: non2xx + errors });
    });
  });
}

/** The same load without wrk: keep-alive connections on raw sockets, one request in flight on each. */
async function runRawLoad(port: number, path: string, seconds: number, connections: number): Promise<LoadResult> {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, 'latin1');
  let requests = 0;
  let failures = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const sockets: net.Socket[] = [];
  await new Promise<void>((resolve) => {
    let open = connections;
    for (let i = 0; i < connections; i++) {
      let buf = '';
      const socket = net.connect({ host: HOST, port, noDelay: true }, () => socket.write(request));
      sockets.push(socket);
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        buf += chunk;
        for (;;) {
          const headEnd = buf.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const m = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, headEnd));
          const end = headEnd + 4 + Number(m?.[1] ?? 0);
          if (buf.length < end) return;
          if (buf.slice(9, 12) !== '200') failures++;
          requests++;
          buf = buf.slice(end);
          if (performance.now() < deadline) socket.write(request);
          else {
            socket.end();
            if (--open === 0) resolve();
            return;
          }
        }
      });
      socket.on('error', () => {
        failures++;
        if (--open === 0) resolve();
      });
    }
  });
  for (const s of sockets) s.destroy();
  return { requests, seconds: (performance.now() - t0) / 1000, failures };
}

export interface PublishOptions {
  /** Length of each measured run. */
  seconds: number;
  connections: number;
  build: ParleyBuild;
  /** Rounds; each runs every server once, in turn (median reported). */
  rounds?: number;
  servers?: PublishServer[];
  /** Writes a CPU profile of each Node server's first measured run here (`publish-<server>.cpuprofile`). */
  cpuProfDir?: string | null;
}

interface Target {
  server: PublishServer;
  srv: ServerProcess;
  urlPath: string;
  runs: Array<{ perSecond: number; perCpuSecond: number; cpuPercent: number; failures: number }>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Every server is started first and idles on the server core while another is loaded; the rounds then
 * load each in turn, so load from elsewhere on the machine hits them alike. A ratio is the median of
 * the per-round ratios to the JSON handler measured in the same round.
 */
export async function runPublishBench(o: PublishOptions): Promise<PublishRow[]> {
  const useWrk = await wrkAvailable();
  const client = useWrk ? `wrk -t1 -c${o.connections}` : `${o.connections} raw keep-alive connections (wrk not installed)`;
  const rounds = o.rounds ?? 3;
  const targets: Target[] = [];
  try {
    for (const server of o.servers ?? (['json', 'parley-memory', 'parley-sqlite'] as PublishServer[])) {
      const srv =
        server === 'json'
          ? await startServer('json', {}, null)
          : await startServer('parley', { store: server === 'parley-sqlite' ? 'sqlite' : 'memory', secretKey: SECRET }, o.build);
      targets.push({ server, srv, urlPath: '', runs: [] });
      const token = server === 'json' ? '' : await grantToken(srv.port);
      const urlPath = publishPath(server, token);
      targets[targets.length - 1].urlPath = urlPath;
      // One request by hand: the load must be publishes that succeed, not fast refusals.
      const check = await fetch(`http://${HOST}:${srv.port}${urlPath}`);
      const checkBody = await check.text();
      if (check.status !== 200 || !checkBody.startsWith('[1,"Sent"'))
        throw new Error(`${server}: a publish answered HTTP ${check.status} ${checkBody.slice(0, 200)}`);
    }
    const run = (t: Target, seconds: number): Promise<LoadResult> =>
      useWrk ? runWrk(t.srv.port, t.urlPath, seconds, o.connections) : runRawLoad(t.srv.port, t.urlPath, seconds, o.connections);
    // Warm-up: JIT, token cache, SQLite statements.
    for (const t of targets) await run(t, 1);
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        await sleep(200);
        const cpu0 = t.srv.cpuSeconds();
        const probe = t.srv.probe;
        const profile = r === 0 && o.cpuProfDir && probe ? path.join(o.cpuProfDir, `publish-${t.server}.cpuprofile`) : null;
        const res = profile ? await probe!.profile('cpu', profile, () => run(t, o.seconds)) : await run(t, o.seconds);
        const cpu = t.srv.cpuSeconds() - cpu0;
        t.runs.push({ perSecond: res.requests / res.seconds, perCpuSecond: res.requests / cpu, cpuPercent: (100 * cpu) / res.seconds, failures: res.failures });
      }
    }
  } finally {
    for (const t of targets) await t.srv.stop();
  }
  const base = targets.find((t) => t.server === 'json');
  return targets.map((t) => ({
    server: t.server,
    what:
      t.server === 'json'
        ? 'trivial node:http JSON handler'
        : `authorized publish, v3 token, ${t.server === 'parley-memory' ? 'storage off (store=0), memory engine' : 'storage on, SQLite engine'}`,
    requestsPerSecond: median(t.runs.map((x) => x.perSecond)),
    requestsPerCpuSecond: median(t.runs.map((x) => x.perCpuSecond)),
    serverCpuPercent: median(t.runs.map((x) => x.cpuPercent)),
    failures: t.runs.reduce((a, x) => a + x.failures, 0),
    ratio: base && t !== base ? median(t.runs.map((x, i) => x.perSecond / base.runs[i].perSecond)) : null,
    ratioPerCpuSecond: base && t !== base ? median(t.runs.map((x, i) => x.perCpuSecond / base.runs[i].perCpuSecond)) : null,
    rounds,
    client,
  }));
}

export function printPublishRows(rows: readonly PublishRow[]): void {
  process.stdout.write(`\nPublish (${rows[0]?.client ?? ''}; server on one core; medians of ${rows[0]?.rounds ?? 0} rounds)\n`);
  for (const r of rows) {
    const ratio = r.ratio !== null ? `  ${r.ratio.toFixed(2)}x req/s, ${(r.ratioPerCpuSecond ?? NaN).toFixed(2)}x per CPU-s` : '';
    process.stdout.write(
      `  ${r.server.padEnd(14)} ${Math.round(r.requestsPerSecond).toLocaleString('en-US').padStart(8)} req/s  ${Math.round(r.requestsPerCpuSecond).toLocaleString('en-US').padStart(8)} req/srv-CPU-s  srv CPU ${Math.round(r.serverCpuPercent)}%` +
        `${r.failures ? `  ${r.failures} FAILED` : ''}${ratio}\n`,
    );
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const seconds = Number(opt('--seconds', '4'));
  const rounds = Number(opt('--rounds', '3'));
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 9)) throw new Error('--rounds takes 1..9');
  const cpuProfDir = argv.includes('--cpu-prof') ? path.resolve(opt('--cpu-prof', '.')) : null;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const connections = Number(opt('--connections', '50'));
  if (!(seconds > 0 && seconds <= 60) || !(connections >= 1 && connections <= 1000)) throw new Error('--seconds takes 1..60, --connections 1..1000');
  setTimeout(() => {
    process.stderr.write('publish: watchdog: the run took too long, giving up\n');
    process.exit(2);
  }, 5 * 60_000).unref();
  pinSelfToLoadCore();
  const build = prepareParley(opt('--parley', 'dist') === 'src' ? 'src' : 'dist');
  process.stdout.write(`Parley: ${build.description}\n`);
  printPublishRows(await runPublishBench({ seconds, connections, build, cpuProfDir, rounds }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`publish: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
