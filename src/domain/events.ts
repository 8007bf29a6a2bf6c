import type { CompanyFacts, Contact, EmailRecord, SourceName } from './company.js';
import type { ErrorKind } from './errors.js';
import type { ProvenanceEntry } from './provenance.js';
import type { ReasonCode, StepName } from './reasons.js';
import type { BreakerVendor, TenantId } from './vendor.js';

/** Breaker states (DESIGN.md "Circuit breakers"). */
export type BreakerStateName = 'closed' | 'open' | 'halfOpen';

/** One breaker transition, as emitted by the registry and persisted to breaker_transitions. */
export interface BreakerTransition {
  tenantId: TenantId;
  vendor: BreakerVendor;
  from: BreakerStateName;
  to: BreakerStateName;
  /** Epoch milliseconds from the injected clock. */
  at: number;
  /** e.g. `threshold`, `cool_off_elapsed`, `probe_succeeded`, `probe_failed`, `restored`. */
  reason: string;
}

/**
 * What the last persisted transition of one breaker says (breaker_transitions), for restoring it
 * at start-up (`BreakerRegistry.restoreFromTransitions`).
 */
export interface LastBreakerTransition {
  tenantId: TenantId;
  vendor: BreakerVendor;
  /** The state the breaker's last transition led to. */
  state: BreakerStateName;
  /** Epoch ms of its last transition. */
  at: number;
  /**
   * Epoch ms of its last opening, i.e. of its last transition whose reason starts a cool-off
   * (`OPENING_REASONS` of breaker.machine.ts); null when none is known (then `at` is used).
   */
  openedAt: number | null;
}

/** Per-company outcome status stored in company_enrichment_runs.status. */
export type CompanyRunStatus = 'ok' | 'degraded' | 'failed';

/** Export outcome stored in company_enrichment_runs.export_status. */
export type ExportStatus = 'exported' | 'exported_stripped' | 'failed' | 'disabled' | 'dry_run' | 'skipped';

/** Timing of one step of one company, in milliseconds. */
export interface StageTiming {
  stage: StepName;
  durationMs: number;
}

/** What the enrichment machine produces for one company (DESIGN.md "The fallback chain"). */
export interface EnrichmentOutput {
  companyId: number;
  tenantId: TenantId;
  /** Comma-joined reasons in recorded order, or null. */
  degradedReasons: string | null;
  reasons: ReasonCode[];
  facts: CompanyFacts;
  contacts: Contact[];
  emails: EmailRecord[];
  provenance: ProvenanceEntry[];
  /** Fallbacks taken, in order, e.g. `tavily`, `deterministic_extraction`, `lusha`. */
  fallbacks: string[];
  timings: StageTiming[];
}

/**
 * The free-form details of a stage event, stored as run_event_logs.extra. The enrichment machine's
 * stages carry the four named here; a caller of the `logEvent` hook may add any other.
 */
export interface StageExtra {
  /** The fallback this stage was (`tavily`, `deterministic_extraction`, `lusha`); for `done`, every fallback taken, comma-joined; null when none. */
  fallback_taken?: string | null;
  /** Who ran the step: a vendor, `crawler` or `deterministic`; null when nothing ran. */
  vendor?: SourceName | null;
  /** The error kind of a failure, when it was classified. */
  error_kind?: ErrorKind | null;
  /**
   * For skips: `no_key`, `disabled`, `no_domain`, `known_contacts`, `no_source`; for errors: the
   * step outcome's detail (the VendorError's, e.g. `ssrf_refused:private`), `deadline` for the deadline.
   */
  detail?: string | null;
  [key: string]: unknown;
}

/**
 * One stage finish, error or skip of one company: one run_event_logs row. The enrichment machine
 * builds it from its step outcomes (enrichment.updates.ts), enrichCompany hands it on as it is, the
 * run pushes it to the sink in a `stage.event` and rows.ts maps it to the row; the `logEvent` hook
 * builds the same for its callers.
 */
export interface StageEvent {
  tenantId: TenantId;
  companyId: number | null;
  /** The step (`crawl`, `search`, `extract`, `contacts`, `verify`) or `done` for the company's end. */
  stage: string;
  /** `finish`, `error` or `skip`. */
  event: string;
  /**
   * `ok`; `degraded` (a thin crawl, or a company that ends with reasons); `error` (failed, the
   * deadline included); `refused` (open breaker); `skipped` (vendor off or nothing to do, never a degradation).
   */
  status: string;
  /** The reason code this stage recorded (e.g. `CRAWL_THIN`, `CIRCUIT_OPEN:tavily`), for `done` the comma-joined reasons; or null. */
  errorCode: string | null;
  /** Milliseconds, as measured by the step's actor (for `done`, since the company started); null when nothing was measured. */
  durationMs: number | null;
  extra: StageExtra;
  /**
   * Epoch milliseconds the stage ended: the time its actor reported, for a stage without an actor
   * (a skip, the deterministic extraction) the latest time the machine knew, for the deadline the
   * company's start plus its deadline; `logEvent` stamps its callers' events with its clock.
   */
  at: number;
}

/** Events that flow through the persistence sink. `runId` is the enrichment run's id. */
export type RunEvent =
  | {
      type: 'company.finished';
      runId: number;
      tenantId: TenantId;
      output: EnrichmentOutput;
      startedAt: number;
      finishedAt: number;
      /** What the company's vendor calls cost, in USD (company_enrichment_runs.cost_usd). Absent: 0. */
      costUsd?: number;
    }
  | {
      type: 'vendor.usage';
      runId: number;
      tenantId: TenantId;
      /**
       * The company whose calls these were, when they count with its result: they are kept only if
       * that result is the one recorded (a company's first recorded result wins, whichever worker
       * made it). Absent or null: not tied to a company's result (the Odoo export's calls, a host's own).
       */
      companyId?: number | null;
      vendor: string;
      calls: number;
      errors: number;
      retries: number;
      tokens: number;
      costUsd: number;
      /** Attempts that waited for a rate-limit turn (VENDOR_RATE_LIMITS), and how long in all, in ms. Absent: 0. */
      rateWaits?: number;
      rateWaitMs?: number;
      /** Retries the (tenant, vendor) retry budget refused. Absent: 0. */
      retriesRefused?: number;
      /** Stored paid answers reused instead of bought again, and what they had cost. Absent: 0. */
      reuses?: number;
      savedUsd?: number;
    }
  | ({ type: 'stage.event'; runId: number } & StageEvent)
  | ({ type: 'breaker.transition'; runId: number | null } & BreakerTransition)
  | {
      type: 'export.outcome';
      runId: number;
      tenantId: TenantId;
      companyId: number;
      exportStatus: ExportStatus;
      partnerId: number | null;
      detail: string | null;
    };
