import type { CompanyFacts, Contact, EmailRecord } from './company.js';
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

/** Events that flow through the persistence sink. `runId` is the enrichment run's id. */
export type RunEvent =
  | { type: 'company.finished'; runId: number; tenantId: TenantId; output: EnrichmentOutput; startedAt: number; finishedAt: number }
  | {
      type: 'vendor.usage';
      runId: number;
      tenantId: TenantId;
      vendor: string;
      calls: number;
      errors: number;
      retries: number;
      tokens: number;
      costUsd: number;
    }
  | {
      type: 'stage.event';
      runId: number;
      tenantId: TenantId;
      companyId: number | null;
      stage: string;
      event: string;
      status: string;
      errorCode: string | null;
      durationMs: number | null;
      extra: Record<string, unknown>;
      at: number;
    }
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
