import { costOf, tokenCostOf, type VendorPrices } from '../../domain/prices.js';
import type { VendorName } from '../../domain/vendor.js';
import type { GuardedCaller, QuotaEvent } from '../guard.types.js';

/** Calls, errors, retries, tokens and cost of one vendor for one company. */
export interface UsageTally {
  calls: number;
  errors: number;
  retries: number;
  tokens: number;
  costUsd: number;
  /** Attempts that waited for a rate-limit turn, and the milliseconds waited in all. */
  rateWaits: number;
  rateWaitMs: number;
  /** Retries the retry budget refused. */
  retriesRefused: number;
  /** Stored paid answers reused instead of bought again, and what they had cost. */
  reuses: number;
  savedUsd: number;
}

/**
 * Per-company usage accounting. Wraps the run's guarded caller so that every attempt (each
 * invocation of the call's `fn`) counts a call, every rejected attempt an error, and every attempt
 * after a call's first a retry; what the quotas did (rate-limit waits, refused retries) is counted
 * from the call's `onQuota`. Counting per company lets the usage rows be written in the same
 * sink batch as the company's result, so a resumed run neither loses nor double-counts them.
 */
export class CompanyUsage {
  readonly byVendor = new Map<string, UsageTally>();

  /**
   * @param prices VENDOR_PRICES: each successful attempt's cost (what the vendor reported it charged, else the documented rule). Default none (free).
   * @param onCost told of every cost counted (the run's budget), in USD
   */
  constructor(
    private readonly prices: VendorPrices = {},
    private readonly onCost?: (usd: number) => void,
  ) {}

  private tally(vendor: string): UsageTally {
    let t = this.byVendor.get(vendor);
    if (!t) {
      t = { calls: 0, errors: 0, retries: 0, tokens: 0, costUsd: 0, rateWaits: 0, rateWaitMs: 0, retriesRefused: 0, reuses: 0, savedUsd: 0 };
      this.byVendor.set(vendor, t);
    }
    return t;
  }

  /** A stored paid answer of `vendor` reused: no call, `savedUsd` not spent again. */
  addReuse(vendor: string, savedUsd: number): void {
    const t = this.tally(vendor);
    t.reuses += 1;
    t.savedUsd += savedUsd;
  }

  /** What every vendor's calls cost in all, in USD. */
  totalCostUsd(): number {
    let sum = 0;
    for (const t of this.byVendor.values()) sum += t.costUsd;
    return sum;
  }

  /** Adds model usage (OpenAI tokens and cost) to a vendor's tally. */
  addTokens(vendor: string, tokens: number, costUsd: number | null): void {
    const t = this.tally(vendor);
    t.tokens += tokens;
    const cost = tokenCostOf(vendor as VendorName, tokens, costUsd, this.prices);
    t.costUsd += cost;
    if (cost > 0) this.onCost?.(cost);
  }

  /** A GuardedCaller that delegates to `inner` and counts into this tally. */
  wrap(inner: GuardedCaller): GuardedCaller {
    const counted = <T>(vendor: string, fn: (signal: AbortSignal) => Promise<T>) => {
      let attempts = 0;
      return async (signal: AbortSignal): Promise<T> => {
        const t = this.tally(vendor);
        t.calls += 1;
        if (attempts++ > 0) t.retries += 1;
        try {
          const value = await fn(signal);
          const cost = costOf(vendor as VendorName, value, this.prices);
          if (cost > 0) {
            t.costUsd += cost;
            this.onCost?.(cost);
          }
          return value;
        } catch (error) {
          t.errors += 1;
          throw error;
        }
      };
    };
    return {
      registry: inner.registry,
      call: (tenantId, vendor, fn, options) => {
        const onQuota = (e: QuotaEvent): void => {
          options?.onQuota?.(e);
          const t = this.tally(vendor);
          if (e.type === 'retry_refused') t.retriesRefused += 1;
          else {
            t.rateWaits += 1;
            t.rateWaitMs += e.waitedMs;
          }
        };
        return inner.call(tenantId, vendor, counted(vendor, fn), { ...options, onQuota });
      },
    };
  }
}
