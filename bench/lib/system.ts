/**
 * What the benchmarks read from the machine: cores and pinning, CPU time and RSS of processes from
 * /proc, and whether a server's event loop is asleep. Linux only where it says so; elsewhere the
 * figures that need /proc are reported as missing rather than guessed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const CORES = os.availableParallelism();
/** Servers on core 0, load generators on core 1: only with two cores or more and taskset. */
export const PIN = CORES >= 2 && process.platform === 'linux' && hasTaskset();
export const SERVER_CORE = '0';
export const LOAD_CORE = '1';

/** Pins this process (every thread) to the load generator's core. */
export function pinSelfToLoadCore(): void {
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
}

/** `command args` prefixed to run on `core` when pinning is on. */
export function pinned(core: string, command: string, args: string[]): { command: string; args: string[] } {
  return PIN ? { command: 'taskset', args: ['-c', core, command, ...args] } : { command, args };
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const CLK_TCK = clockTicks();

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime of every thread of these processes, seconds (resolution 1/CLK_TCK, usually 10 ms). */
export function cpuSecondsOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

/** stime alone (time in the kernel on the processes' behalf), seconds: the share of cpuSecondsOf spent in system calls. */
export function systemSecondsOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[12]);
  }
  return ticks / CLK_TCK;
}

/** Resident set of these processes together, bytes (VmRSS). */
export function rssBytesOf(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kib * 1024;
}

/** Direct children of a process (nginx's workers under its master). */
export function childrenOf(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
    return out;
  } catch {
    return [];
  }
}

/** Process state of a process's main thread: R running, S sleeping (an event loop waiting in epoll). */
function stateOf(pid: number): string {
  return statFields(pid)?.[0] ?? 'S';
}

/** Waits (at most maxMs) until every one of these processes has been seen asleep twice in a row, 1 ms apart. */
export async function waitIdle(pids: readonly number[], maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  let asleep = 0;
  while (asleep < 2 && performance.now() < end) {
    asleep = pids.every((p) => stateOf(p) === 'S') ? asleep + 1 : 0;
    await sleep(1);
  }
}

export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
