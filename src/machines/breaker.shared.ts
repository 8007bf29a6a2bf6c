import { transition, type SnapshotFrom } from 'xstate';
import type { BreakerStateName, SharedBreakerFields } from '../domain/index.js';
import { breakerMachine, type BreakerEvent, type BreakerInput } from './breaker.machine.js';

/**
 * The breaker machine over the fleet's shared row (`breaker_state`, DESIGN.md "Scale-out"): a row
 * is a breaker snapshot plus the probe's owner and lease, and an event is applied to it by the
 * machine itself (xstate's pure `transition`), so the machine stays the one definition of a
 * breaker whether one process holds it or a fleet does. Pure.
 */

/** A breaker snapshot. */
export type BreakerSnapshot = SnapshotFrom<typeof breakerMachine>;

/** The machine's snapshot of a row, with this process's thresholds. */
export function snapshotOfRow(input: BreakerInput, row: SharedBreakerFields): BreakerSnapshot {
  return breakerMachine.resolveState({
    value: row.state,
    context: {
      ...input,
      consecutiveFailures: row.consecutiveFailures,
      openedAt: row.openedAt,
      probeStartedAt: row.probeStartedAt,
      probeId: row.probeId,
      reason: row.reason,
    },
  });
}

/**
 * The row of a snapshot: while halfOpen, the probe belongs to `owner` when it was admitted by this
 * step (its id moved), otherwise to whoever held it; its lease runs `probeLeaseMs` from its start.
 */
export function rowOfSnapshot(snapshot: BreakerSnapshot, owner: string | null, previous: SharedBreakerFields | null): SharedBreakerFields {
  const { context } = snapshot;
  const state = snapshot.value as BreakerStateName;
  const probing = state === 'halfOpen' && context.probeStartedAt !== null;
  const newProbe = previous === null || context.probeId !== previous.probeId;
  return {
    state,
    consecutiveFailures: context.consecutiveFailures,
    openedAt: context.openedAt,
    probeId: context.probeId,
    probeStartedAt: context.probeStartedAt,
    probeOwner: probing ? (newProbe ? owner : (previous?.probeOwner ?? null)) : null,
    probeLeaseUntil: probing ? (context.probeStartedAt as number) + context.probeLeaseMs : null,
    reason: context.reason,
  };
}

/** What {@link stepRow} decided. */
export interface RowStep {
  fields: SharedBreakerFields;
  /** The transition the event made (a replaced probe is one too), or null when only counts moved. */
  transition: { from: BreakerStateName; to: BreakerStateName; reason: string } | null;
  /** The probe this event admitted, if it admitted one. */
  probeId: number | null;
}

/**
 * Applies `event` to `row` through the breaker machine, on behalf of `owner`. Null when it changes
 * nothing — among those, the outcome of a probe whose lease ran out before it answered: its
 * generation has passed, so it is ignored even if no other probe has been admitted yet.
 */
export function stepRow(input: BreakerInput, row: SharedBreakerFields, event: BreakerEvent, owner: string): RowStep | null {
  if (event.type !== 'call.requested' && event.probeId !== undefined && row.probeLeaseUntil !== null && event.now >= row.probeLeaseUntil) return null;
  const before = snapshotOfRow(input, row);
  const [after] = transition(breakerMachine, before, event);
  const fields = rowOfSnapshot(after, owner, row);
  const changed =
    fields.state !== row.state ||
    fields.consecutiveFailures !== row.consecutiveFailures ||
    fields.openedAt !== row.openedAt ||
    fields.probeId !== row.probeId ||
    fields.probeStartedAt !== row.probeStartedAt ||
    fields.reason !== row.reason;
  if (!changed) return null;
  const moved = fields.state !== row.state || fields.probeId !== row.probeId;
  return {
    fields,
    transition: moved ? { from: row.state, to: fields.state, reason: fields.reason ?? 'unknown' } : null,
    probeId: fields.probeId !== row.probeId ? fields.probeId : null,
  };
}
