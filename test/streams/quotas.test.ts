/**
 * Vendor quotas in the guarded call (issue 14), on virtual time: rate-limit turns (a real
 * rate-limiter-flexible RateLimiterMemory under fake timers), waits bounded by the deadline and the
 * caller's abort, a 429's Retry-After backing the limiter off, the VENDOR_CONCURRENCY bulkhead and
 * the first wave of an outage, and the retry budget refusing retries.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryRateLimiter } from '../../src/adapters/rateLimiter.js';
import { VendorError, isCircuitOpenError } from '../../src/domain/errors.js';
import { parseVendorRates, type VendorRates } from '../../src/domain/quotas.js';
import type { QuotaEvent } from '../../src/streams/guard.types.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';
import { configFrom } from '../../src/config/index.js';
import { createBreakerRegistry } from '../../src/streams/breakerRegistry.js';
import { enrichCompany, type EnrichmentPorts } from '../../src/streams/enrichCompany.js';
import { scripted, settle } from '../support/breakerHarness.js';

const T0 = Date.UTC(2026, 0, 1); // on a whole second: the windows start with it

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function caller(options: { rates?: string; concurrency?: Record<string, number>; env?: Record<string, string>; budget?: boolean } = {}) {
  const config = configFrom({ CB_ERROR_THRESHOLD: '3', CB_COOL_OFF_S: '60', VENDOR_TIMEOUT_MS: '1000', ...options.env });
  const clock = { now: () => Date.now() };
  const registry = createBreakerRegistry({ breaker: config.breaker, clock, probeTimeoutMs: config.vendorTimeoutMs });
  const rates = parseVendorRates(options.rates ?? '') as VendorRates;
  const limiter = createMemoryRateLimiter(rates);
  const guard = createGuardedCaller({
    config,
    clock,
    registry,
    random: () => 0.5,
    limiter,
    concurrency: options.concurrency ?? {},
    retryBudget: options.budget === false ? null : config.quotas.retryBudget,
  });
  return { guard, registry, limiter, config };
}

/** Settles every promise, stepping fake time timer by timer. */
async function settleAll<T>(promises: Promise<T>[], maxSteps = 500) {
  const outcomes: ({ value?: T; error?: unknown } | undefined)[] = promises.map(() => undefined);
  promises.forEach((p, i) => p.then((value) => (outcomes[i] = { value }), (error: unknown) => (outcomes[i] = { error })));
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 0; outcomes.some((o) => o === undefined) && i < maxSteps; i++) await vi.advanceTimersToNextTimerAsync();
  if (outcomes.some((o) => o === undefined)) throw new Error('not every call settled');
  return outcomes as { value?: T; error?: unknown }[];
}

describe('rate limits: a call waits for its turn', () => {
  it('sends no more than the rate: 2/s lets two requests a second through and counts the waits', async () => {
    const { guard } = caller({ rates: 'tavily=2/s' });
    const { fn, requests } = scripted('tavily', ['ok']);
    const quota: QuotaEvent[] = [];
    const outcomes = await settleAll(Array.from({ length: 5 }, () => guard.call(1, 'tavily', fn, { onQuota: (e) => quota.push(e) })));
    expect(outcomes.every((o) => o.value !== undefined)).toBe(true);
    expect(requests.map((r) => r.at - T0)).toEqual([0, 0, 1000, 1000, 2000]);
    expect(quota.filter((e) => e.type === 'rate_wait')).toHaveLength(3);
    expect(quota).toContainEqual({ type: 'rate_wait', waitedMs: 2000 });
  });

  it('limits each vendor on its own; a vendor without a rate never waits', async () => {
    const { guard } = caller({ rates: 'lusha=1/min' });
    const lusha = scripted('lusha', ['ok']);
    const tavily = scripted('tavily', ['ok']);
    await settleAll([guard.call(1, 'lusha', lusha.fn), guard.call(1, 'lusha', lusha.fn), ...Array.from({ length: 20 }, () => guard.call(1, 'tavily', tavily.fn))]);
    expect(tavily.requests.every((r) => r.at === T0)).toBe(true);
    expect(lusha.requests.map((r) => r.at - T0)).toEqual([0, 60_000]);
  });

  it('a call whose turn would come after its deadline ends at the deadline, as the deadline says, with no request and no breaker failure', async () => {
    const { guard, registry } = caller({ rates: 'tavily=1/min' });
    const { fn, requests } = scripted('tavily', ['ok']);
    await settle(guard.call(1, 'tavily', fn));
    const started = Date.now();
    const quota: QuotaEvent[] = [];
    const out = await settle(guard.call(1, 'tavily', fn, { deadline: Date.now() + 30_000, onQuota: (e) => quota.push(e) }));
    expect(quota).toEqual([{ type: 'rate_wait', waitedMs: 30_000 }]); // counted, though no turn came
    expect(out.error).toBeInstanceOf(VendorError);
    expect(out.error).toMatchObject({ kind: 'timeout', detail: 'deadline passed waiting for a rate-limit turn' });
    expect(Date.now() - started).toBe(30_000);
    expect(requests).toHaveLength(1);
    expect(registry.list()).toMatchObject([{ vendor: 'tavily', state: 'closed', consecutiveFailures: 0 }]);
  });

  it('a wait within the deadline is waited out', async () => {
    const { guard } = caller({ rates: 'tavily=1/min' });
    const { fn, requests } = scripted('tavily', ['ok']);
    await settle(guard.call(1, 'tavily', fn));
    const out = await settle(guard.call(1, 'tavily', fn, { deadline: Date.now() + 90_000 }));
    expect(out.value).toBe('ok#2');
    expect(requests.map((r) => r.at - T0)).toEqual([0, 60_000]);
  });

  it("the caller's abort ends a wait at once, with no request", async () => {
    const { guard } = caller({ rates: 'tavily=1/min' });
    const { fn, requests } = scripted('tavily', ['ok']);
    await settle(guard.call(1, 'tavily', fn));
    const controller = new AbortController();
    const call = guard.call(1, 'tavily', fn, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(5_000);
    controller.abort(new Error('stop'));
    const out = await settle(call);
    expect(out.error).toMatchObject({ kind: 'timeout', detail: 'aborted' });
    expect(Date.now() - T0).toBe(5_000);
    expect(requests).toHaveLength(1);
  });

  it("a 429's Retry-After backs the vendor's limiter off for everyone", async () => {
    const { guard } = caller({ rates: 'tavily=100/s', env: { RETRY_MAX_ATTEMPTS: '1' } });
    let n = 0;
    const at: number[] = [];
    const fn = () => {
      at.push(Date.now() - T0);
      return n++ === 0 ? Promise.reject(new VendorError({ vendor: 'tavily', kind: 'rate_limited', status: 429, retryAfterMs: 5_000 })) : Promise.resolve('ok');
    };
    expect((await settle(guard.call(1, 'tavily', fn))).error).toMatchObject({ kind: 'rate_limited' });
    const outcomes = await settleAll([guard.call(1, 'tavily', fn), guard.call(2, 'tavily', fn)]);
    expect(outcomes.map((o) => o.value)).toEqual(['ok', 'ok']);
    expect(at).toEqual([0, 5_000, 5_000]);
  });
});

describe('VENDOR_CONCURRENCY: a bulkhead per vendor', () => {
  it('holds at most N calls of the vendor at once; the others wait their turn', async () => {
    const { guard } = caller({ concurrency: { apify_linkedin: 2 } });
    let inFlight = 0;
    let most = 0;
    const fn = () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      return new Promise<string>((resolve) => setTimeout(() => ((inFlight -= 1), resolve('ok')), 100));
    };
    const outcomes = await settleAll(Array.from({ length: 7 }, () => guard.call(1, 'apify_linkedin', fn)));
    expect(outcomes.every((o) => o.value === 'ok')).toBe(true);
    expect(most).toBe(2);
    expect(Date.now() - T0).toBe(400);
  });

  it('a waiter gives up at its deadline without a request', async () => {
    const { guard } = caller({ concurrency: { apify_linkedin: 1 } });
    const { fn, requests } = scripted('apify_linkedin', ['hang']);
    const first = guard.call(1, 'apify_linkedin', fn);
    const second = guard.call(1, 'apify_linkedin', fn, { deadline: T0 + 300 });
    const [, out] = await settleAll([first.catch(() => 'x'), second]);
    expect(out!.error).toMatchObject({ kind: 'timeout', detail: 'deadline passed waiting for a VENDOR_CONCURRENCY slot' });
    expect(requests).toHaveLength(1);
  });

  // DESIGN.md: at most (threshold + v - 1) x attempts requests before the breaker opens.
  it.each([
    [1, 50],
    [4, 50],
    [8, 50],
  ])("bounds an outage's first wave: v = %i, %i calls at once", async (v, calls) => {
    const { guard, registry, config } = caller({ concurrency: { apify_linkedin: v }, budget: false });
    const { fn, requests } = scripted('apify_linkedin', ['server']);
    const outcomes = await settleAll(Array.from({ length: calls }, () => guard.call(1, 'apify_linkedin', fn)), 5000);
    const { errorThreshold } = config.breaker;
    const attempts = config.retry.maxAttempts;
    expect(registry.list()).toMatchObject([{ vendor: 'apify_linkedin', state: 'open' }]);
    expect(requests.length).toBeLessThanOrEqual((errorThreshold + v - 1) * attempts);
    expect(requests.length).toBeGreaterThanOrEqual(errorThreshold * attempts);
    expect(outcomes.filter((o) => isCircuitOpenError(o.error)).length).toBeGreaterThanOrEqual(calls - (errorThreshold + v - 1));
  });

  it('without the bulkhead the first wave is every call times its attempts', async () => {
    const { guard, config } = caller({ budget: false });
    const { fn, requests } = scripted('apify_linkedin', ['server']);
    await settleAll(Array.from({ length: 50 }, () => guard.call(1, 'apify_linkedin', fn)), 5000);
    expect(requests.length).toBe(50 * config.retry.maxAttempts);
  });
});

describe('retry budget per (tenant, vendor)', () => {
  it('refuses the retries past 20 % of the calls (no per-second minimum): the call fails with its error, the refusal is counted', async () => {
    const { guard } = caller({ env: { RETRY_BUDGET_PERCENT: '20', RETRY_BUDGET_MIN_PER_S: '0', CB_GLOBAL_EXEMPT_VENDORS: 'tavily' } });
    const { fn, requests } = scripted('tavily', ['server']);
    const quota: QuotaEvent[] = [];
    const outcomes = await settleAll(Array.from({ length: 10 }, () => guard.call(1, 'tavily', fn, { onQuota: (e) => quota.push(e) })), 5000);
    expect(outcomes.every((o) => o.error instanceof VendorError && (o.error as VendorError).kind === 'server')).toBe(true);
    // 10 calls allow 2 retries in the window: 12 requests; 8 calls had their first retry refused
    // and the 2 that retried had their second one refused.
    expect(requests).toHaveLength(12);
    expect(quota.filter((e) => e.type === 'retry_refused')).toHaveLength(10);
  });

  it('is per tenant: another tenant has a budget of its own', async () => {
    const { guard } = caller({ env: { RETRY_BUDGET_PERCENT: '0', RETRY_BUDGET_MIN_PER_S: '0.1', CB_GLOBAL_EXEMPT_VENDORS: 'tavily' } });
    const { fn, requests } = scripted('tavily', ['server', 'ok']);
    const a = await settle(guard.call(1, 'tavily', fn)); // 1 retry allowed in 10 s: used
    expect(a.value).toBe('ok#2');
    const s2 = scripted('tavily', ['server', 'ok']);
    expect((await settle(guard.call(1, 'tavily', s2.fn))).error).toMatchObject({ kind: 'server' });
    const s3 = scripted('tavily', ['server', 'ok']);
    expect((await settle(guard.call(2, 'tavily', s3.fn))).value).toBe('ok#2');
    expect(requests).toHaveLength(2);
  });

  it('empty RETRY_BUDGET_PERCENT: retries are not budgeted', async () => {
    const { guard, config } = caller({ env: { RETRY_BUDGET_PERCENT: '', RETRY_BUDGET_MIN_PER_S: '0', CB_GLOBAL_EXEMPT_VENDORS: 'tavily' } });
    expect(config.quotas.retryBudget).toBeNull();
    const { fn, requests } = scripted('tavily', ['server']);
    await settleAll(Array.from({ length: 10 }, () => guard.call(1, 'tavily', fn)), 5000);
    expect(requests).toHaveLength(30);
  });
});

describe('a rate-limit wait in the chain (enrichCompany, real guarded call and limiter)', () => {
  it('a company whose OpenAI turn comes after its deadline ends DEADLINE_EXCEEDED, not OPENAI_FAIL, and OpenAI is not asked', async () => {
    const env = { TAVILY_API_KEY: 't', OPENAI_API_KEY: 'o', ZEROBOUNCE_API_KEY: 'z', LUSHA_API_KEY: 'l', APIFY_TOKEN: 'a', COMPANY_DEADLINE_MS: '30000' };
    const config = configFrom(env);
    const clock = { now: () => Date.now() };
    const guard = createGuardedCaller({ config, clock, limiter: createMemoryRateLimiter({ openai: { points: 1, durationS: 60 } }) });
    let openai = 0;
    const ports: EnrichmentPorts = {
      crawler: { crawl: async () => ({ url: 'https://acme.test/', text: 'Acme makes rockets. '.repeat(50), mailtos: [], thin: false }) },
      search: { search: async () => ({ answer: null, hits: [] }) },
      extractor: { extract: async () => ((openai += 1), { facts: { industry: 'rockets' }, usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, costUsd: 0 }) },
      apify: { findContacts: async () => [] },
      lusha: { findContacts: async () => [] },
      verifier: { verify: async (email) => ({ email, status: 'valid' as const, subStatus: null }) },
    };
    const enrich = (companyId: number) => settle(enrichCompany({ companyId, tenantId: 1, name: 'Acme', domain: 'acme.test' }, { config, guard, ports, clock }), 200);
    const first = await enrich(1);
    expect((first.value as { reasons: string[] }).reasons).toEqual([]);
    const second = await enrich(2); // OpenAI's next turn is 60 s away, the deadline 30 s
    expect((second.value as { reasons: string[] }).reasons).toEqual(['DEADLINE_EXCEEDED']);
    expect(openai).toBe(1);
  });
});
