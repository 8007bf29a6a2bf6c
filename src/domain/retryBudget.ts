/**
 * A retry budget (Finagle's RetryBudget, Envoy's retry_budget): retries may add at most `percent`
 * of the calls made in the last `windowS` seconds, plus `minPerS` a second (so that a quiet
 * caller can still retry). Kept per (tenant, vendor) by the guarded call; a retry the budget
 * refuses is not made. Pure: time is passed in, nothing is read from the outside.
 */
export interface RetryBudgetPolicy {
  /** RETRY_BUDGET_PERCENT: retries as a percentage of the window's calls (0–100). Default 20. */
  percent: number;
  /** RETRY_BUDGET_MIN_PER_S: retries a second always allowed, whatever the calls. Default 10. */
  minPerS: number;
  /** The window, in seconds. 10. */
  windowS: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetPolicy = { percent: 20, minPerS: 10, windowS: 10 };

/** One second of the window: the calls (first attempts) and retries that started in it. */
interface Bucket {
  second: number;
  calls: number;
  retries: number;
}

/**
 * One (tenant, vendor)'s budget: a ring of one-second buckets. The window at time t is the
 * buckets of the seconds `floor(t/1000) - windowS + 1` to `floor(t/1000)`.
 */
export class RetryBudget {
  private readonly buckets: Bucket[];

  constructor(readonly policy: RetryBudgetPolicy) {
    assertPolicy(policy);
    this.buckets = Array.from({ length: policy.windowS }, () => ({ second: Number.NEGATIVE_INFINITY, calls: 0, retries: 0 }));
  }

  private bucket(nowMs: number): Bucket {
    const second = Math.floor(nowMs / 1000);
    const b = this.buckets[((second % this.policy.windowS) + this.policy.windowS) % this.policy.windowS]!;
    if (b.second !== second) {
      b.second = second;
      b.calls = 0;
      b.retries = 0;
    }
    return b;
  }

  /** The calls and retries of the window ending at `nowMs`. */
  window(nowMs: number): { calls: number; retries: number } {
    const second = Math.floor(nowMs / 1000);
    let calls = 0;
    let retries = 0;
    for (const b of this.buckets) {
      if (b.second > second - this.policy.windowS && b.second <= second) {
        calls += b.calls;
        retries += b.retries;
      }
    }
    return { calls, retries };
  }

  /** The retries the window ending at `nowMs` allows in all (granted ones included). */
  allowance(nowMs: number): number {
    return allowanceOf(this.window(nowMs).calls, this.policy);
  }

  /** A call's first attempt (a deposit). */
  recordCall(nowMs: number): void {
    this.bucket(nowMs).calls += 1;
  }

  /** Asks for one retry: true (and counted) when the window allows one more, else false. */
  tryRetry(nowMs: number): boolean {
    const { retries } = this.window(nowMs);
    if (retries + 1 > this.allowance(nowMs)) return false;
    this.bucket(nowMs).retries += 1;
    return true;
  }
}

/** Retries allowed in a window with `calls` calls: ⌊percent·calls/100 + minPerS·windowS⌋. */
export function allowanceOf(calls: number, policy: RetryBudgetPolicy): number {
  return Math.floor((policy.percent * calls) / 100 + policy.minPerS * policy.windowS);
}

function assertPolicy(p: RetryBudgetPolicy): void {
  if (!(p.percent >= 0 && p.percent <= 100)) throw new RangeError(`retry budget percent must be from 0 to 100, got ${p.percent}`);
  if (!(Number.isFinite(p.minPerS) && p.minPerS >= 0)) throw new RangeError(`retry budget minPerS must be >= 0, got ${p.minPerS}`);
  if (!(Number.isInteger(p.windowS) && p.windowS >= 1 && p.windowS <= 3600)) throw new RangeError(`retry budget windowS must be an integer from 1 to 3600, got ${p.windowS}`);
}

/** The budgets of every (tenant, vendor), created on first use. */
export class RetryBudgets {
  private readonly byKey = new Map<string, RetryBudget>();

  constructor(readonly policy: RetryBudgetPolicy) {
    assertPolicy(policy);
  }

  of(tenantId: number, vendor: string): RetryBudget {
    const key = `${tenantId}\u0000${vendor}`;
    let b = this.byKey.get(key);
    if (!b) this.byKey.set(key, (b = new RetryBudget(this.policy)));
    return b;
  }
}
