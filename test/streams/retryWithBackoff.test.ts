import fc from 'fast-check';
import { defer, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { classifyHttpResponse, parseRetryAfter } from '../../src/adapters/http/classify.js';
import { ERROR_KINDS, VendorError, isRetryableKind, type ErrorKind } from '../../src/domain/errors.js';
import { JITTER_MAX, JITTER_MIN, backoffDelay, retryWithBackoff, type RetryEvent, type RetryWithBackoffConfig } from '../../src/streams/retryWithBackoff.js';

const policy = { baseDelayMs: 250, maxDelayMs: 4000 };
const err = (kind: ErrorKind, retryAfterMs?: number) => new VendorError({ vendor: 'tavily', kind, retryAfterMs });

interface Outcome {
  /** Virtual times at which the source was subscribed (one per attempt). */
  attempts: number[];
  retries: RetryEvent[];
  value?: unknown;
  error?: unknown;
  /** Virtual time of the final notification. */
  at?: number;
}

/**
 * Runs a source whose attempt i (0-based) yields `outcomes[i]` (an error or a value) under
 * retryWithBackoff on a virtual-time scheduler.
 */
function drive(outcomes: (VendorError | Error | string)[], config: Partial<RetryWithBackoffConfig> = {}, setup?: (s: TestScheduler) => void): Outcome {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.maxFrames = Number.POSITIVE_INFINITY; // TestScheduler stops at frame 750 by default
  const out: Outcome = { attempts: [], retries: [] };
  const source = defer(() => {
    const i = out.attempts.push(scheduler.now()) - 1;
    const o = outcomes[Math.min(i, outcomes.length - 1)]!;
    return typeof o === 'string' ? of(o) : throwError(() => o);
  });
  setup?.(scheduler);
  source
    .pipe(retryWithBackoff({ maxAttempts: 3, ...policy, random: () => 0.5, scheduler, onRetry: (e) => out.retries.push(e), ...config }))
    .subscribe({
      next: (v) => ((out.value = v), (out.at = scheduler.now())),
      error: (e: unknown) => ((out.error = e), (out.at = scheduler.now())),
    });
  scheduler.flush();
  return out;
}

describe('backoffDelay', () => {
  it('follows min(max, base·2^(n-1))·U(0.8,1.2) at the jitter bounds', () => {
    for (let n = 1; n <= 6; n++) {
      const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      expect(backoffDelay(n, policy, 0)).toBeCloseTo(raw * 0.8, 9);
      expect(backoffDelay(n, policy, 0.5)).toBeCloseTo(Math.min(policy.maxDelayMs, raw), 9);
    }
  });

  it('caps again after the jitter', () => {
    expect(backoffDelay(5, policy, 0.999)).toBe(4000); // 4000 · 1.1996 capped
    expect(backoffDelay(3, { baseDelayMs: 1000, maxDelayMs: 4000 }, 0.99)).toBe(4000);
  });

  it('stays within the jitter band for any attempt, policy and randomness', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.nat(10_000), fc.nat(60_000), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, base, extra, r) => {
        const p = { baseDelayMs: base, maxDelayMs: base + extra };
        const raw = Math.min(p.maxDelayMs, base * 2 ** (n - 1));
        const d = backoffDelay(n, p, r);
        expect(d).toBeGreaterThanOrEqual(raw * JITTER_MIN - 1e-9);
        expect(d).toBeLessThanOrEqual(Math.min(p.maxDelayMs, raw * JITTER_MAX) + 1e-9);
      }),
    );
  });

  it('rejects invalid policies with a RangeError naming the value', () => {
    expect(() => backoffDelay(0, policy, 0.5)).toThrow(/attempt must be >= 1, got 0/);
    expect(() => backoffDelay(1, { baseDelayMs: 5000, maxDelayMs: 4000 }, 0.5)).toThrow(RangeError);
    expect(() => retryWithBackoff({ maxAttempts: 0, ...policy })).toThrow(/maxAttempts must be an integer >= 1, got 0/);
  });
});

describe('retryWithBackoff', () => {
  it('makes maxAttempts attempts in all and reports each retry with its delay and kind', () => {
    const out = drive([err('server')], { maxAttempts: 4 });
    expect(out.attempts).toEqual([0, 250, 750, 1750]);
    expect(out.retries.map((r) => [r.attempt, r.delayMs, r.kind])).toEqual([
      [1, 250, 'server'],
      [2, 500, 'server'],
      [3, 1000, 'server'],
    ]);
    expect(out.error).toBeInstanceOf(VendorError);
    expect(out.at).toBe(1750);
  });

  it('delivers the value of the first successful attempt', () => {
    const out = drive([err('timeout'), err('network'), 'ok']);
    expect(out.value).toBe('ok');
    expect(out.attempts).toHaveLength(3);
    expect(out.retries.map((r) => r.kind)).toEqual(['timeout', 'network']);
  });

  it('keeps every wait inside the jitter band and the cap, whatever the randomness', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 8, maxLength: 8 }), (rs) => {
        let i = 0;
        const out = drive([err('server')], { maxAttempts: 8, random: () => rs[i++]! });
        expect(out.attempts).toHaveLength(8);
        out.retries.forEach((r, k) => {
          const raw = Math.min(4000, 250 * 2 ** k);
          expect(r.delayMs).toBeGreaterThanOrEqual(raw * 0.8 - 1e-9);
          expect(r.delayMs).toBeLessThanOrEqual(Math.min(4000, raw * 1.2) + 1e-9);
          expect(out.attempts[k + 1]! - out.attempts[k]!).toBeCloseTo(r.delayMs, 6);
        });
      }),
      { numRuns: 50 },
    );
  });

  it.each(ERROR_KINDS.filter((k) => !isRetryableKind(k)))('passes %s straight through without a retry', (kind) => {
    const out = drive([err(kind)]);
    expect(out.attempts).toEqual([0]);
    expect(out.retries).toEqual([]);
    expect((out.error as VendorError).kind).toBe(kind);
  });

  it('passes errors that are not VendorErrors straight through', () => {
    const boom = new Error('boom');
    const out = drive([boom]);
    expect(out.attempts).toHaveLength(1);
    expect(out.error).toBe(boom);
  });

  it('honours Retry-After given in seconds (parseRetryAfter)', () => {
    const retryAfterMs = parseRetryAfter(new Headers({ 'retry-after': '2' }), 0);
    expect(retryAfterMs).toBe(2000);
    const out = drive([err('rate_limited', retryAfterMs), 'ok']);
    expect(out.attempts).toEqual([0, 2000]);
    expect(out.retries[0]).toMatchObject({ attempt: 1, delayMs: 2000, kind: 'rate_limited' });
  });

  it('honours Retry-After given as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const headers = new Headers({ 'retry-after': new Date(now + 3000).toUTCString() });
    const error = classifyHttpResponse('tavily', 429, headers, now);
    expect(error.retryAfterMs).toBe(3000);
    const out = drive([error, 'ok']);
    expect(out.attempts).toEqual([0, 3000]);
  });

  it('uses the backoff when it is longer than a short Retry-After', () => {
    const out = drive([err('rate_limited', 100), err('rate_limited', 100), 'ok']);
    expect(out.retries.map((r) => r.delayMs)).toEqual([250, 500]);
  });

  it('does not retry when Retry-After exceeds RETRY_MAX_DELAY_MS', () => {
    const out = drive([err('rate_limited', 4001), 'ok']);
    expect(out.attempts).toEqual([0]);
    expect((out.error as VendorError).retryAfterMs).toBe(4001);
    const atCap = drive([err('rate_limited', 4000), 'ok']);
    expect(atCap.attempts).toEqual([0, 4000]);
  });

  it('retries a 5xx whose Retry-After exceeds RETRY_MAX_DELAY_MS, waiting the cap (server is always retried)', () => {
    const error = classifyHttpResponse('lusha', 503, new Headers({ 'retry-after': '30' }), 0);
    expect(error).toMatchObject({ kind: 'server', retryAfterMs: 30_000 });
    const out = drive([error, error, 'ok']);
    expect(out.value).toBe('ok');
    expect(out.attempts).toEqual([0, 4000, 8000]);
    expect(out.retries.map((r) => [r.attempt, r.delayMs, r.kind])).toEqual([
      [1, 4000, 'server'],
      [2, 4000, 'server'],
    ]);
  });

  it('on a 5xx, waits max(backoff, min(Retry-After, cap))', () => {
    // Retry-After 1000 beats the backoff (250, 500), then the backoff (2000) beats it.
    const out = drive([err('server', 1000), err('server', 1000), err('server', 1000), 'ok'], { maxAttempts: 4, baseDelayMs: 500 });
    expect(out.retries.map((r) => r.delayMs)).toEqual([1000, 1000, 2000]);
    expect(out.attempts).toEqual([0, 1000, 2000, 4000]);
    const short = drive([err('server', 100), 'ok']);
    expect(short.attempts).toEqual([0, 250]);
  });

  it('stops the wait at once when the signal fires, with the last error', () => {
    const controller = new AbortController();
    const last = err('server');
    const out = drive([last], { maxAttempts: 5, signal: controller.signal }, (s) => s.schedule(() => controller.abort(), 100));
    expect(out.attempts).toEqual([0]);
    expect(out.error).toBe(last);
    expect(out.at).toBe(100);
  });

  it('does not start a retry once the signal has fired', () => {
    const controller = new AbortController();
    controller.abort();
    const out = drive([err('server')], { signal: controller.signal });
    expect(out.attempts).toEqual([0]);
    expect(out.retries).toEqual([]);
  });

  it('stops when the next attempt would start at or after the deadline', () => {
    const clock = { now: () => 1_000_000 };
    const out = drive([err('server')], { clock, deadline: 1_000_250 }); // the first wait ends at the deadline
    expect(out.attempts).toEqual([0]);
    expect(out.at).toBe(0);
    const later = drive([err('server'), 'ok'], { clock, deadline: 1_000_251 });
    expect(later.value).toBe('ok');
  });

  it('stops at the end of a wait when the deadline passed meanwhile (scheduler clock)', () => {
    // The default clock is the scheduler's: deadline 700 lets the first wait (250) and forbids the second (500).
    const out = drive([err('server')], { deadline: 700 });
    expect(out.attempts).toEqual([0, 250]);
    expect(out.at).toBe(250);
  });

  it('asks canRetry before the wait and again before the retry', () => {
    const asked: number[] = [];
    let allow = true;
    const out = drive([err('server')], { maxAttempts: 5, canRetry: (_e, n) => (asked.push(n), allow) }, (s) => s.schedule(() => (allow = false), 300));
    // Retry 1 allowed (asked at 0 and 250); retry 2 allowed at 250, vetoed at the end of its wait (750).
    expect(out.attempts).toEqual([0, 250]);
    expect(asked).toEqual([1, 1, 2, 2]);
    expect(out.at).toBe(750);
  });
});
