import fc from 'fast-check';
import { queueScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VendorError, isCircuitOpenError, isVendorError } from '../../src/domain/errors.js';
import type { BreakerStateName } from '../../src/domain/events.js';
import type { BreakerVendor } from '../../src/domain/vendor.js';
import type { PersistedBreaker } from '../../src/streams/breakerRegistry.js';
import { deferred, system } from '../support/breakerHarness.js';

/**
 * Properties over random sequences of calls, held (concurrent) calls, outcomes and clock
 * advances, on fake time. Retry delays are 0 on the queue scheduler (retries run at once), so
 * time moves only in `advance` steps (multiples of 100 ms); attempt timeouts still run on fake
 * timers.
 */

const T0 = Date.UTC(2026, 0, 1);
const COOL_OFF_MS = 2_000;
const KEYS = [
  [1, 'tavily'],
  [1, 'lusha'],
  [2, 'tavily'],
  [2, 'lusha'],
] as const;
type Outcome = 'ok' | 'server' | 'auth' | 'not_found';

type Op =
  | { op: 'call'; key: number; steps: Outcome[] }
  | { op: 'hold'; key: number }
  | { op: 'release'; key: number; outcome: Outcome }
  | { op: 'advance'; ms: number };

const outcome = fc.constantFrom<Outcome>('ok', 'server', 'server', 'auth', 'not_found');
const key = fc.nat(KEYS.length - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('call' as const), key, steps: fc.array(outcome, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hold' as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), key, outcome }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 30 }).map((n) => n * 100) }) },
);
const opsArb = fc.array(opArb, { minLength: 1, maxLength: 40 });

/** A system plus the pending held calls and the invariant checks made on every request. */
function harness(restore?: readonly PersistedBreaker[]) {
  const s = system({ env: { CB_ERROR_THRESHOLD: '2', CB_COOL_OFF_S: String(COOL_OFF_MS / 1000), VENDOR_TIMEOUT_MS: '1000', RETRY_BASE_DELAY_MS: '0', RETRY_MAX_DELAY_MS: '0' }, restore, scheduler: queueScheduler });
  const last = new Map<string, { to: BreakerStateName; at: number; requestsSince: number }>();
  const violations: string[] = [];
  for (const info of s.registry.list()) last.set(`${info.tenantId}:${info.vendor}`, { to: info.state === 'halfOpen' ? 'open' : info.state, at: info.openedAt ?? 0, requestsSince: 0 });
  s.registry.transitions$.subscribe((t) => {
    const k = `${t.tenantId}:${t.vendor}`;
    const prev = last.get(k);
    if (t.from === 'open' && t.to === 'halfOpen' && prev && t.at - prev.at < COOL_OFF_MS) violations.push(`${k}: half-open ${t.at - prev.at} ms after opening`);
    last.set(k, { to: t.to, at: t.at, requestsSince: 0 });
  });
  const request = (tenant: number, vendor: BreakerVendor): void => {
    const k = `${tenant}:${vendor}`;
    const l = last.get(k);
    if (l?.to === 'open') violations.push(`${k}: request while open at ${Date.now() - T0}`);
    if (l?.to === 'halfOpen' && ++l.requestsSince > 1) violations.push(`${k}: ${l.requestsSince} requests in one half-open period`);
  };
  const pending = new Map<number, { gate: ReturnType<typeof deferred<string>>; after: Outcome[]; done: Promise<string> }[]>();
  const log: string[] = [];

  const describeOutcome = (o: { value?: unknown; error?: unknown }): string =>
    'value' in o ? 'ok' : isCircuitOpenError(o.error) ? 'refused' : isVendorError(o.error) ? o.error.kind : `?${String(o.error)}`;

  async function settle(p: Promise<unknown>): Promise<string> {
    let out: string | undefined;
    p.then((value) => (out = describeOutcome({ value })), (error: unknown) => (out = describeOutcome({ error })));
    for (let i = 0; i < 30 && out === undefined; i++) await vi.advanceTimersByTimeAsync(0);
    return out ?? 'pending';
  }

  async function apply(op: Op): Promise<void> {
    if (op.op === 'advance') {
      await vi.advanceTimersByTimeAsync(op.ms);
      return void log.push(`advance ${op.ms}`);
    }
    const [tenant, vendor] = KEYS[op.key]!;
    if (op.op === 'call') {
      let n = 0;
      const fn = (): Promise<string> => {
        request(tenant, vendor);
        const step = op.steps[Math.min(n++, op.steps.length - 1)]!;
        return step === 'ok' ? Promise.resolve('ok') : Promise.reject(new VendorError({ vendor, kind: step }));
      };
      const result = await settle(s.caller.call(tenant, vendor, fn));
      if (result === 'pending') violations.push(`call ${op.key} did not settle`);
      return void log.push(`call ${op.key}: ${result} after ${n} requests`);
    }
    if (op.op === 'hold') {
      const gate = deferred<string>();
      const entry = { gate, after: ['server'] as Outcome[], done: Promise.resolve('') };
      let n = 0;
      const fn = (): Promise<string> => {
        request(tenant, vendor);
        if (n++ === 0) return gate.promise;
        const step = entry.after[0]!;
        return step === 'ok' ? Promise.resolve('ok') : Promise.reject(new VendorError({ vendor, kind: step }));
      };
      const p = s.caller.call(tenant, vendor, fn);
      const first = await settle(p);
      if (first !== 'pending') return void log.push(`hold ${op.key}: ${first}`);
      entry.done = p;
      pending.set(op.key, [...(pending.get(op.key) ?? []), entry]);
      return void log.push(`hold ${op.key}: pending`);
    }
    const queue = pending.get(op.key) ?? [];
    const held = queue.shift();
    if (!held) return void log.push(`release ${op.key}: none`);
    held.after = [op.outcome];
    if (op.outcome === 'ok') held.gate.resolve('ok');
    else held.gate.reject(new VendorError({ vendor, kind: op.outcome }));
    const result = await settle(held.done);
    if (result === 'pending') violations.push(`released call ${op.key} did not settle`);
    log.push(`release ${op.key}: ${result}`);
  }

  async function releaseAll(): Promise<void> {
    for (const k of pending.keys()) while ((pending.get(k) ?? []).length > 0) await apply({ op: 'release', key: k, outcome: 'ok' });
  }

  const state = () => s.registry.list().sort((a, b) => a.tenantId - b.tenantId || a.vendor.localeCompare(b.vendor));
  return { s, apply, releaseAll, log, violations, state };
}

async function runAll(ops: Op[], restore?: readonly PersistedBreaker[]) {
  const h = harness(restore);
  for (const op of ops) await h.apply(op);
  return h;
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const fresh = () => {
  vi.clearAllTimers();
  vi.setSystemTime(T0);
};

describe('breaker properties', () => {
  it('no request while open before the cool-off, and exactly one probe per half-open period', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => {
        fresh();
        const h = await runAll(ops);
        expect(h.violations).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('tenants and vendors never share state: each breaker ends as if it had run alone', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => {
        fresh();
        const all = (await runAll(ops)).state();
        for (const [k, [tenant, vendor]] of KEYS.entries()) {
          fresh();
          const alone = (await runAll(ops.filter((o) => o.op === 'advance' || o.key === k))).state();
          expect(alone.find((b) => b.tenantId === tenant && b.vendor === vendor)).toEqual(all.find((b) => b.tenantId === tenant && b.vendor === vendor));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a breaker restored from its snapshot after a restart behaves like the original', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, opsArb, async (before, after) => {
        fresh();
        const original = await runAll(before);
        await original.releaseAll();
        const snapshots = JSON.parse(JSON.stringify(original.s.registry.exportSnapshots())) as PersistedBreaker[];
        const restartAt = Date.now();
        const mark = original.log.length;
        for (const op of after) await original.apply(op);

        vi.clearAllTimers();
        vi.setSystemTime(restartAt);
        const restored = await runAll(after, snapshots);
        expect(restored.log).toEqual(original.log.slice(mark));
        expect(restored.state()).toEqual(original.state());
        expect(restored.violations).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
