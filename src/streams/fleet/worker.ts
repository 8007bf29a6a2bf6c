import { setMaxListeners } from 'node:events';
import type { ExportStatus, FleetMember, FleetRegistry, Logger, Sleep, TenantId, WorkQueue } from '../../domain/index.js';
import type { TransitionRecorder } from '../transitionRecorder.js';
import { runMember, type MemberDeps } from './member.js';

/**
 * `lead-enrich worker` (DESIGN.md "Scale-out"): a member of the fleet that works the jobs of every
 * run and tenant until it is stopped or, with `untilIdle`, until no job of any run is waiting,
 * active or due. It says it is alive in fleet_workers every few seconds; while it works a run's
 * companies, the breaker transitions of that run's tenant are recorded with the run's id.
 */

/** What a worker needs besides a member's deps. */
export interface WorkerDeps {
  member: (work: WorkQueue) => MemberDeps;
  work: () => Promise<WorkQueue>;
  fleet: FleetRegistry;
  transitions: Pick<TransitionRecorder, 'enterRun'>;
  sleep: Sleep;
  logger: Logger;
  /** This member's identity in fleet_workers. */
  identity: { workerId: string; host: string; pid: number };
  pollMs: number;
  exportChunk: number;
  completeEveryMs: number;
  /** SHUTDOWN_GRACE_MS: after a drain is asked, jobs in flight get this long before they are aborted. */
  graceMs: number;
  /** Milliseconds between heartbeats. Default 5000. */
  heartbeatMs?: number;
}

/** Options of {@link startWorker}. */
export interface WorkOptions {
  concurrency: number;
  /** Exit once no job of any run is waiting, active or due for a retry. */
  untilIdle?: boolean;
  onCompany?: (done: { runId: number; companyId: number; degraded: boolean }) => void;
  onExport?: (done: { runId: number; status: ExportStatus }) => void;
  onFinalised?: (runId: number) => void;
}

/** A working worker. */
export interface WorkHandle {
  /** Resolves with the number of jobs done once the worker stopped; rejects when the database did. */
  readonly done: Promise<{ jobs: number }>;
  /** Drain: no new job is taken; jobs in flight get the grace, then are aborted. With `now`, aborted at once. */
  stop(options?: { now?: boolean }): void;
  /** Jobs in flight now. */
  readonly inFlight: number;
}

/** Starts a worker. */
export function startWorker(deps: WorkerDeps, options: WorkOptions): WorkHandle {
  const stopIntake = new AbortController();
  const abort = new AbortController();
  const beating = new AbortController();
  setMaxListeners(0, abort.signal);
  let inFlight = 0;
  let doneJobs = 0;
  const runsEntered = new Map<number, () => void>();
  const member = (): FleetMember => ({ ...deps.identity, kind: 'worker', runId: null, concurrency: options.concurrency, inFlight, done: doneJobs });

  const heartbeat = async (): Promise<void> => {
    while (!beating.signal.aborted) {
      await deps.fleet.heartbeat(member()).catch((error: unknown) => deps.logger.warn({ err: error }, 'heartbeat not recorded; tried again'));
      await deps.sleep(deps.heartbeatMs ?? 5000, beating.signal).catch(() => undefined);
    }
  };

  const done = (async () => {
    const work = await deps.work();
    void heartbeat();
    deps.logger.info({ workerId: deps.identity.workerId, concurrency: options.concurrency, untilIdle: options.untilIdle === true }, 'worker started');
    const memberDeps = deps.member(work);
    // The breaker transitions of a tenant whose run's companies this worker is doing carry that run's id.
    const companyOf = (job: { runId: number; tenantId: TenantId }): void => {
      if (!runsEntered.has(job.runId)) runsEntered.set(job.runId, deps.transitions.enterRun(job.tenantId, job.runId));
    };
    try {
      const jobs = await runMember(
        memberDeps,
        {
          scope: { kind: 'any', untilIdle: options.untilIdle === true },
          concurrency: options.concurrency,
          pollMs: deps.pollMs,
          exportChunk: deps.exportChunk,
          completeEveryMs: deps.completeEveryMs,
          stopIntake: stopIntake.signal,
          abort: abort.signal,
          onJob: companyOf,
          onCompany: (c) => options.onCompany?.(c),
          onExport: (e) => options.onExport?.(e),
          onFinalised: (runId) => {
            runsEntered.get(runId)?.();
            runsEntered.delete(runId);
            options.onFinalised?.(runId);
          },
          onLoad: (n, d) => {
            inFlight = n;
            doneJobs = d;
          },
        },
      );
      deps.logger.info({ jobs }, 'worker stopped');
      return { jobs };
    } finally {
      beating.abort();
      for (const leave of runsEntered.values()) leave();
      await deps.fleet.leave(deps.identity.workerId).catch(() => undefined);
    }
  })();

  return {
    done,
    stop: (opts = {}) => {
      stopIntake.abort();
      if (opts.now) {
        abort.abort(new Error('worker aborted'));
        return;
      }
      // After the grace, what is still in flight is aborted and its jobs go back to the queue.
      void deps.sleep(deps.graceMs, beating.signal).then(
        () => abort.abort(new Error('shutdown grace over')),
        () => undefined,
      );
    },
    get inFlight() {
      return inFlight;
    },
  };
}
