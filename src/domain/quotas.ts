import { BREAKER_VENDORS, type BreakerVendor } from './vendor.js';

/**
 * Vendor quotas (DESIGN.md "Vendor quotas, retry budgets and cost"): how many requests a vendor
 * takes per window (VENDOR_RATE_LIMITS), how many calls of it one process makes at once
 * (VENDOR_CONCURRENCY), and the port through which a call waits for its turn.
 */

/** One vendor's rate: `points` requests per `durationS` seconds (a fixed window). */
export interface VendorRate {
  points: number;
  durationS: number;
}

/** The rate of each vendor that has one (a vendor without one is not limited). */
export type VendorRates = Partial<Record<BreakerVendor, VendorRate>>;

/**
 * The defaults of VENDOR_RATE_LIMITS, each the smallest documented paid plan's (VENDOR_APIS.md;
 * the README's configuration table gives the source of each): Tavily 100 RPM (a development key;
 * production keys 1,000 RPM), OpenAI 500 RPM (usage tier 1; the real number is the account's
 * Limits page), ZeroBounce 80,000 per 10 s on /v2/validate, Lusha 40 per minute (Free and
 * Starter), Apify 30 per second per resource (the actor). Odoo has none.
 */
export const DEFAULT_VENDOR_RATE_LIMITS = 'tavily=100/min,openai=500/min,zerobounce=8000/s,lusha=40/min,apify_linkedin=30/s';

/** The default of VENDOR_CONCURRENCY: Apify's account memory allows about 8 actor runs at once on the smallest paid plan. */
export const DEFAULT_VENDOR_CONCURRENCY = 'apify_linkedin=8';

/** `vendor=…` pairs, comma separated; each vendor once. Returns the pairs or a reason. */
function pairs(text: string): { vendor: BreakerVendor; value: string }[] | string {
  const out: { vendor: BreakerVendor; value: string }[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    if (eq < 0) return `"${part}" is not vendor=value`;
    const vendor = part.slice(0, eq).trim();
    if (!(BREAKER_VENDORS as readonly string[]).includes(vendor)) return `"${vendor}" is not one of ${BREAKER_VENDORS.join(', ')}`;
    if (seen.has(vendor)) return `${vendor} is given twice`;
    seen.add(vendor);
    out.push({ vendor: vendor as BreakerVendor, value: part.slice(eq + 1).trim() });
  }
  return out;
}

/**
 * Parses VENDOR_RATE_LIMITS: `vendor=N/s` or `vendor=N/min`, several comma separated (e.g.
 * `lusha=25/s,tavily=100/min`); N an integer from 1 to 1,000,000. Empty: no vendor is limited.
 *
 * @returns the rates, or a string saying what is wrong
 */
export function parseVendorRates(text: string): VendorRates | string {
  const p = pairs(text);
  if (typeof p === 'string') return p;
  const rates: VendorRates = {};
  for (const { vendor, value } of p) {
    const m = /^(\d{1,7})\s*\/\s*(s|min)$/.exec(value);
    const points = m ? Number(m[1]) : NaN;
    if (!m || points < 1 || points > 1_000_000) return `${vendor}=${value}: expected N/s or N/min with N from 1 to 1000000`;
    rates[vendor] = { points, durationS: m[2] === 's' ? 1 : 60 };
  }
  return rates;
}

/**
 * Parses VENDOR_CONCURRENCY: `vendor=N`, several comma separated (e.g. `apify_linkedin=8`), N an
 * integer from 1 to 4096: at most N calls of that vendor at once in this process.
 *
 * @returns the bounds, or a string saying what is wrong
 */
export function parseVendorConcurrency(text: string): Partial<Record<BreakerVendor, number>> | string {
  const p = pairs(text);
  if (typeof p === 'string') return p;
  const out: Partial<Record<BreakerVendor, number>> = {};
  for (const { vendor, value } of p) {
    const n = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= 4096)) return `${vendor}=${value}: expected an integer from 1 to 4096`;
    out[vendor] = n;
  }
  return out;
}

/**
 * A vendor's request rate, shared by whoever uses the same store (memory: this process;
 * PostgreSQL: the fleet). Implemented in src/adapters/rateLimiter.ts with rate-limiter-flexible.
 */
export interface RateLimiterPort {
  /** Whether `vendor` has a rate at all (a call of a vendor without one starts at once, synchronously). */
  limits(vendor: BreakerVendor): boolean;
  /**
   * Takes one turn of `vendor` now if there is one: resolves 0 when taken, else the milliseconds
   * until one may be free (nothing taken). A vendor without a rate resolves 0 at once.
   */
  take(vendor: BreakerVendor): Promise<number>;
  /** Gives no turn of `vendor` to anyone for `ms` milliseconds (a 429's Retry-After). */
  backOff(vendor: BreakerVendor, ms: number): Promise<void>;
}

/** The limiter that never makes a call wait (no rates). */
export const UNLIMITED: RateLimiterPort = {
  limits: () => false,
  take: () => Promise.resolve(0),
  backOff: () => Promise.resolve(),
};

/** A run's budget (RUN_BUDGET_USD when it started; null: none) and what it has spent, fleet-wide. */
export interface RunSpend {
  budgetUsd: number | null;
  spentUsd: number;
}

/**
 * The money a run has spent on vendor calls, shared by every member of the fleet working it
 * (table run_spend; the budget is the run's, in its params). Every call's cost counts, whether or
 * not its company's result is the one recorded: it was paid.
 */
export interface RunSpendPort {
  state(runId: number): Promise<RunSpend>;
  /** Adds `usd` to the run's spend; resolves with the new state. */
  spend(runId: number, usd: number): Promise<RunSpend>;
}
