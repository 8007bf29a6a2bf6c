import { merge, Subject } from 'rxjs';
import type { BreakerStateListener, BreakerStateStore, BreakerTransition, BreakerVendor, Clock, LastBreakerTransition, Logger, SharedBreakerFields, SharedBreakerState, TenantId } from '../domain/index.js';
import { coolOffElapsed, type BreakerEvent } from '../machines/breaker.machine.js';
import { rowOfSnapshot, snapshotOfRow, stepRow, type RowStep } from '../machines/breaker.shared.js';
import { failureChangesNothing, successChangesNothing } from './breakerNoOps.js';
import { ADMITTED, type Admission, type BreakerGate, type BreakerRegistry } from './breakerRegistry.js';
import type { BreakerInfo } from './guard.types.js';

/** What {@link createSharedBreakers} needs. */
export interface SharedBreakersDeps {
  /** This process's registry, which becomes the mirror of the fleet's breakers. */
  local: BreakerRegistry;
  /** The fleet's breaker_state. */
  store: BreakerStateStore;
  /** This process, as a probe's owner. */
  owner: string;
  clock: Clock;
  /** CB_GLOBAL_EXEMPT_VENDORS: never refused, never written. */
  exempt: readonly BreakerVendor[];
  logger: Logger;
}

/** The fleet's breakers, as one process sees and drives them. */
export interface SharedBreakers extends BreakerGate {
  /**
   * Listens for the fleet's writes and mirrors every row; resolves with the rows that are not
   * closed. Never rejects (a database down is a warning; the mirrors then start closed).
   */
  start(): Promise<SharedBreakerState[]>;
  /**
   * At start-up, for breakers the fleet has no row of yet (a database from before breaker_state):
   * brings them back from their last transitions, as a single process did
   * ({@link BreakerRegistry.restoreFromTransitions}).
   */
  restoreFromTransitions(last: readonly LastBreakerTransition[]): BreakerInfo[];
  /** Waits for the writes under way, then stops listening. */
  close(): Promise<void>;
}

/**
 * One (tenant, vendor) breaker for the whole fleet (DESIGN.md "Scale-out", issue 13), driven by the
 * breaker machine. The local registry mirrors the shared rows, so a closed breaker admits with no
 * database round trip, and so does an open one still cooling off or a half-open one whose probe's
 * lease runs; a failure that counts, a success that resets a count, a probe's admission and its
 * outcome are applied to the row by the machine under the row's lock ({@link stepRow}), one at a
 * time per breaker in this process. A write reaches every mirror through the store's
 * notifications; the transitions this process's writes make are its `transitions$`, recorded once.
 * When the database cannot be reached, the local registry decides alone (a warning), as a single
 * process does, until it can again.
 */
export function createSharedBreakers(deps: SharedBreakersDeps): SharedBreakers {
  const { local, store, owner, clock, logger } = deps;
  const exempt: ReadonlySet<BreakerVendor> = new Set(deps.exempt);
  const generations = new Map<string, number>();
  const chains = new Map<string, Promise<unknown>>();
  const pending = new Set<Promise<unknown>>();
  const own = new Subject<BreakerTransition>();
  /** Admissions the local registry gave while the database was out: their outcomes stay local. */
  const localAdmissions = new WeakSet<Admission>();
  let listener: BreakerStateListener | null = null;
  let closing = false;

  const keyOf = (tenantId: TenantId, vendor: BreakerVendor): string => `${tenantId}\u0000${vendor}`;

  /** Whether the mirror of the row's breaker is in the row's state already. */
  function mirrors(row: SharedBreakerFields & { tenantId: TenantId; vendor: BreakerVendor }): boolean {
    const snapshot = local.snapshotOf(row.tenantId, row.vendor);
    if (!snapshot) return false;
    const m = rowOfSnapshot(snapshot, null, null);
    return m.state === row.state && m.consecutiveFailures === row.consecutiveFailures && m.openedAt === row.openedAt &&
      m.probeId === row.probeId && m.probeStartedAt === row.probeStartedAt && m.reason === row.reason;
  }

  /**
   * Mirrors a row, unless this process has seen a newer one. A breaker this process has not used
   * yet is not created for a row that says what a new breaker says (closed, no failures).
   */
  function install(row: SharedBreakerState): void {
    const key = keyOf(row.tenantId, row.vendor);
    if ((generations.get(key) ?? -1) >= row.generation) return;
    generations.set(key, row.generation);
    if (mirrors(row)) return;
    if (!local.snapshotOf(row.tenantId, row.vendor) && row.state === 'closed' && row.consecutiveFailures === 0) return;
    local.mirror(row.tenantId, row.vendor, snapshotOfRow(local.input, row));
  }

  const CLOSED: SharedBreakerFields = { state: 'closed', consecutiveFailures: 0, openedAt: null, probeId: 0, probeStartedAt: null, probeOwner: null, probeLeaseUntil: null, reason: null };
  const closedSnapshot = (): ReturnType<typeof snapshotOfRow> => snapshotOfRow(local.input, CLOSED);
  const initialOf = (tenantId: TenantId, vendor: BreakerVendor): SharedBreakerFields => {
    const snapshot = local.snapshotOf(tenantId, vendor);
    return snapshot ? rowOfSnapshot(snapshot, null, null) : CLOSED;
  };

  function track<T>(promise: Promise<T>): Promise<T> {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** Applies `event` to the shared row, after this process's earlier writes to it. */
  function apply(tenantId: TenantId, vendor: BreakerVendor, event: BreakerEvent): Promise<RowStep | null> {
    const key = keyOf(tenantId, vendor);
    const run = async (): Promise<RowStep | null> => {
      let step: RowStep | null = null;
      let followed = false;
      const result = await store.update(tenantId, vendor, initialOf(tenantId, vendor), (row) => {
        step = stepRow(local.input, row, event, owner);
        followed = mirrors(row);
        return step?.fields ?? null;
      });
      const made = result.wrote ? (step as RowStep | null) : null;
      // A mirror that was up to date takes the same event (the same machine makes the same step,
      // and an inspector sees it); any other is replaced by the row.
      if (made && followed) {
        local.mirrorEvent(tenantId, vendor, event);
        if (!mirrors(result.state)) generations.delete(key);
      }
      install(result.state);
      if (made?.transition) own.next({ tenantId, vendor, ...made.transition, at: event.now });
      return made;
    };
    const next = (chains.get(key) ?? Promise.resolve()).then(run, run);
    const settled = next.catch(() => undefined);
    chains.set(key, settled);
    void settled.then(() => chains.get(key) === settled && chains.delete(key));
    return track(next);
  }

  const unreachable = (error: unknown, what: string, tenantId: TenantId, vendor: BreakerVendor): void =>
    logger.warn({ err: error, tenantId, vendor }, `shared breaker not reached (${what}): this process decides alone`);

  /** An outcome to write, or — when the database is out — to give to the local registry. */
  function report(tenantId: TenantId, vendor: BreakerVendor, event: BreakerEvent, fallback: () => void): void {
    if (closing) return fallback();
    apply(tenantId, vendor, event).catch((error: unknown) => {
      unreachable(error, event.type, tenantId, vendor);
      fallback();
    });
  }

  const probeOf = (admission: Admission): number | undefined => (admission.status === 'probe' ? admission.probeId : undefined);

  /** The admission the mirror gives after the row was read: closed admits, anything else refuses. */
  function fromMirror(tenantId: TenantId, vendor: BreakerVendor, now: number): Admission {
    const snapshot = local.snapshotOf(tenantId, vendor);
    if (!snapshot || snapshot.value === 'closed') return ADMITTED;
    const { context } = snapshot;
    return { status: 'refused', retryAt: snapshot.value === 'open' ? (context.openedAt ?? now) + context.coolOffMs : undefined };
  }

  async function askFleet(tenantId: TenantId, vendor: BreakerVendor, now: number): Promise<Admission> {
    try {
      const step = await apply(tenantId, vendor, { type: 'call.requested', now });
      if (step?.probeId != null) return { status: 'probe', probeId: step.probeId };
      return fromMirror(tenantId, vendor, now);
    } catch (error) {
      unreachable(error, 'admission', tenantId, vendor);
      const admission = local.admit(tenantId, vendor);
      if (admission !== ADMITTED) localAdmissions.add(admission);
      return admission;
    }
  }

  async function resync(): Promise<SharedBreakerState[]> {
    try {
      const rows = await store.all();
      for (const row of rows) install(row);
      return rows;
    } catch (error) {
      logger.warn({ err: error }, 'shared breakers not read: mirrors kept as they are');
      return [];
    }
  }

  return {
    transitions$: merge(local.transitions$, own),
    list: () => local.list(),
    isClosed: (tenantId, vendor) => exempt.has(vendor) || local.isClosed(tenantId, vendor),

    admit(tenantId, vendor) {
      if (exempt.has(vendor)) return ADMITTED;
      const snapshot = local.snapshotOf(tenantId, vendor);
      // First use: the mirror is created closed, as the fleet's row is while this process has none.
      if (!snapshot) return local.admit(tenantId, vendor);
      if (snapshot.value === 'closed') return ADMITTED;
      const now = clock.now();
      const { context } = snapshot;
      if (snapshot.value === 'open' && !coolOffElapsed(context, now)) return { status: 'refused', retryAt: (context.openedAt ?? now) + context.coolOffMs };
      if (snapshot.value === 'halfOpen' && context.probeStartedAt !== null && now - context.probeStartedAt < context.probeLeaseMs) return { status: 'refused', retryAt: undefined };
      return askFleet(tenantId, vendor, now);
    },

    recordSuccess(tenantId, vendor, admission) {
      if (exempt.has(vendor)) return;
      if (localAdmissions.has(admission)) return local.recordSuccess(tenantId, vendor, admission);
      // Outcomes of calls that were not probes move a closed breaker only.
      if (admission.status !== 'probe') {
        const snapshot = local.snapshotOf(tenantId, vendor) ?? closedSnapshot();
        if (snapshot.value !== 'closed' || successChangesNothing(snapshot, false)) return;
      }
      report(tenantId, vendor, { type: 'call.succeeded', now: clock.now(), probeId: probeOf(admission) }, () => local.recordSuccess(tenantId, vendor, admission));
    },

    recordFailure(tenantId, vendor, kind, admission) {
      if (exempt.has(vendor)) return;
      if (localAdmissions.has(admission)) return local.recordFailure(tenantId, vendor, kind, admission);
      if (admission.status !== 'probe') {
        const snapshot = local.snapshotOf(tenantId, vendor) ?? closedSnapshot();
        if (snapshot.value !== 'closed' || failureChangesNothing(snapshot, kind)) return;
      }
      report(tenantId, vendor, { type: 'call.failed', now: clock.now(), kind, probeId: probeOf(admission) }, () => local.recordFailure(tenantId, vendor, kind, admission));
    },

    recordAbandoned(tenantId, vendor, admission) {
      if (exempt.has(vendor) || admission.status !== 'probe') return;
      if (localAdmissions.has(admission)) return local.recordAbandoned(tenantId, vendor, admission);
      report(tenantId, vendor, { type: 'call.abandoned', now: clock.now(), probeId: admission.probeId }, () => local.recordAbandoned(tenantId, vendor, admission));
    },

    async start() {
      listener = await store.listen(install, () => void resync());
      return (await resync()).filter((row) => row.state !== 'closed' && !exempt.has(row.vendor));
    },

    restoreFromTransitions(last) {
      return local.restoreFromTransitions(last.filter((l) => !generations.has(keyOf(l.tenantId, l.vendor))));
    },

    async close() {
      closing = true;
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await listener?.close();
      own.complete();
    },
  };
}
