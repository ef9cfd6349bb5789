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

/**
 * A Clock that runs with real time and jumps ahead by advance(). For nodes on Redis: their timetokens
 * come from the clock, and a frozen one would stamp a handshake's cursor and the next commit with the
 * same millisecond, so the commit would not read as after the cursor.
 */
export function createJumpingClock(): FakeClock {
  let offsetMs = 0;
  return {
    nowMs: () => Date.now() + offsetMs,
    advance(ms: number) {
      if (!(ms >= 0)) throw new Error(`fake clock cannot go backwards (advance ${ms})`);
      offsetMs += ms;
    },
    set(ms: number) {
      offsetMs = ms - Date.now();
    },
  };
}
