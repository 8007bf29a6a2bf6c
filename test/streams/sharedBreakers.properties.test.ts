/**
 * The fleet's breaker (issue 13 item 4): several processes, each with its own mirror, over one
 * shared row; a fast-check scheduler decides the order of every row update and of every
 * notification across processes. Whatever the interleaving of admissions, outcomes and cool-offs:
 * at most one probe whose answer still counts is in flight for the fleet, every transition is
 * announced by exactly one process (the one whose write made it), and once everything is
 * delivered every mirror says what the row says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import type { BreakerTransition, SharedBreakerState } from '../../src/domain/index.js';
import { createBreakerRegistry, type Admission } from '../../src/streams/breakerRegistry.js';
import { createSharedBreakers, type SharedBreakers } from '../../src/streams/sharedBreakers.js';
import { memoryBreakerStore } from '../support/memoryBreakerStore.js';

const T0 = Date.UTC(2026, 0, 1);
const COOL_OFF_S = 2;
const PROBE_TIMEOUT_MS = 1_000;
const logger = createLogger({ level: 'silent' });

type Cmd =
  | { c: 'call'; p: number; drain: number }
  | { c: 'answer'; i: number; ok: boolean; drain: number }
  | { c: 'abandon'; i: number; drain: number }
  | { c: 'tick'; ms: number; drain: number };

/** How many scheduled steps (a row update, a notification) to let through after a command. */
const drain = fc.oneof(fc.nat(6), fc.constant(1_000));
const cmdArb = (processes: number): fc.Arbitrary<Cmd> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ c: fc.constant('call' as const), p: fc.nat(processes - 1), drain }) },
    { weight: 4, arbitrary: fc.record({ c: fc.constant('answer' as const), i: fc.nat(20), ok: fc.boolean(), drain }) },
    { weight: 1, arbitrary: fc.record({ c: fc.constant('abandon' as const), i: fc.nat(20), drain }) },
    { weight: 2, arbitrary: fc.record({ c: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 12 }).map((n) => n * 250), drain }) },
  );

interface InFlight {
  p: number;
  admission: Admission;
  /** For a probe: when its lease runs out (its answer no longer counts after). */
  leaseUntil: number | null;
}

describe('the shared breaker across processes (fast-check, scheduled interleavings)', () => {
  it('at most one live probe for the fleet, each transition announced once, mirrors converge', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.array(cmdArb(4), { minLength: 20, maxLength: 120, size: 'max' }), async (s, processes, threshold, commands) => {
        let now = T0;
        const clock = { now: () => now };
        const store = memoryBreakerStore((label) => s.schedule(Promise.resolve(), label).then(() => undefined));
        const announced: BreakerTransition[] = [];
        const fleet: SharedBreakers[] = [];
        for (let p = 0; p < processes; p++) {
          const local = createBreakerRegistry({ breaker: { errorThreshold: threshold, coolOffS: COOL_OFF_S, exemptVendors: [] }, clock, probeTimeoutMs: PROBE_TIMEOUT_MS });
          const shared = createSharedBreakers({ local, store, owner: `p${p}`, clock, exempt: [], logger });
          shared.transitions$.subscribe((t) => announced.push(t));
          fleet.push(shared);
        }
        await Promise.all(fleet.map((f) => f.start()));
        const inFlight: InFlight[] = [];
        let mostLive = 0;
        const liveProbes = (): number => inFlight.filter((f) => f.leaseUntil !== null && now < f.leaseUntil).length;

        const call = (p: number): void => {
          const shared = fleet[p] as SharedBreakers;
          const admitted = (admission: Admission): void => {
            if (admission.status === 'refused') return;
            // A probe's lease runs from when the row admitted it (its write), not from when its caller heard.
            const lease = admission.status === 'probe' ? store.writes.find((w) => w.state === 'halfOpen' && w.probeId === admission.probeId)?.probeLeaseUntil : null;
            if (lease === undefined) throw new Error('a probe the row never admitted');
            inFlight.push({ p, admission, leaseUntil: lease });
            mostLive = Math.max(mostLive, liveProbes());
          };
          const a = shared.admit(1, 'tavily');
          if (a instanceof Promise) void a.then(admitted);
          else admitted(a);
        };

        for (const cmd of commands) {
          if (cmd.c === 'call') call(cmd.p % processes);
          else if (cmd.c === 'tick') now += cmd.ms;
          else if (inFlight.length > 0) {
            const [f] = inFlight.splice(cmd.i % inFlight.length, 1) as [InFlight];
            const shared = fleet[f.p] as SharedBreakers;
            if (cmd.c === 'abandon') shared.recordAbandoned(1, 'tavily', f.admission);
            else if (cmd.ok) shared.recordSuccess(1, 'tavily', f.admission);
            else shared.recordFailure(1, 'tavily', 'server', f.admission);
          }
          for (let k = 0; k < cmd.drain; k++) {
            await new Promise((resolve) => setImmediate(resolve)); // what the last step set going
            if (s.count() === 0) break;
            await s.waitOne();
          }
        }
        // Let every write and every notification through.
        do {
          await s.waitAll();
          await new Promise((resolve) => setImmediate(resolve));
        } while (s.count() > 0);

        expect(mostLive, 'probes in flight at once whose answers still count').toBeLessThanOrEqual(1);
        // Each write that moved the breaker was announced once, by its writer, in commit order.
        const moves: string[] = [];
        let last: SharedBreakerState | undefined;
        for (const w of store.writes) {
          const from = last?.state ?? 'closed';
          if (w.state !== from || w.probeId !== (last?.probeId ?? 0)) moves.push(`${from}->${w.state}`);
          last = w;
        }
        expect(announced.map((t) => `${t.from}->${t.to}`).sort()).toEqual(moves.sort());
        // Every mirror that exists says what the row says.
        const row = store.rows.get('1:tavily');
        if (row) {
          for (const shared of fleet) {
            const info = shared.list().find((b) => b.tenantId === 1 && b.vendor === 'tavily');
            if (info) expect({ failures: info.consecutiveFailures, openedAt: info.openedAt }).toEqual({ failures: row.consecutiveFailures, openedAt: row.openedAt });
          }
        }
        await Promise.all(fleet.map((f) => f.close()));
      }),
      { numRuns: 300 },
    );
  });
});
