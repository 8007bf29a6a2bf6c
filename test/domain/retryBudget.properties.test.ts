/**
 * The retry budget's arithmetic (Finagle's and Envoy's), as fast-check properties: whatever the
 * calls and retry requests, at whatever times, the retries granted in any window never exceed
 * percent·calls + minPerS·window; a request is refused only when the window is spent; and more
 * calls never take a retry away.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetryBudget, allowanceOf, type RetryBudgetPolicy } from '../../src/domain/retryBudget.js';

const policyArb = fc.record({
  percent: fc.integer({ min: 0, max: 100 }),
  minPerS: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5, noNaN: true })),
  windowS: fc.integer({ min: 1, max: 12 }),
});

/** Calls and retry requests, each after a gap of 0 ms to 3 s. */
const eventsArb = fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 3000 }), kind: fc.constantFrom('call', 'call', 'retry') }), { maxLength: 300 });

/** Plays the events; returns the time and outcome of every one. */
function play(policy: RetryBudgetPolicy, events: { gapMs: number; kind: string }[]) {
  const budget = new RetryBudget(policy);
  let t = Date.UTC(2026, 0, 1);
  return events.map((e) => {
    t += e.gapMs;
    if (e.kind === 'call') {
      budget.recordCall(t);
      return { t, kind: 'call' as const, granted: false, budget };
    }
    const before = budget.window(t);
    const granted = budget.tryRetry(t);
    return { t, kind: 'retry' as const, granted, before, budget };
  });
}

/** The seconds of the window ending at `t`: floor(t/1000) - windowS + 1 … floor(t/1000). */
const inWindow = (t: number, at: number, windowS: number) => Math.floor(at / 1000) > Math.floor(t / 1000) - windowS && at <= t;

describe('retry budget', () => {
  it('never grants a retry that puts its window past percent x calls + minPerS x window', () => {
    fc.assert(
      fc.property(policyArb, eventsArb, (policy, events) => {
        const played = play(policy, events);
        // Counted afresh from the events (not from the budget's buckets), at each granted retry.
        for (const end of played.filter((e) => e.kind === 'retry' && e.granted)) {
          const window = played.filter((e) => inWindow(end.t, e.t, policy.windowS));
          const calls = window.filter((e) => e.kind === 'call').length;
          const granted = window.filter((e) => e.kind === 'retry' && e.granted).length;
          expect(granted).toBeLessThanOrEqual((policy.percent * calls) / 100 + policy.minPerS * policy.windowS + 1e-9);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a retry only when the window has spent its allowance', () => {
    fc.assert(
      fc.property(policyArb, eventsArb, (policy, events) => {
        for (const e of play(policy, events)) {
          if (e.kind === 'retry' && !e.granted) expect(e.before!.retries + 1).toBeGreaterThan(allowanceOf(e.before!.calls, policy));
          if (e.kind === 'retry' && e.granted) expect(e.before!.retries + 1).toBeLessThanOrEqual(allowanceOf(e.before!.calls, policy));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('over a whole run, retries ÷ calls stays within percent once calls dwarf the per-second minimum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 200, max: 2000 }), (percent, callsPerS) => {
        const policy = { percent, minPerS: 1, windowS: 10 };
        const budget = new RetryBudget(policy);
        let calls = 0;
        let granted = 0;
        const t0 = Date.UTC(2026, 0, 1);
        for (let s = 0; s < 30; s++) {
          for (let i = 0; i < callsPerS; i++) {
            const t = t0 + s * 1000 + Math.floor((i * 1000) / callsPerS);
            budget.recordCall(t);
            calls += 1;
            if (budget.tryRetry(t)) granted += 1; // every call wants a retry (a 100 % outage)
          }
        }
        // At most percent of the calls plus the minimum, for each of the 30 s (windows overlap by design).
        expect(granted).toBeLessThanOrEqual((percent * calls) / 100 + 1 * 30 + (percent * callsPerS * 10) / 100 + 10);
        expect(granted / calls).toBeLessThanOrEqual(percent / 100 + 0.05);
      }),
      { numRuns: 50 },
    );
  });

  it('more calls never take a retry away: the same requests with extra calls are granted at least as often', () => {
    fc.assert(
      fc.property(policyArb, eventsArb, fc.array(fc.nat(299), { maxLength: 30 }), (policy, events, extraAt) => {
        const more = [...events];
        for (const i of [...extraAt].sort((a, b) => b - a)) if (i <= more.length) more.splice(i, 0, { gapMs: 0, kind: 'call' });
        const grantedOf = (es: typeof events) => play(policy, es).filter((e) => e.kind === 'retry' && e.granted).length;
        // Retries are granted in order, so with extra calls at least as many are granted in all.
        expect(grantedOf(more)).toBeGreaterThanOrEqual(grantedOf(events));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a bad policy', () => {
    expect(() => new RetryBudget({ percent: 101, minPerS: 0, windowS: 10 })).toThrow(RangeError);
    expect(() => new RetryBudget({ percent: 20, minPerS: -1, windowS: 10 })).toThrow(RangeError);
    expect(() => new RetryBudget({ percent: 20, minPerS: 1, windowS: 0 })).toThrow(RangeError);
  });
});
