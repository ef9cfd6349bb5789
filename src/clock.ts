/** Injected time source: TTLs, timetokens and presence timeouts read the clock through this. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
