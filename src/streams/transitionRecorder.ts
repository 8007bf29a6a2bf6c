import { concatMap, from, map, Subject, takeUntil, type Observable } from 'rxjs';
import type { Logger } from '../domain/index.js';
import type { BreakerTransition, TenantId } from '../domain/index.js';

/** What {@link recordTransitions} records with. */
export interface TransitionRecorderDeps {
  /** Every transition of the runtime's breaker registry. */
  transitions$: Observable<BreakerTransition>;
  /** Logs and persists one transition (`Observability.recordTransition`). */
  record(transition: BreakerTransition, runId: number | null): Promise<void>;
  /**
   * Makes sure the tenant's row exists (breaker_transitions references tenants) before a transition
   * outside a run is written: `enrich()` may be called for a tenant that never had a run.
   */
  ensureTenant(tenantId: TenantId): Promise<void>;
  /** Receives a warning for a transition that could not be recorded. */
  logger: Logger;
}

/** The runtime's one subscription to its breakers' transitions. */
export interface TransitionRecorder {
  /**
   * Run `runId` of `tenantId` is under way: the tenant's transitions are recorded with its id until
   * the returned function is called (the most recent of several runs of one tenant wins).
   */
  enterRun(tenantId: TenantId, runId: number): () => void;
  /** The run id a transition of `tenantId` happening now is recorded with (null outside a run). */
  runOf(tenantId: TenantId): number | null;
  /**
   * Stops recording (later transitions are not recorded) and resolves once every transition seen
   * so far has been handed to `record`. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Records every breaker transition for as long as the runtime lives, whoever caused it (a run,
 * `enrich()`, `verify-deferred`, a restore at start-up): each is logged and persisted by `record`,
 * with the run id of its tenant's active run, or null. Transitions are written one after the
 * other, in the order they happened (a restart reads back the last one); the run id is taken when
 * the transition happens, not when it is written. A failed write is logged and does not stop the
 * recording.
 */
export function recordTransitions(deps: TransitionRecorderDeps): TransitionRecorder {
  const active = new Map<TenantId, number[]>();
  const ensured = new Set<TenantId>();
  const stop = new Subject<void>();
  let finished!: () => void;
  const drained = new Promise<void>((resolve) => (finished = resolve));

  const runOf = (tenantId: TenantId): number | null => active.get(tenantId)?.at(-1) ?? null;

  const write = async (transition: BreakerTransition, runId: number | null): Promise<void> => {
    try {
      if (runId === null && !ensured.has(transition.tenantId)) {
        await deps.ensureTenant(transition.tenantId);
        ensured.add(transition.tenantId);
      }
      await deps.record(transition, runId);
    } catch (error) {
      deps.logger.warn({ err: error, ...transition, runId }, 'breaker transition not recorded');
    }
  };

  deps.transitions$
    .pipe(
      takeUntil(stop),
      map((transition) => ({ transition, runId: runOf(transition.tenantId) })),
      concatMap(({ transition, runId }) => from(write(transition, runId))),
    )
    .subscribe({ complete: () => finished(), error: () => finished() });

  return {
    enterRun(tenantId, runId) {
      const ids = active.get(tenantId) ?? [];
      ids.push(runId);
      active.set(tenantId, ids);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const at = ids.lastIndexOf(runId);
        if (at >= 0) ids.splice(at, 1);
        if (ids.length === 0 && active.get(tenantId) === ids) active.delete(tenantId);
      };
    },
    runOf,
    close() {
      stop.next();
      stop.complete();
      return drained;
    },
  };
}
