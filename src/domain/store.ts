import type { Company } from './company.js';
import type { InputCompany, MalformedRow } from './input.js';
import type { ExportCompany } from './odoo.js';
import type { TenantId } from './vendor.js';

/**
 * The persistence ports of a run (DESIGN.md "Persistence"): the run store (tenants, runs, their
 * input, finalisation), the run's work queues, and the deferred addresses of `verify-deferred`.
 * src/adapters/postgres implements them; the streams that drive a run take them as arguments.
 */

/** A tenant row: its Odoo settings and the NAME of the variable holding its Odoo key. */
export interface Tenant {
  tenantId: TenantId;
  name: string;
  odooUrl: string | null;
  odooDb: string | null;
  odooLogin: string | null;
  /** Name of the environment variable with the API key (read with `config.secret(name)`). */
  odooKeyEnv: string | null;
}

/** What a run was started with; stored as enrichment_runs.params. */
export interface RunParams {
  inputPath?: string | null;
  concurrency?: number;
  dryRun?: boolean;
  staleDays?: number | null;
  /** RUN_BUDGET_USD when the run started (null: no cap): the run's budget, whichever worker spends it. */
  budgetUsd?: number | null;
  [key: string]: unknown;
}

/** How a run ended, as stored in enrichment_runs.status. */
export type FinalRunStatus = 'completed' | 'interrupted' | 'failed';

/** An enrichment_runs row. */
export interface RunRow {
  runId: number;
  tenantId: TenantId;
  status: 'running' | FinalRunStatus;
  /** Which part of the run is under way (the fleet's claims: enriching → exporting → finalising → done). */
  phase: 'enriching' | 'exporting' | 'finalising' | 'done';
  degraded: boolean;
  odooExportDisabled: boolean;
  params: RunParams;
  startedAt: Date;
  finishedAt: Date | null;
}

/** One row of run_stage_stats, durations in milliseconds. */
export interface StageStats {
  stage: string;
  n: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  maxMs: number;
}

/** A run's counts once finalised. */
export interface RunCounts {
  total: number;
  done: number;
  degraded: number;
  failed: number;
  exported: number;
  exportFailed: number;
  /** enrichment_runs.degraded. */
  runDegraded: boolean;
}

/** Tenants and runs: the rows around a run. Every method rejects with the driver's error. */
export interface RunStore {
  /** Inserts or updates a tenant. */
  upsertTenant(tenant: Tenant): Promise<void>;
  /** Creates the placeholder tenant `tenant <id>` when unknown; leaves a known one as it is. */
  ensureTenant(tenantId: TenantId): Promise<void>;
  /** The tenant, or null when unknown. */
  getTenant(tenantId: TenantId): Promise<Tenant | null>;
  /** Starts a run (status running); creates a placeholder tenant `tenant <id>` when unknown. Returns run_id. */
  createRun(tenantId: TenantId, params: RunParams): Promise<number>;
  getRun(runId: number): Promise<RunRow | null>;
  /**
   * Records the run's input in order (run_companies) and upserts the companies recorded (a
   * non-null input name or domain replaces the stored one). Consumes any (async) iterable in
   * batches of `batchSize` (default 500), holding one batch at a time. Input rows
   * ({@link InputCompany}) are settled against the ids the run already holds, in file order: the
   * same line again (a resume reading the file again) is skipped silently; an explicit id from
   * another line is refused (`duplicate company_id X (first seen at line N)`), a derived id with
   * the same check too (`duplicate company: same … as line N`); a derived id with another check is
   * a collision, probed past (the first row in file order keeps the plain hash). Refused rows
   * never touch `companies` and go to `onRefused`. A plain {@link Company} whose id is already in
   * the run keeps its first position. Returns the number recorded. Stops taking input when
   * `signal` aborts (what was read and not yet written is dropped).
   */
  recordRunInputs(
    runId: number,
    companies: Iterable<Company | InputCompany> | AsyncIterable<Company | InputCompany>,
    options?: {
      batchSize?: number;
      signal?: AbortSignal;
      onRefused?: (row: MalformedRow) => void;
      /** Told the ids of each batch once it is recorded (the run queues their jobs then). */
      onRecorded?: (companyIds: number[]) => Promise<void>;
    },
  ): Promise<number>;
  /** Sets the status; a final status sets finished_at, `running` clears it (resume). */
  markRun(runId: number, status: RunRow['status']): Promise<void>;
  /** Flags the run's Odoo export as disabled for the rest of the run, with why. */
  disableOdooExport(runId: number, reason: string): Promise<void>;
  /**
   * The tenant's companies never enriched, plus (with `staleDays`) those last enriched more than
   * `staleDays` days ago — what `run --tenant <id> [--stale-days N]` without --input enriches.
   * Read in pages, so memory stays flat however many companies the tenant has.
   */
  tenantCompanies(tenantId: TenantId, options?: { staleDays?: number | null; pageSize?: number }): AsyncIterable<Company>;
  /** Companies of the run's input, and those of them with a result row (degraded: with a reason). */
  countProgress(runId: number): Promise<{ total: number; done: number; degraded: number }>;
  /** Notes in the run's params that its whole input is recorded (a resume need not record it again). */
  markInputRecorded(runId: number): Promise<void>;
  /** Adds `count` to the run's params.malformedRows (input rows skipped). */
  addMalformedRows(runId: number, count: number): Promise<void>;
  /** The tenant's newest run, or null. */
  lastRunId(tenantId: TenantId): Promise<number | null>;
  /**
   * Computes run_stage_stats (p50/p90/p95/p99/max per stage, plus `company`) from the run's rows;
   * replaces earlier stats of the run, so it can be run again.
   */
  aggregatePercentiles(runId: number): Promise<StageStats[]>;
  /**
   * Finalises a run whose events are committed: its stage percentiles, counts, degraded flag,
   * status and finished_at, in that order; prunes the sink's old ledger rows.
   * @throws Error when the run does not exist
   */
  finaliseRun(runId: number, status: FinalRunStatus): Promise<RunCounts>;
  /**
   * Finalises the run as `completed` if its export is over (every company has an export outcome),
   * once for the fleet: claims phase `finalising` (or takes up a finalisation whose process died),
   * then {@link RunStore.finaliseRun}, then phase `done`.
   * @returns the counts, or null when the export is not over or the run is already done
   */
  finaliseIfExported(runId: number): Promise<RunCounts | null>;
}

/**
 * A run's work, read page by page so that memory stays flat however large the run: what is left
 * to enrich, and what is left to export. Both are safe to read while the sink writes.
 */
export interface RunQueue {
  /**
   * The run's companies without a result row, in input order, each with what is stored for it
   * (`knownContacts`, `knownEmails`).
   */
  pending(runId: number): AsyncIterable<Company>;
  /** The run's companies with a result and no export outcome yet, by company id. */
  unexported(runId: number): AsyncIterable<ExportCompany>;
  /** The ids of the run's companies without a result row, a page at a time (to queue their jobs). */
  pendingIds(runId: number): AsyncIterable<number[]>;
  /**
   * These companies of the run as the chain takes them (with what is stored for them), by id; a
   * company that has a result already is `done` (its job came back after its result was committed).
   */
  companies(runId: number, companyIds: readonly number[]): Promise<Map<number, Company | 'done'>>;
}

/** The addresses whose verification was deferred (`verify-deferred`). */
export interface DeferredContactsStore {
  /** The tenant's addresses whose verification was deferred, oldest contact first. */
  deferred(tenantId: TenantId): Promise<{ contactId: string; email: string }[]>;
  /** Stores the verdict of one address (and when it was reached). */
  recordVerdict(contactId: string, verdict: { status: string; subStatus: string | null }): Promise<void>;
}
