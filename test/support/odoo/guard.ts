import { Subject } from 'rxjs';
import { CircuitOpenError, countsAgainstBreaker, isVendorError } from '../../../src/domain/errors.js';
import type { BreakerTransition } from '../../../src/domain/events.js';
import type { BreakerVendor } from '../../../src/domain/vendor.js';
import type { BreakerInfo, GuardedCaller } from '../../../src/streams/guard.types.js';

/**
 * A small in-test GuardedCaller (the resilience core of issue 2 is built in parallel): retryable
 * kinds are retried up to `maxAttempts` with no wait, and `threshold` consecutive failed calls
 * open the (tenant, vendor) breaker for good. It counts attempts per tenant.
 */
export function testGuard(options: { maxAttempts?: number; threshold?: number } = {}): GuardedCaller & {
  attempts: Map<number, number>;
  refused: Map<number, number>;
} {
  const maxAttempts = options.maxAttempts ?? 3;
  const threshold = options.threshold ?? 3;
  const failures = new Map<string, number>();
  const attempts = new Map<number, number>();
  const refused = new Map<number, number>();
  const transitions$ = new Subject<BreakerTransition>();
  const breakers = new Map<string, BreakerInfo>();

  async function call<T>(tenantId: number, vendor: string, fn: (signal: AbortSignal) => Promise<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const key = `${tenantId}:${vendor}`;
    if ((failures.get(key) ?? 0) >= threshold) {
      refused.set(tenantId, (refused.get(tenantId) ?? 0) + 1);
      throw new CircuitOpenError(tenantId, vendor as BreakerVendor);
    }
    for (let attempt = 1; ; attempt++) {
      attempts.set(tenantId, (attempts.get(tenantId) ?? 0) + 1);
      try {
        const value = await fn(opts.signal ?? new AbortController().signal);
        failures.set(key, 0);
        return value;
      } catch (error) {
        const retry = isVendorError(error) && error.retryable && attempt < maxAttempts && !opts.signal?.aborted;
        if (retry) continue;
        if (!isVendorError(error) || countsAgainstBreaker(error.kind)) failures.set(key, (failures.get(key) ?? 0) + 1);
        throw error;
      }
    }
  }

  return {
    attempts,
    refused,
    call,
    registry: { transitions$, list: () => [...breakers.values()] },
  };
}
