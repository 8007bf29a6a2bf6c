import { describe, expect, it } from 'vitest';
import { configFrom } from '../../../src/config/index.js';
import { VendorError } from '../../../src/domain/errors.js';
import { createGuardedCaller } from '../../../src/streams/guardedCall.js';
import { CompanyUsage } from '../../../src/streams/run/usage.js';

describe('CompanyUsage', () => {
  const config = configFrom({ RETRY_BASE_DELAY_MS: '0', RETRY_MAX_DELAY_MS: '0', RETRY_MAX_ATTEMPTS: '3', CB_ERROR_THRESHOLD: '1' });
  const clock = { now: () => 0 };

  it('counts every attempt as a call, failed attempts as errors and attempts after the first as retries', async () => {
    const usage = new CompanyUsage();
    const guard = usage.wrap(createGuardedCaller({ config, clock, random: () => 0.5 }));
    let n = 0;
    const flaky = async () => {
      if (++n < 3) throw new VendorError({ vendor: 'tavily', kind: 'server', status: 503 });
      return 'ok';
    };
    await expect(guard.call(1, 'tavily', flaky)).resolves.toBe('ok');
    await expect(guard.call(1, 'openai', async () => 'fine')).resolves.toBe('fine');
    expect(usage.byVendor.get('tavily')).toEqual({ calls: 3, errors: 2, retries: 2, tokens: 0, costUsd: 0, rateWaits: 0, rateWaitMs: 0, retriesRefused: 0, reuses: 0, savedUsd: 0 });
    expect(usage.byVendor.get('openai')).toEqual({ calls: 1, errors: 0, retries: 0, tokens: 0, costUsd: 0, rateWaits: 0, rateWaitMs: 0, retriesRefused: 0, reuses: 0, savedUsd: 0 });
  });

  it("counts a call's rate-limit waits and the retries its budget refused, and still tells the caller's own onQuota", async () => {
    const usage = new CompanyUsage();
    let waits = 0;
    const inner = {
      registry: createGuardedCaller({ config, clock }).registry,
      call: <T>(_t: number, _v: string, fn: (s: AbortSignal) => Promise<T>, options?: { onQuota?: (e: { type: 'rate_wait'; waitedMs: number } | { type: 'retry_refused' }) => void }) => {
        options?.onQuota?.({ type: 'rate_wait', waitedMs: 1500 });
        options?.onQuota?.({ type: 'rate_wait', waitedMs: 500 });
        options?.onQuota?.({ type: 'retry_refused' });
        return fn(new AbortController().signal);
      },
    };
    const guard = usage.wrap(inner as never);
    await guard.call(1, 'lusha', async () => 'ok', { onQuota: () => (waits += 1) });
    expect(usage.byVendor.get('lusha')).toMatchObject({ calls: 1, rateWaits: 2, rateWaitMs: 2000, retriesRefused: 1 });
    expect(waits).toBe(3);
  });

  it('counts nothing for a call refused by an open breaker, and adds model tokens and cost', async () => {
    const usage = new CompanyUsage();
    const inner = createGuardedCaller({ config, clock });
    await expect(inner.call(1, 'lusha', async () => Promise.reject(new VendorError({ vendor: 'lusha', kind: 'auth', status: 401 })))).rejects.toThrow();
    const guard = usage.wrap(inner);
    await expect(guard.call(1, 'lusha', async () => 'never')).rejects.toMatchObject({ name: 'CircuitOpenError' });
    expect(usage.byVendor.get('lusha')).toBeUndefined();
    usage.addTokens('openai', 120, 0.002);
    usage.addTokens('openai', 30, null);
    expect(usage.byVendor.get('openai')).toMatchObject({ tokens: 150, costUsd: 0.002 });
  });
});
