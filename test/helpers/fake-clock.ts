import type { Clock } from '../../src/clock.ts';

/** A Clock that moves only when told: TTLs expire by advance(), never by waiting (style.md §6). */
export interface FakeClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let now = startMs;
  return {
    nowMs: () => now,
    advance(ms: number) {
      if (!(ms >= 0)) throw new Error(`fake clock cannot go backwards (advance ${ms})`);
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}
