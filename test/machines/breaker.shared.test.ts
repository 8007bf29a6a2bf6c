/**
 * The breaker machine over the fleet's row (src/machines/breaker.shared.ts): the row's probe has
 * an owner and a lease, a late probe's answer changes nothing, and every step is the machine's.
 */
import { describe, expect, it } from 'vitest';
import type { SharedBreakerFields } from '../../src/domain/index.js';
import { rowOfSnapshot, snapshotOfRow, stepRow } from '../../src/machines/breaker.shared.js';

const input = { errorThreshold: 2, coolOffMs: 10_000, probeLeaseMs: 25_000 };
const T0 = Date.UTC(2026, 5, 1);
const closed: SharedBreakerFields = { state: 'closed', consecutiveFailures: 0, openedAt: null, probeId: 0, probeStartedAt: null, probeOwner: null, probeLeaseUntil: null, reason: null };
const open: SharedBreakerFields = { ...closed, state: 'open', consecutiveFailures: 2, openedAt: T0, reason: 'threshold' };

describe('stepRow', () => {
  it('counts a failure, then opens at the threshold with the transition and its time', () => {
    const one = stepRow(input, closed, { type: 'call.failed', now: T0, kind: 'server' }, 'a');
    expect(one).toEqual({ fields: { ...closed, consecutiveFailures: 1 }, transition: null, probeId: null });
    const two = stepRow(input, one!.fields, { type: 'call.failed', now: T0 + 5, kind: 'timeout' }, 'a');
    expect(two?.fields).toMatchObject({ state: 'open', consecutiveFailures: 2, openedAt: T0 + 5, reason: 'threshold' });
    expect(two?.transition).toEqual({ from: 'closed', to: 'open', reason: 'threshold' });
  });

  it('changes nothing for what the machine ignores: a request while closed, a not_found, a request during the cool-off', () => {
    expect(stepRow(input, closed, { type: 'call.requested', now: T0 }, 'a')).toBeNull();
    expect(stepRow(input, closed, { type: 'call.failed', now: T0, kind: 'not_found' }, 'a')).toBeNull();
    expect(stepRow(input, open, { type: 'call.requested', now: T0 + 9_999 }, 'a')).toBeNull();
  });

  it('admits one probe after the cool-off, owned by the asker, leased from its start', () => {
    const probe = stepRow(input, open, { type: 'call.requested', now: T0 + 10_000 }, 'worker-a');
    expect(probe?.fields).toMatchObject({ state: 'halfOpen', probeId: 1, probeStartedAt: T0 + 10_000, probeOwner: 'worker-a', probeLeaseUntil: T0 + 35_000 });
    expect(probe?.probeId).toBe(1);
    // Anyone else asking while the lease runs is refused: nothing changes.
    expect(stepRow(input, probe!.fields, { type: 'call.requested', now: T0 + 34_999 }, 'worker-b')).toBeNull();
    // Once it ran out, the next asker takes a new probe (a new generation of it).
    const replaced = stepRow(input, probe!.fields, { type: 'call.requested', now: T0 + 35_000 }, 'worker-b');
    expect(replaced?.fields).toMatchObject({ state: 'halfOpen', probeId: 2, probeOwner: 'worker-b', reason: 'probe_lease_expired' });
    expect(replaced?.transition).toEqual({ from: 'halfOpen', to: 'halfOpen', reason: 'probe_lease_expired' });
  });

  it("the probe's success closes it, its failure reopens it; an answer after its lease, or from an older probe, changes nothing", () => {
    const half = stepRow(input, open, { type: 'call.requested', now: T0 + 10_000 }, 'a')!.fields;
    expect(stepRow(input, half, { type: 'call.succeeded', now: T0 + 11_000, probeId: 1 }, 'a')?.fields).toMatchObject({ state: 'closed', consecutiveFailures: 0, probeOwner: null, probeLeaseUntil: null });
    expect(stepRow(input, half, { type: 'call.failed', now: T0 + 11_000, kind: 'server', probeId: 1 }, 'a')?.fields).toMatchObject({ state: 'open', openedAt: T0 + 11_000, reason: 'probe_failed' });
    expect(stepRow(input, half, { type: 'call.succeeded', now: T0 + 35_000, probeId: 1 }, 'a')).toBeNull();
    expect(stepRow(input, half, { type: 'call.failed', now: T0 + 40_000, kind: 'server', probeId: 1 }, 'a')).toBeNull();
    expect(stepRow(input, half, { type: 'call.succeeded', now: T0 + 11_000, probeId: 0 }, 'a')).toBeNull();
  });

  it('a row and its snapshot say the same', () => {
    const half = stepRow(input, open, { type: 'call.requested', now: T0 + 10_000 }, 'a')!.fields;
    expect(rowOfSnapshot(snapshotOfRow(input, half), null, half)).toEqual(half);
    expect(rowOfSnapshot(snapshotOfRow(input, open), null, open)).toEqual(open);
  });
});
