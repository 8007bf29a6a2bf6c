import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { RateLimiterPort, VendorRate, VendorRates } from '../domain/quotas.js';
import type { BreakerVendor } from '../domain/vendor.js';

/**
 * The {@link RateLimiterPort} on rate-limiter-flexible (docs/decisions/080-vendor-rate-limits.md):
 * one fixed-window limiter per vendor, keyed by the vendor name. In memory for a process alone;
 * on PostgreSQL (table `vendor_rate_limits`, migrations/010_vendor_quotas.sql) for a fleet, with a
 * memory limiter as its insurance while the database does not answer. Rows are keyed
 * `<keyPrefix>_<vendor>:<vendor>` (keyPrefix `rl`; tests give their own).
 */

/** The table RateLimiterPostgres keeps its windows in; created by the migration, never by the library. */
export const RATE_LIMIT_TABLE = 'vendor_rate_limits';

type Limiter = RateLimiterAbstract | RateLimiterStoreAbstract;

function portOf(limiters: Map<BreakerVendor, Limiter>): RateLimiterPort {
  return {
    limits: (vendor) => limiters.has(vendor),
    async take(vendor) {
      const limiter = limiters.get(vendor);
      if (!limiter) return 0;
      try {
        await limiter.consume(vendor, 1);
        return 0;
      } catch (error) {
        if (error instanceof RateLimiterRes) return Math.max(1, error.msBeforeNext);
        throw error;
      }
    },
    async backOff(vendor, ms) {
      const limiter = limiters.get(vendor);
      if (!limiter || !(ms > 0)) return;
      const now = await limiter.get(vendor).catch(() => null);
      // A window already closed for longer is left as it is (a block would shorten it).
      if (now && now.remainingPoints === 0 && now.msBeforeNext >= ms) return;
      await limiter.block(vendor, ms / 1000);
    },
  };
}

const memoryLimiter = (vendor: string, rate: VendorRate, prefix = 'rl'): RateLimiterMemory =>
  new RateLimiterMemory({ keyPrefix: `${prefix}_${vendor}`, points: rate.points, duration: rate.durationS });

/** Vendor rates for this process alone. */
export function createMemoryRateLimiter(rates: VendorRates): RateLimiterPort {
  const limiters = new Map<BreakerVendor, Limiter>();
  for (const [vendor, rate] of Object.entries(rates) as [BreakerVendor, VendorRate][]) limiters.set(vendor, memoryLimiter(vendor, rate));
  return portOf(limiters);
}

/**
 * Vendor rates shared by every process on `pool`'s database. The table must exist (the
 * migration creates it); when a query fails, the vendor's memory limiter answers instead
 * (rate-limiter-flexible's `insuranceLimiter`), so a database blip never stops the calls.
 */
export function createPgRateLimiter(pool: pg.Pool, rates: VendorRates, options: { keyPrefix?: string } = {}): RateLimiterPort {
  const prefix = options.keyPrefix ?? 'rl';
  const limiters = new Map<BreakerVendor, Limiter>();
  for (const [vendor, rate] of Object.entries(rates) as [BreakerVendor, VendorRate][]) {
    limiters.set(
      vendor,
      new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: RATE_LIMIT_TABLE,
        tableCreated: true,
        clearExpiredByTimeout: true,
        keyPrefix: `${prefix}_${vendor}`,
        points: rate.points,
        duration: rate.durationS,
        insuranceLimiter: memoryLimiter(vendor, rate, prefix),
      }),
    );
  }
  return portOf(limiters);
}

/**
 * A limiter that starts in memory and moves to PostgreSQL once {@link SharedRateLimiter.share} is
 * called (the runtime does when it works as a member of a fleet). The move happens once.
 */
export interface SharedRateLimiter extends RateLimiterPort {
  share(): void;
  readonly shared: boolean;
}

export function createSwitchingRateLimiter(rates: VendorRates, pool: () => pg.Pool, options: { keyPrefix?: string } = {}): SharedRateLimiter {
  let current = createMemoryRateLimiter(rates);
  let shared = false;
  return {
    limits: (vendor) => current.limits(vendor),
    take: (vendor) => current.take(vendor),
    backOff: (vendor, ms) => current.backOff(vendor, ms),
    share() {
      if (shared) return;
      shared = true;
      current = createPgRateLimiter(pool(), rates, options);
    },
    get shared() {
      return shared;
    },
  };
}
