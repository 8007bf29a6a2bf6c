import type { TenantId } from './vendor.js';

/**
 * The fleet's work queue (DESIGN.md "Scale-out"): one job per company of a run, and the run's
 * export, shared by every process working on the database (src/adapters/postgres/queue.ts
 * implements it on pg-boss). A job taken is leased: if its process dies, it comes back when its
 * lease runs out, and another process does it. Doing a job twice is harmless: a company's first
 * recorded result wins, and the export is idempotent.
 */

/** One company of a run to enrich. */
export interface CompanyJob {
  kind: 'company';
  /** The job's id (stable per run and company). */
  id: string;
  runId: number;
  tenantId: TenantId;
  companyId: number;
}

/** A part of a run's export (the companies without an export outcome, a chunk at a time). */
export interface ExportJob {
  kind: 'export';
  id: string;
  runId: number;
  tenantId: TenantId;
}

/** Jobs of one run's queue, by state (pg-boss's states). */
export interface QueueDepth {
  runId: number;
  queue: 'enrich' | 'export';
  waiting: number;
  retry: number;
  active: number;
  failed: number;
  completed: number;
}

/** The work queue. Every method rejects with the driver's error. */
export interface WorkQueue {
  /** Makes the run's queues (idempotent). */
  openRun(runId: number): Promise<void>;
  /** One job per company; a company already queued (waiting, active or done) is not queued again. */
  enqueueCompanies(runId: number, tenantId: TenantId, companyIds: readonly number[]): Promise<void>;
  /** Takes up to `max` of the run's waiting company jobs, each leased until its expiry. */
  takeCompanies(runId: number, max: number): Promise<CompanyJob[]>;
  /** Takes the run's waiting export job, if there is one. */
  takeExport(runId: number): Promise<ExportJob | null>;
  /** The jobs are done: their results are committed. */
  complete(jobs: readonly (CompanyJob | ExportJob)[]): Promise<void>;
  /** The jobs go back to the queue at once (taken but not done: a drain, an abort). */
  release(jobs: readonly (CompanyJob | ExportJob)[]): Promise<void>;
  /**
   * The run's enrichment is over (every company of its input has a result, and its input is
   * recorded whole): moves it to `exporting` and queues its export, once for the fleet.
   * @returns whether this call did it
   */
  claimExport(runId: number): Promise<boolean>;
  /** Queues the run's next export chunk (its export job is being done and more is left). */
  continueExport(job: ExportJob): Promise<void>;
  /**
   * The run is exporting and has no export job waiting, due or under way: queues one (a resume of
   * a run whose export job was completed by a process that died before queueing the next chunk).
   */
  ensureExport(runId: number, tenantId: TenantId): Promise<void>;
  /**
   * Hands the run's jobs under way back to the queue at once, without waiting for their leases (a
   * resume: the process that held them is gone). A job still being done elsewhere is done twice,
   * which changes nothing (a company's first recorded result wins; the export is idempotent).
   * @returns how many jobs were handed back
   */
  reclaim(runId: number): Promise<number>;
  /** Runs whose queues have work waiting, due for a retry or under way, oldest first. */
  runsWithWork(): Promise<number[]>;
  /** Jobs by run and state; one run, or every run with a queue. */
  depth(runId?: number): Promise<QueueDepth[]>;
  /** Whether no job of any run is waiting, active or due for a retry. */
  idle(): Promise<boolean>;
  /** Removes the run's queues (once it is finalised). */
  closeRun(runId: number): Promise<void>;
  /** Stops the queue's maintenance (expiring leases); idempotent. */
  stop(): Promise<void>;
}

/** A member of the fleet as it reports itself (table fleet_workers). */
export interface FleetMember {
  workerId: string;
  host: string;
  pid: number;
  /** `run`: a `lead-enrich run` working its own run; `worker`: any run's work. */
  kind: 'run' | 'worker';
  runId: number | null;
  concurrency: number;
  inFlight: number;
  /** Jobs this member finished. */
  done: number;
}

/** Where members say they are alive (every few seconds) and that they left. */
export interface FleetRegistry {
  heartbeat(member: FleetMember): Promise<void>;
  leave(workerId: string): Promise<void>;
  /** Members seen within the last `withinS` seconds, newest first. */
  seen(withinS: number): Promise<(FleetMember & { startedAt: Date; lastSeenAt: Date; stoppedAt: Date | null })[]>;
}
