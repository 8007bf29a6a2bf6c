/** Time as the program sees it; the real clock lives in src/adapters/clock.ts, tests inject their own. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}
