/** Time as the program sees it; the real clock lives in src/adapters/clock.ts, tests inject their own. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Waits `ms` (virtual in tests); resolves early, without error, when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;
