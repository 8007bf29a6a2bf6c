import { setMaxListeners } from 'node:events';
import { createActor, fromCallback, fromPromise, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Clock, Company, ExportStatus } from '../../domain/index.js';
import { childLogger } from '../../adapters/logger.js';
import type { Observability } from '../../adapters/postgres/observability.js';
import type { Queryable } from '../../adapters/postgres/reconnect.js';
import type { RunParams, RunsRepository } from '../../adapters/postgres/runs.js';
import { tryRunLock, type RunLock } from '../../adapters/postgres/runLock.js';
import { runMachine, type PhaseCommand, type PhaseInput, type RunMachineOutput } from '../../machines/run.machine.js';
import type { EnrichmentPorts } from '../enrichCompany.js';
import type { GuardedCaller } from '../guard.types.js';
import type { OdooExportDeps } from '../odoo/odooExport.js';
import type { Sink } from '../sink.js';
import type { TransitionRecorder } from '../transitionRecorder.js';
import { enrichPhase } from './enrichPhase.js';
import { exportPhase } from './exportPhase.js';

/** Everything a run is composed of (built once per runtime by the composition root). */
export interface RunJobDeps {
  config: Config;
  clock: Clock;
  /** The run's queries and locks: a `reconnecting` pool, so that a lost connection is ridden out. */
  pool: Queryable;
  sink: Sink;
  obs: Observability;
  runs: RunsRepository;
  /** The run's guarded caller (breakers shared across the runtime). */
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  odoo: Omit<OdooExportDeps, 'guard'>;
  logger: Logger;
  /** The runtime's transition recorder: the run's tenant's breaker transitions carry its run id while it lasts. */
  transitions: Pick<TransitionRecorder, 'enterRun'>;
  inspect?: (event: InspectionEvent) => void;
}

/** Live progress of a run. */
export interface RunProgress {
  runId: number | null;
  phase: 'starting' | 'enriching' | 'exporting' | 'finalising' | 'done';
  /** Companies in the run's input (known once the input is recorded). */
  total: number | null;
  /** Companies with a result row, this session and earlier ones (resume). */
  done: number;
  degraded: number;
  exported: Partial<Record<ExportStatus, number>>;
}

/** What to run. */
export interface RunRequest {
  tenantId: number;
  /** A new run's companies, streamed into run_companies before enrichment starts. */
  companies?: AsyncIterable<Company> | Iterable<Company>;
  /** Resume this run instead: only companies without a row are enriched, only unexported ones exported. */
  resumeRunId?: number;
  params: RunParams;
  concurrency: number;
  dryRun: boolean;
  /** Called whenever progress changes (cheap; throttle in the caller). */
  onProgress?: (progress: RunProgress) => void;
}

/** A started run. */
export interface RunHandle {
  /** Resolves when the run machine reaches a final state. */
  readonly done: Promise<RunMachineOutput>;
  /** Stop intake, let in-flight companies finish within SHUTDOWN_GRACE_MS, flush, mark interrupted. */
  interrupt(): void;
  readonly progress: RunProgress;
}

/**
 * Runs one tenant's batch on the run-lifecycle machine: record the input, enrich every company
 * (pulled at `concurrency`), export to Odoo, finalise (stage percentiles, degraded flag, counts,
 * status). Resumable: the input is recorded before enrichment, every result is keyed by (run, company).
 */
export function startRun(deps: RunJobDeps, request: RunRequest): RunHandle {
  const progress: RunProgress = { runId: null, phase: 'starting', total: null, done: 0, degraded: 0, exported: {} };
  const changed = (): void => request.onProgress?.(progress);
  const { tenantId } = request;
  let runLogger = childLogger(deps.logger, { tenantId });
  let lock: RunLock | null = null;
  // An interrupt stops the input's recording too (a large input would otherwise be read to its end first).
  const intake = new AbortController();
  // Fires when the run lock is lost to another process: the phases abort their work at once.
  const lockLost = new AbortController();
  let leaveRun: (() => void) | null = null;
  const lockRun = async (runId: number): Promise<void> => {
    lock = await tryRunLock(deps.pool, runId, { logger: childLogger(deps.logger, { runId, tenantId }) });
    if (!lock) throw new Error(`run ${runId} is being processed by another process; nothing was changed`);
    lock.lost.addEventListener('abort', () => {
      // Its connection dropped and another process took the run meanwhile (a `run --resume`): the
      // run is that process's now. Stop at once — companies in flight get no row, so it does them.
      runLogger.error({ runId }, 'the run lock was lost to another process; stopping this one at once');
      intake.abort();
      actor.send({ type: 'run.interrupt.requested' });
      lockLost.abort();
    }, { once: true });
  };

  const machine = runMachine.provide({
    actors: {
      startRun: fromPromise<{ runId: number }, { tenantId: number; resumeRunId: number | null }>(async ({ input }) => {
        let runId: number;
        if (input.resumeRunId !== null) {
          const run = await deps.runs.getRun(input.resumeRunId);
          if (!run) throw new Error(`run ${input.resumeRunId} does not exist`);
          if (run.params.inputRecorded !== true && !request.companies) {
            // Stopped while its input was being recorded: what was not recorded would silently drop out.
            throw new Error(`run ${run.runId} was stopped before its input was recorded whole: resume it with its companies again (the CLI reads its input file again)`);
          }
          runId = run.runId;
          await lockRun(runId);
          await deps.runs.markRun(runId, 'running');
        } else {
          runId = await deps.runs.createRun(tenantId, request.params);
          await lockRun(runId);
        }
        progress.runId = runId;
        leaveRun = deps.transitions.enterRun(tenantId, runId);
        runLogger = childLogger(deps.logger, { runId, tenantId });
        runLogger.info({ resumed: input.resumeRunId !== null }, input.resumeRunId !== null ? 'run resumed' : 'run started');
        changed();
        try {
          if (request.companies) {
            await deps.runs.recordRunInputs(runId, request.companies, { signal: intake.signal });
            // Interrupted while recording: not marked, so a resume records the input again.
            if (!intake.signal.aborted) await deps.runs.markInputRecorded(runId);
          }
          Object.assign(progress, await deps.runs.countProgress(runId));
        } catch (error) {
          // The row exists: it must not stay `running` for ever. The error carries the run id so
          // that the machine's output (and the CLI) can name the run.
          runLogger.error({ err: error }, 'run input could not be recorded; run failed');
          await deps.runs.markRun(runId, 'failed').catch(() => undefined);
          throw Object.assign(error instanceof Error ? error : new Error(String(error)), { runId });
        }
        changed();
        return { runId };
      }),
      enrich: fromCallback<PhaseCommand, PhaseInput>(({ input, sendBack, receive }) => {
        const stopIntake = new AbortController();
        const abort = new AbortController();
        // Every company in flight listens to it: not a leak, so no MaxListenersExceededWarning above 10.
        setMaxListeners(0, abort.signal);
        receive((command) => (command.type === 'run.drain' ? stopIntake.abort() : abort.abort(new Error('run aborted'))));
        const onLockLost = (): void => abort.abort(new Error('run lock lost'));
        lockLost.signal.addEventListener('abort', onLockLost, { once: true });
        progress.phase = 'enriching';
        changed();
        runLogger.info({ concurrency: request.concurrency }, 'enriching');
        enrichPhase({ ...deps, logger: runLogger }, {
          runId: input.runId,
          concurrency: request.concurrency,
          stopIntake: stopIntake.signal,
          abort: abort.signal,
          onCompany: (c) => {
            progress.done += 1;
            if (c.degraded) progress.degraded += 1;
            changed();
          },
        }).then(
          (processed) => sendBack({ type: 'run.enrich.completed', processed }),
          (error: unknown) => sendBack({ type: 'run.fatal', error: error instanceof Error ? error.message : String(error) }),
        );
        return () => {
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
        progress.phase = 'exporting';
        changed();
        runLogger.info({ dryRun: request.dryRun }, 'exporting to Odoo');
        exportPhase(
          { config: deps.config, pool: deps.pool, sink: deps.sink, obs: deps.obs, runs: deps.runs, logger: runLogger, odoo: { ...deps.odoo, guard: deps.guard, logger: runLogger } },
          {
            runId: input.runId,
            tenantId: input.tenantId,
            dryRun: request.dryRun,
            signal: stop.signal,
            stopIntake: drain.signal,
            onCompany: (status) => {
              progress.exported[status] = (progress.exported[status] ?? 0) + 1;
              changed();
            },
          },
        ).then(
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
        await deps.sink.flush();
        if (lockLost.signal.aborted) {
          // The results committed so far stay; the run's row is the other process's to finalise.
          runLogger.warn({ status: input.status }, 'run stopped: its row is left to the process that holds it now');
          return;
        }
        await deps.obs.aggregatePercentiles(input.runId);
        const counts = await deps.obs.finaliseRun(input.runId, input.status);
        runLogger.info({ status: input.status, error: input.error, counts }, 'run finalised');
      }),
    },
  });

  const actor = createActor(machine, {
    input: { tenantId, resumeRunId: request.resumeRunId ?? null, drainGraceMs: deps.config.shutdownGraceMs },
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
  const done = new Promise<RunMachineOutput>((resolve, reject) => {
    actor.subscribe({
      complete: () => {
        progress.phase = 'done';
        changed();
        const output = actor.getSnapshot().output as RunMachineOutput;
        // The run is another process's to resume only once this one has let go of it.
        void Promise.resolve((lock as RunLock | null)?.release()).finally(() => resolve(output));
      },
      error: (error: unknown) => {
        void Promise.resolve((lock as RunLock | null)?.release()).finally(() => reject(error));
      },
    });
  });
  // Until the run ends, the runtime records this tenant's breaker transitions with its run id.
  void done.finally(() => (leaveRun as (() => void) | null)?.()).catch(() => undefined);
  actor.start();
  return {
    done,
    interrupt: () => {
      intake.abort();
      actor.send({ type: 'run.interrupt.requested' });
    },
    get progress() {
      return progress;
    },
  };
}
