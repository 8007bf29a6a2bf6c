import type { BreakerStateName } from './events.js';
import type { FleetMember, QueueDepth } from './queue.js';
import type { RunCounts, RunRow, StageStats } from './store.js';
import type { TenantId } from './vendor.js';

/**
 * The operators' window (DESIGN.md "The operators' window", issue 15): what `lead-enrich serve`
 * and the serve side of /metrics read. Read-only; src/adapters/postgres/window.ts implements it.
 * Every method rejects with the driver's error.
 */

/** One page of a list, newest or first first; `hasMore` when another page follows. */
export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  hasMore: boolean;
}

/** The run statuses a list can be filtered by (enrichment_runs.status). */
export const RUN_STATUSES = ['running', 'completed', 'interrupted', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the runs list is filtered by; 1-based page. */
export interface RunListQuery {
  tenantId?: TenantId;
  status?: RunStatus;
  page: number;
  pageSize: number;
}

/**
 * The counts of a run as of now (from its rows, a run still going included); `total` is the
 * companies of its input (or done, when more: a caller's own companies).
 */
export type RunLiveCounts = Omit<RunCounts, 'runDegraded'>;

/** One row of the runs list. */
export interface RunListItem {
  runId: number;
  tenantId: TenantId;
  tenantName: string | null;
  status: RunStatus;
  phase: RunRow['phase'];
  degraded: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  counts: RunLiveCounts;
  costUsd: number;
}

/** One run, everything its page shows but its companies. */
export interface RunDetails extends RunListItem {
  odooExportDisabled: boolean;
  odooExportDisabledReason: string | null;
  params: RunRow['params'];
  /** Companies per reason code, most frequent first. */
  reasons: { reason: string; companies: number }[];
  stages: StageStats[];
  vendors: { vendor: string; calls: number; errors: number; retries: number; tokens: number; costUsd: number }[];
  /** Companies per export_status (`pending` when none yet). */
  exports: { exportStatus: string; companies: number }[];
  /** Breaker transitions recorded during the run (with its id), in order. */
  breakerTransitions: { vendor: string; from: BreakerStateName; to: BreakerStateName; at: Date; reason: string }[];
  /** Events the database refused for their content. */
  rejectedEvents: number;
}

/** What a run's companies list is filtered by. */
export interface CompanyListQuery {
  runId: number;
  reason?: string;
  page: number;
  pageSize: number;
}

/** One company's result in a run. */
export interface CompanyListItem {
  companyId: number;
  name: string | null;
  domain: string | null;
  status: 'ok' | 'degraded' | 'failed';
  reasons: string[];
  fallbacks: string[];
  exportStatus: string | null;
  finishedAt: Date;
}

/** One contact of a company as stored (contacts). */
export interface CompanyContact {
  fullName: string | null;
  title: string | null;
  email: string | null;
  linkedinUrl: string | null;
  source: string;
  emailStatus: string;
  emailSubStatus: string | null;
  verifiedAt: Date | null;
}

/** One company of one run, opened: the provenance of every field, its facts and contacts. */
export interface CompanyDetails extends CompanyListItem {
  runId: number;
  tenantId: TenantId;
  facts: Record<string, unknown>;
  provenance: { field: string; step: string; source: string; at: string }[];
  timings: { stage: string; durationMs: number }[];
  exportDetail: string | null;
  exportPartnerId: number | null;
  startedAt: Date;
  contacts: CompanyContact[];
}

/** A (tenant, vendor) breaker as its recorded transitions say. */
export interface BreakerView {
  tenantId: TenantId;
  vendor: string;
  state: BreakerStateName;
  /** When it entered that state (its last transition). */
  since: Date;
  /** The reason of that transition. */
  reason: string;
  /** Its last opening (a cool-off start), or null. */
  openedAt: Date | null;
  runId: number | null;
}

/** A member of the fleet as last seen. */
export type WorkerView = FleetMember & { startedAt: Date; lastSeenAt: Date; stoppedAt: Date | null };

/** Totals for the serve side of /metrics (gauges read at scrape time, from the database). */
export interface WindowTotals {
  companies: { tenantId: TenantId; done: number; degraded: number; failed: number }[];
  vendors: { tenantId: TenantId; vendor: string; calls: number; errors: number; retries: number; costUsd: number }[];
  runs: { status: RunStatus; runs: number }[];
  /** Stage durations bucketed: `le` in seconds, cumulative counts, per stage. */
  stageLatency: { stage: string; buckets: { le: number; count: number }[]; count: number; sumS: number }[];
  rejectedEvents: number;
}

/** The read side of the database for the operators' window. */
export interface WindowReader {
  runs(query: RunListQuery): Promise<Page<RunListItem>>;
  /** null when the run does not exist. */
  run(runId: number): Promise<RunDetails | null>;
  companies(query: CompanyListQuery): Promise<Page<CompanyListItem>>;
  /** null when the company has no result in that run. */
  company(runId: number, companyId: number): Promise<CompanyDetails | null>;
  /** Every (tenant, vendor) breaker with a recorded transition, by tenant then vendor. */
  breakers(): Promise<BreakerView[]>;
  /** Jobs by run and state (pg-boss); empty when the queue was never used. */
  queue(): Promise<QueueDepth[]>;
  /** Fleet members seen within the last `withinS` seconds, newest first. */
  workers(withinS: number): Promise<WorkerView[]>;
  /** The gauges of /metrics on `serve`; `bucketsS` are the stage latency buckets, in seconds. */
  totals(bucketsS: readonly number[]): Promise<WindowTotals>;
  /** Whether the database answers (for /healthz). */
  ping(): Promise<void>;
}
