import { and, assign, setup } from 'xstate';
import { countsAgainstBreaker, type ErrorKind } from '../domain/errors.js';

/**
 * The (tenant, vendor) circuit breaker of DESIGN.md "Circuit breakers", as a pure XState v5
 * machine. It has no `after` timers: every event carries `now` (epoch ms of the injected clock)
 * and the cool-off is evaluated when a call asks, so a breaker restored from a persisted
 * snapshot is in the right state (XState does not restore pending timers, statelyai/xstate#5331).
 */

/** Input of {@link breakerMachine}. */
export interface BreakerInput {
  /** Consecutive failed guarded calls that open the breaker (CB_ERROR_THRESHOLD, >= 1). */
  errorThreshold: number;
  /** Milliseconds the breaker stays open before one probe is admitted (CB_COOL_OFF_S · 1000). */
  coolOffMs: number;
  /**
   * Milliseconds after which a probe that never reported (its process died) is presumed lost
   * and a new probe may be admitted. The registry uses cool-off + per-attempt timeout.
   */
  probeLeaseMs: number;
}

/** Context of {@link breakerMachine}; every field is plain data, so snapshots persist as JSON. */
export interface BreakerContext extends BreakerInput {
  /** Failed guarded calls in a row while closed (only kinds that count against the breaker). */
  consecutiveFailures: number;
  /** Epoch ms of the last opening, or null if it never opened. */
  openedAt: number | null;
  /** Epoch ms when the current (or last) probe was admitted, or null if none ever was. */
  probeStartedAt: number | null;
  /** Increases with every admitted probe; outcomes name the probe they belong to. */
  probeId: number;
  /** Why the last transition happened (`threshold`, `cool_off_elapsed`, `probe_succeeded`, …). */
  reason: string | null;
}

/** Events of {@link breakerMachine}. `now` is epoch ms of the injected clock. */
export type BreakerEvent =
  | { type: 'call.requested'; now: number }
  | { type: 'call.succeeded'; now: number; probeId?: number }
  | { type: 'call.failed'; now: number; kind: ErrorKind; probeId?: number }
  | { type: 'call.abandoned'; now: number; probeId?: number };

/** Whether an open breaker's cool-off has elapsed at `now` (shared with the registry's fast path). */
export function coolOffElapsed(context: Pick<BreakerContext, 'openedAt' | 'coolOffMs'>, now: number): boolean {
  return context.openedAt === null || now - context.openedAt >= context.coolOffMs;
}

/**
 * Reasons of the transitions that (re)start a cool-off, i.e. set `openedAt` (`trip`, `reopen`). A
 * persisted breaker's last opening is its last transition with one of these reasons: the other
 * transitions into `open` (`probe_abandoned`, `restored`) keep the old openedAt.
 */
export const OPENING_REASONS = ['threshold', 'probe_failed'] as const;

const isCurrentProbe = ({ context, event }: { context: BreakerContext; event: BreakerEvent }): boolean =>
  'probeId' in event && event.probeId === context.probeId;

/** The breaker machine; side-effect free, so it needs no `.provide`. */
export const breakerMachine = setup({
  types: {} as { context: BreakerContext; events: BreakerEvent; input: BreakerInput },
  guards: {
    counts: ({ event }) => event.type === 'call.failed' && countsAgainstBreaker(event.kind),
    // Outcomes naming a probe reach a closed breaker only from a probe presumed lost: ignored.
    notFromProbe: ({ event }) => !('probeId' in event) || event.probeId === undefined,
    thresholdReached: ({ context, event }) =>
      event.type === 'call.failed' && countsAgainstBreaker(event.kind) && context.consecutiveFailures + 1 >= context.errorThreshold,
    hasFailures: ({ context }) => context.consecutiveFailures > 0,
    coolOffElapsed: ({ context, event }) => coolOffElapsed(context, event.now),
    probeLeaseExpired: ({ context, event }) =>
      context.probeStartedAt === null || event.now - context.probeStartedAt >= context.probeLeaseMs,
    isCurrentProbe,
  },
  actions: {
    countFailure: assign({ consecutiveFailures: ({ context }) => context.consecutiveFailures + 1 }),
    resetFailures: assign({ consecutiveFailures: 0 }),
    trip: assign({
      consecutiveFailures: ({ context }) => context.consecutiveFailures + 1,
      openedAt: ({ event }) => event.now,
      reason: 'threshold' satisfies (typeof OPENING_REASONS)[number],
    }),
    admitProbe: assign({
      probeStartedAt: ({ event }) => event.now,
      probeId: ({ context }) => context.probeId + 1,
      reason: 'cool_off_elapsed',
    }),
    replaceProbe: assign({
      probeStartedAt: ({ event }) => event.now,
      probeId: ({ context }) => context.probeId + 1,
      reason: 'probe_lease_expired',
    }),
    closeAfterProbe: assign({ consecutiveFailures: 0, reason: 'probe_succeeded' }),
    closeAfterAnswer: assign({ consecutiveFailures: 0, reason: 'probe_answered' }),
    reopen: assign({ openedAt: ({ event }) => event.now, reason: 'probe_failed' satisfies (typeof OPENING_REASONS)[number] }),
    releaseProbe: assign({ reason: 'probe_abandoned' }),
  },
}).createMachine({
  id: 'breaker',
  description: 'One (tenant, vendor) circuit breaker: closed until CB_ERROR_THRESHOLD failed calls in a row, open for CB_COOL_OFF_S, then one probe decides.',
  initial: 'closed',
  context: ({ input }) => ({ ...input, consecutiveFailures: 0, openedAt: null, probeStartedAt: null, probeId: 0, reason: null }),
  states: {
    closed: {
      description:
        'Calls pass. Each guarded call that fails (after its retries) with a kind that counts against the breaker adds one; a success resets the count; bad_request/not_found change nothing; late outcomes of a probe presumed lost are ignored. CB_ERROR_THRESHOLD in a row open it.',
      on: {
        'call.succeeded': { guard: and(['notFromProbe', 'hasFailures']), actions: 'resetFailures' },
        'call.failed': [
          { guard: and(['notFromProbe', 'thresholdReached']), target: 'open', actions: 'trip' },
          { guard: and(['notFromProbe', 'counts']), actions: 'countFailure' },
        ],
      },
    },
    open: {
      description:
        'Calls are refused at once with no vendor request (CIRCUIT_OPEN:<vendor>). The first call that asks once CB_COOL_OFF_S have passed since openedAt becomes the single probe. Late outcomes of calls admitted before it opened are ignored.',
      on: {
        'call.requested': { guard: 'coolOffElapsed', target: 'halfOpen', actions: 'admitProbe' },
      },
    },
    halfOpen: {
      description:
        'One probe is in flight, making a single attempt; every other call is refused. Its success (or an answer such as bad_request/not_found) closes the breaker, a counting failure reopens it for a new cool-off, an abandoned probe returns to open so the next call probes. A probe silent for probeLeaseMs is presumed lost and replaced.',
      on: {
        'call.requested': { guard: 'probeLeaseExpired', target: 'halfOpen', reenter: true, actions: 'replaceProbe' },
        'call.succeeded': { guard: 'isCurrentProbe', target: 'closed', actions: 'closeAfterProbe' },
        'call.failed': [
          { guard: and(['isCurrentProbe', 'counts']), target: 'open', actions: 'reopen' },
          { guard: 'isCurrentProbe', target: 'closed', actions: 'closeAfterAnswer' },
        ],
        'call.abandoned': { guard: 'isCurrentProbe', target: 'open', actions: 'releaseProbe' },
      },
    },
  },
});

/** The breaker's state names, as in {@link breakerMachine}. */
export type BreakerMachineState = 'closed' | 'open' | 'halfOpen';
