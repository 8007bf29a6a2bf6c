import { Subject } from 'rxjs';
import { createActor, type Actor, type InspectionEvent, type SnapshotFrom } from 'xstate';
import type { BreakerConfig } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import type { ErrorKind } from '../domain/errors.js';
import type { BreakerTransition, LastBreakerTransition } from '../domain/events.js';
import type { BreakerVendor, TenantId } from '../domain/vendor.js';
import { breakerMachine, coolOffElapsed, type BreakerContext, type BreakerEvent, type BreakerInput } from '../machines/breaker.machine.js';
import { admitsWithoutEvent, failureChangesNothing, refusesWithoutEvent, successChangesNothing } from './breakerNoOps.js';
import type { BreakerInfo, BreakerRegistryView } from './guard.types.js';

/** The answer of {@link BreakerRegistry.admit}. */
export type Admission =
  | { readonly status: 'admitted' }
  | { readonly status: 'probe'; readonly probeId: number }
  | { readonly status: 'refused'; readonly retryAt: number | undefined };

/** The one admission object of closed breakers and exempt vendors (no allocation per call). */
export const ADMITTED: Admission = Object.freeze({ status: 'admitted' });

/** One breaker as persisted: `snapshot` is XState's persisted snapshot (plain JSON). */
export interface PersistedBreaker {
  tenantId: TenantId;
  vendor: BreakerVendor;
  snapshot: unknown;
}

/** Options of {@link createBreakerRegistry}. */
export interface BreakerRegistryOptions {
  /** CB_ERROR_THRESHOLD, CB_COOL_OFF_S and CB_GLOBAL_EXEMPT_VENDORS. */
  breaker: BreakerConfig;
  /** The injected clock; every event and transition is stamped with its `now()`. */
  clock: Clock;
  /** Per-attempt timeout of a probe, in milliseconds, for the probe lease. Default 15000. */
  probeTimeoutMs?: number;
  /** XState inspection of every breaker actor (e.g. @statelyai/inspect, or a test counting events). */
  inspect?: (event: InspectionEvent) => void;
}

/**
 * What the guarded call asks of the breakers: a process's own registry ({@link BreakerRegistry})
 * or the fleet's (src/streams/sharedBreakers.ts), whose admission may need the database.
 */
export interface BreakerGate extends BreakerRegistryView {
  /** Asks the (tenant, vendor) breaker whether a call may go out now. */
  admit(tenantId: TenantId, vendor: BreakerVendor): Admission | Promise<Admission>;
  recordSuccess(tenantId: TenantId, vendor: BreakerVendor, admission: Admission): void;
  recordFailure(tenantId: TenantId, vendor: BreakerVendor, kind: ErrorKind, admission: Admission): void;
  recordAbandoned(tenantId: TenantId, vendor: BreakerVendor, admission: Admission): void;
  isClosed(tenantId: TenantId, vendor: BreakerVendor): boolean;
}

/** Breakers per (tenant, vendor): admission, outcomes, listing, persistence and transitions. */
export interface BreakerRegistry extends BreakerGate {
  /** Asks the (tenant, vendor) breaker whether a call may go out now; creates it on first use. */
  admit(tenantId: TenantId, vendor: BreakerVendor): Admission;
  /** One guarded call succeeded (after its retries). A healthy closed breaker sends no event. */
  recordSuccess(tenantId: TenantId, vendor: BreakerVendor, admission: Admission): void;
  /** One guarded call failed (after its retries) with `kind`; only counting kinds move it. */
  recordFailure(tenantId: TenantId, vendor: BreakerVendor, kind: ErrorKind, admission: Admission): void;
  /** The call was cancelled by its caller: no verdict on the vendor; a probe's slot is released. */
  recordAbandoned(tenantId: TenantId, vendor: BreakerVendor, admission: Admission): void;
  /** Whether the breaker is closed right now (exempt vendors always are): a retry may go out. */
  isClosed(tenantId: TenantId, vendor: BreakerVendor): boolean;
  /** Every breaker's persisted snapshot. */
  exportSnapshots(): PersistedBreaker[];
  /**
   * Replaces breakers by persisted ones. Thresholds come from the current configuration; a
   * breaker persisted while probing comes back open (that probe belonged to the old process).
   */
  restore(breakers: readonly PersistedBreaker[]): void;
  /**
   * Brings breakers back from their last persisted transitions, at start-up: one whose last state is
   * `open` or `halfOpen` comes back `open` with `openedAt` = its last opening, so the cool-off goes on
   * from there (a `halfOpen` one — its probe belonged to the process that died — through
   * {@link restore}, which emits a `restored` transition). `closed` ones and exempt vendors are left
   * alone. Returns the breakers it restored, as listed now.
   */
  restoreFromTransitions(last: readonly LastBreakerTransition[]): BreakerInfo[];
  /** The (tenant, vendor) breaker's snapshot now, or undefined before its first use. */
  snapshotOf(tenantId: TenantId, vendor: BreakerVendor): SnapshotFrom<typeof breakerMachine> | undefined;
  /**
   * Makes the (tenant, vendor) breaker the given snapshot, as is and silently (no transition): the
   * registry then mirrors a breaker kept elsewhere (the fleet's, src/streams/sharedBreakers.ts).
   */
  mirror(tenantId: TenantId, vendor: BreakerVendor, snapshot: SnapshotFrom<typeof breakerMachine>): void;
  /**
   * Sends `event` to the (tenant, vendor) breaker (created on first use) without announcing a
   * transition: a mirror following what was decided for the fleet, step by step.
   */
  mirrorEvent(tenantId: TenantId, vendor: BreakerVendor, event: BreakerEvent): void;
  /** The thresholds every breaker of this registry is created with. */
  readonly input: BreakerInput;
}

type BreakerActor = Actor<typeof breakerMachine>;

interface Entry {
  tenantId: TenantId;
  vendor: BreakerVendor;
  actor: BreakerActor;
}

/**
 * Creates a registry of (tenant, vendor) breakers. Breaker actors are created lazily, exempt
 * vendors have none and are never refused. The state is the actor's snapshot, read where needed;
 * events that would change nothing are not sent (src/streams/breakerNoOps.ts).
 */
export function createBreakerRegistry(options: BreakerRegistryOptions): BreakerRegistry {
  const { clock } = options;
  const input: BreakerInput = {
    errorThreshold: options.breaker.errorThreshold,
    coolOffMs: options.breaker.coolOffS * 1000,
    probeLeaseMs: options.breaker.coolOffS * 1000 + (options.probeTimeoutMs ?? 15_000),
  };
  const exempt: ReadonlySet<BreakerVendor> = new Set(options.breaker.exemptVendors);
  const byTenant = new Map<TenantId, Map<BreakerVendor, Entry>>();
  const transitions = new Subject<BreakerTransition>();

  const find = (tenantId: TenantId, vendor: BreakerVendor): Entry | undefined => byTenant.get(tenantId)?.get(vendor);

  function install(tenantId: TenantId, vendor: BreakerVendor, actor: BreakerActor): Entry {
    const entry: Entry = { tenantId, vendor, actor };
    let vendors = byTenant.get(tenantId);
    if (!vendors) byTenant.set(tenantId, (vendors = new Map()));
    vendors.get(vendor)?.actor.stop();
    vendors.set(vendor, entry);
    return entry;
  }

  function send(entry: Entry, event: BreakerEvent): void {
    const before = entry.actor.getSnapshot();
    entry.actor.send(event);
    const after = entry.actor.getSnapshot();
    if (after.value !== before.value || after.context.probeId !== before.context.probeId) {
      transitions.next({ tenantId: entry.tenantId, vendor: entry.vendor, from: before.value, to: after.value, at: event.now, reason: after.context.reason ?? 'unknown' });
    }
  }

  // "As of now": an open breaker whose cool-off has elapsed admits a probe, i.e. is half-open.
  const infoOf = (e: Entry, now: number): BreakerInfo => {
    const { value, context } = e.actor.getSnapshot();
    return {
      tenantId: e.tenantId,
      vendor: e.vendor,
      state: value === 'open' && coolOffElapsed(context, now) ? 'halfOpen' : value,
      consecutiveFailures: context.consecutiveFailures,
      openedAt: context.openedAt,
    };
  };

  const probeOf = (admission: Admission): number | undefined => (admission.status === 'probe' ? admission.probeId : undefined);

  function restore(breakers: readonly PersistedBreaker[]): void {
    for (const { tenantId, vendor, snapshot } of breakers) {
      const persisted = snapshot as SnapshotFrom<typeof breakerMachine>;
      const probing = persisted.value === 'halfOpen';
      const patched = {
        ...persisted,
        value: probing ? 'open' : persisted.value,
        context: { ...persisted.context, ...input, ...(probing ? { reason: 'restored' } : {}) },
      };
      install(tenantId, vendor, createActor(breakerMachine, { snapshot: patched as never, input, inspect: options.inspect }).start());
      if (probing) transitions.next({ tenantId, vendor, from: 'halfOpen', to: 'open', at: clock.now(), reason: 'restored' });
    }
  }

  /** The persisted snapshot of a breaker in `state` since its last opening at `openedAt`. */
  function snapshotOf(last: LastBreakerTransition): unknown {
    const context: BreakerContext = {
      ...input,
      consecutiveFailures: input.errorThreshold,
      openedAt: last.openedAt ?? last.at,
      probeStartedAt: last.state === 'halfOpen' ? last.at : null,
      probeId: 0,
      reason: 'restored',
    };
    return breakerMachine.getPersistedSnapshot(breakerMachine.resolveState({ value: last.state, context }));
  }

  return {
    transitions$: transitions.asObservable(),
    input,

    snapshotOf(tenantId, vendor) {
      return find(tenantId, vendor)?.actor.getSnapshot();
    },

    mirrorEvent(tenantId, vendor, event) {
      (find(tenantId, vendor) ?? install(tenantId, vendor, createActor(breakerMachine, { input, inspect: options.inspect }).start())).actor.send(event);
    },

    mirror(tenantId, vendor, snapshot) {
      const persisted = breakerMachine.getPersistedSnapshot(snapshot);
      install(tenantId, vendor, createActor(breakerMachine, { snapshot: persisted as never, input, inspect: options.inspect }).start());
    },

    admit(tenantId, vendor) {
      if (exempt.has(vendor)) return ADMITTED;
      const entry = find(tenantId, vendor) ?? install(tenantId, vendor, createActor(breakerMachine, { input, inspect: options.inspect }).start());
      const snapshot = entry.actor.getSnapshot();
      if (admitsWithoutEvent(snapshot)) return ADMITTED;
      const now = clock.now();
      const { context } = snapshot;
      if (refusesWithoutEvent(snapshot, now)) return { status: 'refused', retryAt: (context.openedAt ?? now) + context.coolOffMs };
      send(entry, { type: 'call.requested', now });
      const after = entry.actor.getSnapshot();
      if (after.context.probeId !== context.probeId) return { status: 'probe', probeId: after.context.probeId };
      return { status: 'refused', retryAt: after.value === 'open' ? (after.context.openedAt ?? now) + after.context.coolOffMs : undefined };
    },

    recordSuccess(tenantId, vendor, admission) {
      const entry = find(tenantId, vendor);
      if (!entry || successChangesNothing(entry.actor.getSnapshot(), admission.status === 'probe')) return;
      send(entry, { type: 'call.succeeded', now: clock.now(), probeId: probeOf(admission) });
    },

    recordFailure(tenantId, vendor, kind, admission) {
      const entry = find(tenantId, vendor);
      if (!entry || failureChangesNothing(entry.actor.getSnapshot(), kind)) return;
      send(entry, { type: 'call.failed', now: clock.now(), kind, probeId: probeOf(admission) });
    },

    recordAbandoned(tenantId, vendor, admission) {
      const entry = find(tenantId, vendor);
      if (entry && admission.status === 'probe') send(entry, { type: 'call.abandoned', now: clock.now(), probeId: admission.probeId });
    },

    isClosed(tenantId, vendor) {
      return exempt.has(vendor) || (find(tenantId, vendor)?.actor.getSnapshot().value ?? 'closed') === 'closed';
    },

    list() {
      const now = clock.now();
      const out: BreakerInfo[] = [];
      for (const vendors of byTenant.values()) {
        for (const e of vendors.values()) out.push(infoOf(e, now));
      }
      return out;
    },

    exportSnapshots() {
      const out: PersistedBreaker[] = [];
      for (const vendors of byTenant.values()) {
        for (const e of vendors.values()) out.push({ tenantId: e.tenantId, vendor: e.vendor, snapshot: structuredClone(e.actor.getPersistedSnapshot()) });
      }
      return out;
    },

    restore,

    restoreFromTransitions(last) {
      const now = clock.now();
      const restored: PersistedBreaker[] = [];
      for (const l of last) {
        if (l.state === 'closed' || exempt.has(l.vendor)) continue;
        restored.push({ tenantId: l.tenantId, vendor: l.vendor, snapshot: snapshotOf(l) });
      }
      restore(restored);
      return restored.map(({ tenantId, vendor }) => infoOf(find(tenantId, vendor) as Entry, now));
    },
  };
}
