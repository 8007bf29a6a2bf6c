import { setMaxListeners } from 'node:events';
import { createActor, fromCallback, fromPromise, type InspectionEvent } from 'xstate';
import type { Config } from '../../config/config.js';
import {
  isRunRequestError,
  logContext,
  type Clock,
  type Company,
  type ExportStatus,
  type HeldLock,
  type InputFormat,
  type InputOpener,
  type Locks,
  type Logger,
  type MalformedRow,
  type RunParams,
  type RunQueue,
  type RunRow,
  type RunStore,
  type Sleep,
  type WorkQueue,
} from '../../domain/index.js';
import { runMachine, type PhaseCommand, type PhaseInput, type RunMachineOutput } from '../../machines/run.machine.js';
import type { EnrichmentPorts } from '../enrichCompany.js';
import type { GuardedCaller } from '../guard.types.js';
import type { Observability } from '../observability.js';
import type { OdooExportDeps } from '../odoo/odooExport.js';
import type { Sink } from '../sink.js';
import type { TransitionRecorder } from '../transitionRecorder.js';
import { runMember, type MemberDeps } from '../fleet/member.js';
import type { AnswerReuse } from '../answers.js';
import type { RunBudgets } from './budget.js';
import { startRunRow, type RunSource, type StartedRun } from './runStart.js';

/** Everything a run is composed of (built once per runtime by the composition root). */
export interface RunJobDeps {
  config: Config;
  clock: Clock;
  sink: Sink;
  obs: Observability;
  store: RunStore;
  queue: RunQueue;
  locks: Locks;
  inputs: InputOpener;
  /** The run's guarded caller (breakers shared across the runtime). */
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  odoo: Omit<OdooExportDeps, 'guard'>;
  logger: Logger;
  /** The runtime's transition recorder: the run's tenant's breaker transitions carry its run id while it lasts. */
  transitions: Pick<TransitionRecorder, 'enterRun'>;
  /** The fleet's work queue (started on first use: a runtime that only enriches never starts it). */
  work: () => Promise<WorkQueue>;
  /** Waits between looks at the queue and between progress readings. */
  sleep: Sleep;
  inspect?: (event: InspectionEvent) => void;
  /** The runs' budgets (RUN_BUDGET_USD), shared by every run and worker of the runtime. Default none. */
  budgets?: RunBudgets;
  /** Stored paid answers (VENDOR_ANSWER_TTL_DAYS). Default none. */
  answers?: AnswerReuse;
}

/** What a fleet member needs, from what a run is composed of. */
export function memberDepsOf(deps: RunJobDeps, work: WorkQueue, logger: Logger): MemberDeps {
  return {
    config: deps.config,
    clock: deps.clock,
    obs: deps.obs,
    guard: deps.guard,
    ports: deps.ports,
    logger,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
    ...(deps.budgets ? { budgets: deps.budgets } : {}),
    ...(deps.answers ? { answers: deps.answers } : {}),
    work,
    store: deps.store,
    runQueue: deps.queue,
    sink: deps.sink,
    exportDeps: { config: deps.config, obs: deps.obs, locks: deps.locks, odoo: { ...deps.odoo, guard: deps.guard, logger } },
    sleep: deps.sleep,
  };
}

/** Milliseconds between readings of a run's progress from the database (what every worker did). */
const PROGRESS_EVERY_MS = 1000;

/** Live progress of a run. */
export interface RunProgress {
  runId: number | null;
  /** The run's tenant, once known (a resume learns it from the run's row). */
  tenantId: number | null;
  phase: 'starting' | 'enriching' | 'exporting' | 'finalising' | 'done';
  /** A resumed run's status before it was resumed (`completed`: nothing is left to do); null for a new run. */
  previousStatus: RunRow['status'] | null;
  /** Companies in the run's input (known once the input is recorded). */
  total: number | null;
  /** Companies with a result row, this session and earlier ones (resume). */
  done: number;
  degraded: number;
  exported: Partial<Record<ExportStatus, number>>;
  /** Input rows skipped as malformed, this session. */
  malformed: number;
}

/**
 * What to run: a new run of `tenantId` — its companies given, read from an input, or the tenant's
 * companies already stored (never enriched, or with `staleDays` not enriched for that long) — or
 * `resumeRunId`.
 */
export interface RunRequest {
  tenantId?: number;
  /** A new run's companies, streamed into run_companies before enrichment starts. */
  companies?: AsyncIterable<Company> | Iterable<Company>;
  /** A new run's input: a file, a named pipe or `-` (standard input), opened once. */
  input?: { path: string; format?: InputFormat | null };
  /** A new run of the tenant's stored companies: those never enriched, plus with `staleDays` those not enriched for that many days. */
  stored?: { staleDays?: number | null };
  /**
   * Resume this run: only companies without a row are enriched, only unexported ones exported; it
   * keeps its own dry-run and concurrency. Give `companies` or `input` only for a run stopped while
   * its input was being recorded, whose input cannot be read again.
   */
  resumeRunId?: number;
  /** Companies enriched at once; default the resumed run's, else RUN_CONCURRENCY. */
  concurrency?: number;
  /** A new run only: write nothing to Odoo, record what would be written. */
  dryRun?: boolean;
  /** More parameters recorded on a new run's row (enrichment_runs.params). */
  params?: RunParams;
  /**
   * Record the input and queue one job per company, then stop: the run is left `running` for the
   * fleet's workers (`lead-enrich run --enqueue-only`). `done` resolves with status `interrupted`
   * and `enqueued: true`.
   */
  enqueueOnly?: boolean;
  /** Called whenever progress changes (cheap; throttle in the caller). */
  onProgress?: (progress: RunProgress) => void;
  /** Every malformed input row, which is skipped (and counted in the run's params.malformedRows). */
  onMalformedRow?: (row: MalformedRow, input: string) => void;
}

/** How a run ended. */
export interface RunResult extends RunMachineOutput {
  /**
   * The run could not start as asked and nothing was written (a run to resume that does not exist,
   * an input that cannot be read at all, a resume whose input cannot be read again): status
   * `failed`, `error` says why. The CLI exits 2.
   */
  refused: boolean;
  /** `enqueueOnly`: the run was recorded and queued, and is left `running` for the fleet. */
  enqueued: boolean;
}

/** A started run. */
export interface RunHandle {
  /** Resolves when the run machine reaches a final state. */
  readonly done: Promise<RunResult>;
  /**
   * Stops the run: intake stops, companies in flight get SHUTDOWN_GRACE_MS to finish, everything is
   * flushed and the run is recorded interrupted. With `now`, in-flight work is aborted at once (no
   * grace): a second Ctrl-C.
   */
  interrupt(options?: { now?: boolean }): void;
  readonly progress: RunProgress;
}

function sourceOf(request: RunRequest): RunSource | undefined {
  if (request.companies) return { kind: 'companies', companies: request.companies };
  if (request.input) return { kind: 'input', path: request.input.path, format: request.input.format ?? null };
  if (request.stored) return { kind: 'stored', staleDays: request.stored.staleDays ?? null };
  return undefined;
}

/**
 * Runs one tenant's batch on the run-lifecycle machine: record the input, enrich every company
 * (pulled at `concurrency`), export to Odoo, finalise (stage percentiles, degraded flag, counts,
 * status). Resumable: the input is recorded before enrichment, every result is keyed by (run, company).
 */
export function startRun(deps: RunJobDeps, request: RunRequest): RunHandle {
  const progress: RunProgress = { runId: null, tenantId: request.tenantId ?? null, phase: 'starting', previousStatus: null, total: null, done: 0, degraded: 0, exported: {}, malformed: 0 };
  const changed = (): void => request.onProgress?.(progress);
  let runLogger = deps.logger.child(logContext({ tenantId: request.tenantId }));
  let lock: HeldLock | null = null;
  let started: StartedRun | null = null;
  let requestError: unknown = null;
  // `enqueueOnly`: the input is recorded and queued, and the run left to the fleet.
  let enqueuedOnly = false;
  // An interrupt stops the input's recording too (a large input, or a FIFO without a writer, would otherwise be waited for).
  const intake = new AbortController();
  // Fires when the run lock is lost to another process: the phases abort their work at once.
  const lockLost = new AbortController();
  let leaveRun: (() => void) | null = null;
  const onMalformed = (row: MalformedRow): void => {
    progress.malformed += 1;
    request.onMalformedRow?.(row, request.input?.path ?? 'input');
  };

  const lockRun = async (runId: number): Promise<void> => {
    lock = await deps.locks.tryRun(runId);
    if (!lock) throw new Error(`run ${runId} is being processed by another process; nothing was changed`);
    lock.lost.addEventListener(
      'abort',
      () => {
        // Its connection dropped and another process took the run meanwhile (a `run --resume`): the
        // run is that process's now. Stop at once — companies in flight get no row, so it does them.
        runLogger.error({ runId }, 'the run lock was lost to another process; stopping this one at once');
        intake.abort();
        actor.send({ type: 'run.interrupt.requested' });
        lockLost.abort();
      },
      { once: true },
    );
  };

  const recordInput = async (run: StartedRun, work: WorkQueue): Promise<void> => {
    try {
      if (run.companies) {
        // Duplicates are found as their batch is recorded, and reported as the reader's malformed
        // rows are; each batch's jobs are queued once it is recorded, so workers start at once.
        await deps.store.recordRunInputs(run.runId, run.companies, {
          signal: intake.signal,
          onRefused: onMalformed,
          onRecorded: (ids) => work.enqueueCompanies(run.runId, run.tenantId, ids),
        });
        // Interrupted while recording: not marked, so a resume records the input again.
        if (!intake.signal.aborted) await deps.store.markInputRecorded(run.runId);
        if (progress.malformed > 0) await deps.store.addMalformedRows(run.runId, progress.malformed);
      }
      if (run.previousStatus !== null) await requeue(run, work);
      Object.assign(progress, await deps.store.countProgress(run.runId));
    } catch (error) {
      // The row exists: it must not stay `running` for ever. The error carries the run id so
      // that the machine's output (and the CLI) can name the run.
      runLogger.error({ err: error }, 'run input could not be recorded; run failed');
      await deps.store.markRun(run.runId, 'failed').catch(() => undefined);
      throw Object.assign(error instanceof Error ? error : new Error(String(error)), { runId: run.runId });
    } finally {
      run.input?.close();
    }
  };

  /**
   * A resume: the process that ran the run is gone (this one holds its lock), so the jobs it held
   * come back at once instead of at the end of their leases; every company without a result has a
   * job (one whose batch was recorded just before a crash may have none); an exporting run has an
   * export job.
   */
  const requeue = async (run: StartedRun, work: WorkQueue): Promise<void> => {
    const reclaimed = await work.reclaim(run.runId);
    if (reclaimed > 0) runLogger.info({ reclaimed }, 'jobs left under way by the stopped run handed back to the queue');
    for await (const ids of deps.queue.pendingIds(run.runId)) await work.enqueueCompanies(run.runId, run.tenantId, ids);
    if ((await deps.store.getRun(run.runId))?.phase === 'exporting') await work.ensureExport(run.runId, run.tenantId);
  };

  /** Reads the run's progress from the database (every worker's companies) until `signal` fires. */
  const followProgress = async (runId: number, signal: AbortSignal): Promise<void> => {
    while (!signal.aborted) {
      await deps.sleep(PROGRESS_EVERY_MS, signal).catch(() => undefined);
      if (signal.aborted) return;
      try {
        const counted = await deps.store.countProgress(runId);
        progress.total = counted.total;
        progress.done = Math.max(progress.done, counted.done);
        progress.degraded = Math.max(progress.degraded, counted.degraded);
        changed();
      } catch {
        // Progress is for display; the next reading tries again.
      }
    }
  };

  const machine = runMachine.provide({
    actors: {
      startRun: fromPromise<{ runId: number | null; tenantId: number | null }, { tenantId: number | null; resumeRunId: number | null }>(async () => {
        const source = sourceOf(request);
        let run: StartedRun | null;
        try {
          run = await startRunRow(
            { store: deps.store, inputs: deps.inputs, runBudgetUsd: deps.config.quotas.runBudgetUsd },
            {
              ...(request.tenantId !== undefined ? { tenantId: request.tenantId } : {}),
              ...(request.resumeRunId !== undefined ? { resumeRunId: request.resumeRunId } : {}),
              ...(source ? { source } : {}),
              dryRun: request.dryRun ?? false,
              concurrency: request.concurrency ?? (request.resumeRunId === undefined ? deps.config.runConcurrency : undefined),
              params: request.params ?? {},
              onMalformed,
            },
            intake.signal,
          );
        } catch (error) {
          requestError = error;
          throw error;
        }
        if (run === null) return { runId: null, tenantId: request.tenantId ?? null }; // stopped before anything was created
        started = run;
        Object.assign(progress, { runId: run.runId, tenantId: run.tenantId, previousStatus: run.previousStatus });
        try {
          await lockRun(run.runId);
        } catch (error) {
          run.input?.close();
          throw error;
        }
        if (run.previousStatus !== null) await deps.store.markRun(run.runId, 'running');
        leaveRun = deps.transitions.enterRun(run.tenantId, run.runId);
        runLogger = deps.logger.child(logContext({ runId: run.runId, tenantId: run.tenantId }));
        runLogger.info({ resumed: run.previousStatus !== null }, run.previousStatus !== null ? 'run resumed' : 'run started');
        changed();
        let work: WorkQueue;
        try {
          work = await deps.work();
          await work.openRun(run.runId);
        } catch (error) {
          run.input?.close();
          throw error;
        }
        await recordInput(run, work);
        changed();
        if (request.enqueueOnly) {
          intake.abort();
          actor.send({ type: 'run.interrupt.requested' });
          enqueuedOnly = true;
        }
        return { runId: run.runId, tenantId: run.tenantId };
      }),
      enrich: fromCallback<PhaseCommand, PhaseInput>(({ input, sendBack, receive }) => {
        const stopIntake = new AbortController();
        const abort = new AbortController();
        const following = new AbortController();
        // Every company in flight listens to it: not a leak, so no MaxListenersExceededWarning above 10.
        setMaxListeners(0, abort.signal);
        receive((command) => (command.type === 'run.drain' ? stopIntake.abort() : abort.abort(new Error('run aborted'))));
        const onLockLost = (): void => abort.abort(new Error('run lock lost'));
        lockLost.signal.addEventListener('abort', onLockLost, { once: true });
        const concurrency = (started as StartedRun | null)?.concurrency ?? deps.config.runConcurrency;
        progress.phase = 'enriching';
        changed();
        runLogger.info({ concurrency }, 'enriching');
        void followProgress(input.runId, following.signal);
        deps
          .work()
          .then((work) =>
            // One member of the fleet, working this run's companies until its enrichment is over
            // (whoever sees the last company done queues the export).
            runMember(memberDepsOf(deps, work, runLogger), {
              scope: { kind: 'enrich', runId: input.runId },
              concurrency,
              pollMs: deps.config.fleet.pollMs,
              exportChunk: deps.config.fleet.exportChunk,
              completeEveryMs: deps.config.sink.flushMs,
              stopIntake: stopIntake.signal,
              abort: abort.signal,
              onCompany: (c) => {
                progress.done += 1;
                if (c.degraded) progress.degraded += 1;
                changed();
              },
            }),
          )
          .then(
            async (processed) => {
              following.abort();
              Object.assign(progress, await deps.store.countProgress(input.runId).catch(() => ({})));
              sendBack({ type: 'run.enrich.completed', processed });
            },
            (error: unknown) => {
              following.abort();
              sendBack({ type: 'run.fatal', error: error instanceof Error ? error.message : String(error) });
            },
          );
        return () => {
          following.abort();
          lockLost.signal.removeEventListener('abort', onLockLost);
          abort.abort(new Error('run phase stopped'));
        };
      }),
      export: fromCallback<PhaseCommand, PhaseInput>(({ input, sendBack, receive }) => {
        const stop = new AbortController();
        const drain = new AbortController();
        // Drain: the company in flight finishes and is recorded; abort (after the grace): its calls are cancelled.
        receive((command) => (command.type === 'run.drain' ? drain.abort() : stop.abort()));
        const onLockLost = (): void => stop.abort();
        lockLost.signal.addEventListener('abort', onLockLost, { once: true });
        const dryRun = (started as StartedRun | null)?.dryRun ?? false;
        progress.phase = 'exporting';
        changed();
        runLogger.info({ dryRun }, 'exporting to Odoo');
        deps
          .work()
          .then((work) =>
            // The run's export jobs, a chunk each, until the run is finalised (by whoever exports its last company).
            runMember(memberDepsOf(deps, work, runLogger), {
              scope: { kind: 'export', runId: input.runId },
              concurrency: 1,
              pollMs: deps.config.fleet.pollMs,
              exportChunk: deps.config.fleet.exportChunk,
              completeEveryMs: deps.config.sink.flushMs,
              stopIntake: drain.signal,
              abort: stop.signal,
              onExport: ({ status }) => {
                progress.exported[status] = (progress.exported[status] ?? 0) + 1;
                changed();
              },
            }),
          )
          .then(
            () => sendBack({ type: 'run.export.completed' }),
            (error: unknown) => sendBack({ type: 'run.fatal', error: error instanceof Error ? error.message : String(error) }),
          );
        return () => {
          lockLost.signal.removeEventListener('abort', onLockLost);
          stop.abort();
        };
      }),
      finalise: fromPromise<void, { runId: number; status: 'completed' | 'interrupted' | 'failed'; error: string | null }>(async ({ input }) => {
        progress.phase = 'finalising';
        changed();
        if (lockLost.signal.aborted) {
          // The results committed so far stay; the run's row is the other process's to finalise.
          await deps.sink.flush();
          runLogger.warn({ status: input.status }, 'run stopped: its row is left to the process that holds it now');
          return;
        }
        if (enqueuedOnly) {
          // Queued for the fleet: the run stays `running`, and whoever exports its last company finalises it.
          runLogger.info({}, 'run queued; workers will do it');
          return;
        }
        await deps.sink.flush();
        if (input.status === 'completed' || (await deps.store.getRun(input.runId))?.phase === 'done') {
          // Finalised once for the fleet, by whoever exported the last company (this process or another).
          const counts = await deps.store.finaliseIfExported(input.runId);
          runLogger.info({ status: 'completed', counts: counts ?? undefined }, 'run finalised');
          return;
        }
        // Stopped here: the results so far are the run's (percentiles, counts), marked interrupted or
        // failed; workers still at it finish it, and the last of them finalises it as completed.
        const counts = await deps.obs.finaliseRun(input.runId, input.status);
        runLogger.info({ status: input.status, error: input.error, counts }, 'run finalised');
      }),
    },
  });

  const actor = createActor(machine, {
    input: { tenantId: request.tenantId ?? null, resumeRunId: request.resumeRunId ?? null, drainGraceMs: deps.config.shutdownGraceMs },
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
  const done = new Promise<RunResult>((resolve, reject) => {
    actor.subscribe({
      complete: () => {
        progress.phase = 'done';
        changed();
        const output = actor.getSnapshot().output as RunMachineOutput;
        // The run is another process's to resume only once this one has let go of it.
        void Promise.resolve((lock as HeldLock | null)?.release()).finally(() => resolve({ ...output, refused: isRunRequestError(requestError), enqueued: enqueuedOnly }));
      },
      error: (error: unknown) => {
        void Promise.resolve((lock as HeldLock | null)?.release()).finally(() => reject(error));
      },
    });
  });
  // Until the run ends, the runtime records this tenant's breaker transitions with its run id.
  void done.finally(() => (leaveRun as (() => void) | null)?.()).catch(() => undefined);
  actor.start();
  return {
    done,
    interrupt: (options = {}) => {
      intake.abort();
      actor.send({ type: options.now ? 'run.abort.requested' : 'run.interrupt.requested' });
    },
    get progress() {
      return progress;
    },
  };
}
