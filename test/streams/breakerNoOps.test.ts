import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, getNextSnapshot, type SnapshotFrom } from 'xstate';
import { ERROR_KINDS } from '../../src/domain/errors.js';
import { breakerMachine, type BreakerEvent } from '../../src/machines/breaker.machine.js';
import { admitsWithoutEvent, failureChangesNothing, refusesWithoutEvent, successChangesNothing } from '../../src/streams/breakerNoOps.js';

/**
 * The registry does not send the events breakerNoOps.ts says change nothing: hold every one of
 * those answers to the machine itself, from breakers driven into random reachable states.
 */

type Snap = SnapshotFrom<typeof breakerMachine>;
const input = { errorThreshold: 2, coolOffMs: 1_000, probeLeaseMs: 1_500 };
const T0 = 1_000_000;

const eventArb = (now: number): fc.Arbitrary<BreakerEvent> =>
  fc.oneof(
    fc.constant<BreakerEvent>({ type: 'call.requested', now }),
    fc.option(fc.nat(3), { nil: undefined }).map((probeId): BreakerEvent => ({ type: 'call.succeeded', now, probeId })),
    fc.tuple(fc.constantFrom(...ERROR_KINDS), fc.option(fc.nat(3), { nil: undefined })).map(([kind, probeId]): BreakerEvent => ({ type: 'call.failed', now, kind, probeId })),
    fc.option(fc.nat(3), { nil: undefined }).map((probeId): BreakerEvent => ({ type: 'call.abandoned', now, probeId })),
  );

/** A breaker after a random history: each step advances time by 0–2 s and sends one event. */
const snapshotArb: fc.Arbitrary<{ snapshot: Snap; now: number }> = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.nat()), { maxLength: 12 })
  .chain((steps) => {
    let now = T0;
    const times = steps.map(([dt]) => (now += dt));
    return fc.tuple(...times.map((t) => eventArb(t))).map((events) => {
      const actor = createActor(breakerMachine, { input }).start();
      for (const e of events) actor.send(e);
      return { snapshot: actor.getSnapshot(), now };
    });
  });

const unchanged = (before: Snap, event: BreakerEvent): boolean => {
  const after = getNextSnapshot(breakerMachine, before, event);
  return after.value === before.value && JSON.stringify(after.context) === JSON.stringify(before.context);
};

describe('breaker events the registry does not send', () => {
  it('change nothing in the machine: admission when closed, refusal while cooling off, a plain success, a failure that does not count', () => {
    fc.assert(
      fc.property(snapshotArb, fc.integer({ min: 0, max: 3_000 }), fc.constantFrom(...ERROR_KINDS), fc.boolean(), ({ snapshot, now: last }, dt, kind, probe) => {
        const now = last + dt;
        const probeId = probe ? snapshot.context.probeId : undefined;
        if (admitsWithoutEvent(snapshot) || refusesWithoutEvent(snapshot, now)) expect(unchanged(snapshot, { type: 'call.requested', now })).toBe(true);
        if (successChangesNothing(snapshot, probe)) expect(unchanged(snapshot, { type: 'call.succeeded', now, probeId })).toBe(true);
        if (failureChangesNothing(snapshot, kind)) expect(unchanged(snapshot, { type: 'call.failed', now, kind, probeId })).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('are the only ones left out: a refusal after the cool-off and a success after failures are sent', () => {
    const actor = createActor(breakerMachine, { input }).start();
    actor.send({ type: 'call.failed', now: T0, kind: 'server' });
    expect(successChangesNothing(actor.getSnapshot(), false)).toBe(false);
    actor.send({ type: 'call.failed', now: T0, kind: 'server' });
    expect(actor.getSnapshot().value).toBe('open');
    expect(refusesWithoutEvent(actor.getSnapshot(), T0 + 999)).toBe(true);
    expect(refusesWithoutEvent(actor.getSnapshot(), T0 + 1_000)).toBe(false);
    expect(admitsWithoutEvent(actor.getSnapshot())).toBe(false);
  });
});
