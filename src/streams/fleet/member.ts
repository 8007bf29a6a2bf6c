import { Subject, bufferTime, concatMap, filter, ignoreElements, lastValueFrom } from 'rxjs';
import type { CompanyJob, ExportJob, ExportStatus, Logger, RunQueue, RunStore, Sleep, WorkQueue } from '../../domain/index.js';
import { pulledMerge } from '../pulledMerge.js';
import type { Sink } from '../sink.js';
import { enrichOne, type EnrichOneDeps } from '../run/enrichOne.js';
import { exportPhase, type ExportPhaseDeps } from '../run/exportPhase.js';

/**
 * A member of the fleet (DESIGN.md "Scale-out"): takes jobs from the work queue and does them
 * through the same chain, sink and export as a single process. `lead-enrich run` is a member that
 * works its own run; `lead-enrich worker` one that works every run. A job is completed only once
 * what it produced is committed (the sink flushed), so a member killed at any point loses nothing:
 * its jobs come back when their lease runs out and another member does them; a company's first
 * recorded result wins, so a job done twice changes nothing.
 */

/** What a member needs. */
export interface MemberDeps extends EnrichOneDeps {
  work: WorkQueue;
  store: Pick<RunStore, 'getRun' | 'finaliseIfExported'> & ExportPhaseDeps['store'];
  runQueue: Pick<RunQueue, 'companies' | 'unexported'>;
  sink: Pick<Sink, 'flush'>;
  exportDeps: Omit<ExportPhaseDeps, 'store' | 'queue' | 'sink'>;
  sleep: Sleep;
  logger: Logger;
}

/** Which jobs a member takes, and when it stops by itself. */
export type MemberScope =
  /** One run's company jobs, until its enrichment is over (the run moved past `enriching`). */
  | { kind: 'enrich'; runId: number }
  /** One run's export jobs, until the run is done. */
  | { kind: 'export'; runId: number }
  /** Every run's jobs; with `untilIdle`, until no job of any run is waiting, active or due. */
  | { kind: 'any'; untilIdle: boolean };

/** Options of {@link runMember}. */
export interface MemberOptions {
  scope: MemberScope;
  concurrency: number;
  /** Milliseconds between looks at the queue when it had nothing to take. */
  pollMs: number;
  /** Companies exported per export job (the next chunk is queued as a job of its own). */
  exportChunk: number;
  /** Milliseconds a finished job waits to be completed with others (one flush and one round trip for many). */
  completeEveryMs: number;
  /** Drain: no further job is taken; jobs in flight finish and are completed; jobs taken and not started go back. */
  stopIntake: AbortSignal;
  /** Abort: jobs in flight end at once and go back to the queue. */
  abort: AbortSignal;
  /** A job was taken and is about to be done. */
  onJob?: (job: CompanyJob | ExportJob) => void;
  onCompany?: (done: { runId: number; companyId: number; degraded: boolean }) => void;
  onExport?: (done: { runId: number; status: ExportStatus }) => void;
  /** Jobs in flight changed (for the fleet's heartbeat). */
  onLoad?: (inFlight: number, done: number) => void;
  /** A run was finalised by this member. */
  onFinalised?: (runId: number) => void;
}

type Job = CompanyJob | ExportJob;

/**
 * Works jobs until the scope says it is over or `stopIntake` fires. Resolves with the number of
 * jobs done. Rejects only when the database does (the queue or the sink), after giving back the
 * jobs it holds where it still can.
 */
export async function runMember(deps: MemberDeps, options: MemberOptions): Promise<number> {
  const { work } = deps;
  const { scope } = options;
  const held = new Set<Job>();
  let inFlight = 0;
  let done = 0;
  const finished = new Subject<Job>();
  const load = (): void => options.onLoad?.(inFlight, done);
  // A job that ends may have queued more (the next export chunk, the run's export): a member
  // waiting for work looks again at once instead of at its next poll.
  let wake = new AbortController();
  const wakeUp = (): void => {
    wake.abort();
    wake = new AbortController();
  };

  const phaseOf = async (runId: number): Promise<string | null> => (await deps.store.getRun(runId))?.phase ?? null;

  /** The scope's jobs, taken a batch at a time when the member has room for them. */
  async function* jobs(): AsyncGenerator<Job> {
    const buffer: Job[] = [];
    try {
      while (!options.stopIntake.aborted && !options.abort.aborted) {
        if (buffer.length === 0) await take(buffer);
        const next = buffer.shift();
        if (next) {
          yield next;
          continue;
        }
        if (await over()) return;
        await deps.sleep(options.pollMs, AbortSignal.any([options.stopIntake, options.abort, wake.signal]));
      }
    } finally {
      // Taken but not started: back to the queue at once.
      if (buffer.length > 0) {
        for (const job of buffer) held.delete(job);
        await work.release(buffer).catch((error: unknown) => deps.logger.warn({ err: error }, 'jobs could not be given back; they come back when their lease runs out'));
      }
    }
  }

  const runsInScope = async (): Promise<number[]> => (scope.kind === 'any' ? await work.runsWithWork() : [scope.runId]);

  async function take(into: Job[]): Promise<void> {
    const room = Math.max(1, options.concurrency - inFlight);
    for (const runId of await runsInScope()) {
      if (scope.kind !== 'export') {
        const companies = await work.takeCompanies(runId, room);
        for (const job of companies) held.add(job);
        into.push(...companies);
        if (into.length > 0) return;
        // Nothing waiting: if the run's every company has its result, its export is queued (once for the fleet).
        if (await work.claimExport(runId)) deps.logger.info({ runId }, 'enrichment over; export queued');
      }
      if (scope.kind !== 'enrich') {
        const exportJob = await work.takeExport(runId);
        if (exportJob) {
          held.add(exportJob);
          into.push(exportJob);
          return;
        }
      }
    }
  }

  async function over(): Promise<boolean> {
    if (inFlight > 0) return false;
    if (scope.kind === 'enrich') return (await phaseOf(scope.runId)) !== 'enriching';
    if (scope.kind === 'export') return (await phaseOf(scope.runId)) === 'done';
    return scope.untilIdle && (await work.idle());
  }

  const doCompany = async (job: CompanyJob): Promise<boolean> => {
    const company = (await deps.runQueue.companies(job.runId, [job.companyId])).get(job.companyId);
    if (company === undefined) {
      deps.logger.warn({ runId: job.runId, companyId: job.companyId }, 'a queued company is not in its run; its job is completed');
      return true;
    }
    if (company === 'done') return true; // its result was committed before its job came back
    const output = await enrichOne(deps, job.runId, company, options.abort);
    if (output === null) return false;
    options.onCompany?.({ runId: job.runId, companyId: job.companyId, degraded: output.reasons.length > 0 });
    return true;
  };

  const doExport = async (job: ExportJob): Promise<boolean> => {
    const run = await deps.store.getRun(job.runId);
    if (run === null || run.phase === 'done') return true;
    const drained = AbortSignal.any([options.stopIntake, options.abort]);
    await exportPhase(
      { ...deps.exportDeps, store: deps.store, queue: deps.runQueue, sink: deps.sink },
      {
        runId: job.runId,
        tenantId: job.tenantId,
        dryRun: run.params.dryRun === true,
        signal: options.abort,
        stopIntake: options.stopIntake,
        limit: options.exportChunk,
        onCompany: (status) => options.onExport?.({ runId: job.runId, status }),
      },
    );
    await deps.sink.flush();
    if (drained.aborted) return false; // what is left is exported by whoever takes the job next
    for await (const _left of deps.runQueue.unexported(job.runId)) {
      await work.continueExport(job);
      return true;
    }
    const counts = await deps.store.finaliseIfExported(job.runId);
    if (counts) {
      deps.logger.info({ runId: job.runId, counts }, 'run finalised');
      options.onFinalised?.(job.runId);
    }
    return true;
  };

  const one = async (job: Job): Promise<void> => {
    inFlight += 1;
    load();
    options.onJob?.(job);
    try {
      const ok = job.kind === 'company' ? await doCompany(job) : await doExport(job);
      if (ok) finished.next(job);
      else {
        held.delete(job);
        await work.release([job]);
      }
    } finally {
      inFlight -= 1;
      load();
      wakeUp();
    }
  };

  // Finished jobs are completed in batches, each once the sink has committed what they produced.
  const completions = finished.pipe(
    bufferTime(options.completeEveryMs, null, Math.max(1, options.concurrency)),
    filter((batch) => batch.length > 0),
    concatMap(async (batch) => {
      await deps.sink.flush();
      await work.complete(batch);
      for (const job of batch) held.delete(job);
      done += batch.length;
      load();
    }),
  );

  const completed = lastValueFrom(completions, { defaultValue: undefined });
  completed.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
  try {
    await lastValueFrom(pulledMerge(jobs(), one, { concurrency: options.concurrency, stopIntake: options.stopIntake }).pipe(ignoreElements()), { defaultValue: undefined });
  } finally {
    // The last batch is completed (its results committed) before the member ends.
    finished.complete();
    try {
      await completed;
    } finally {
      if (held.size > 0) await work.release([...held]).catch(() => undefined);
    }
  }
  return done;
}
