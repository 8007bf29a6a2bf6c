import type { BreakerTransition, Clock, FinalRunStatus, Logger, RunCounts, RunEvent, RunStore, StageEvent, StageStats, TenantId } from '../domain/index.js';
import type { Sink } from './sink.js';

/** Optional details of one stage event (DESIGN.md "Observability"). */
export interface LogEventDetails {
  companyId?: number | null;
  /** Reason or error code, e.g. `TAVILY_FAIL` or `rate_limited`. */
  errorCode?: string | null;
  /** Duration of the stage, in milliseconds; feeds run_stage_stats. */
  durationMs?: number | null;
  /** Free-form details; by convention `fallback_taken` (string or null) for stage finishes. */
  extra?: StageEvent['extra'];
}

/** Usage increments of one or more vendor calls; absent fields count 0. */
export interface VendorUsageIncrement {
  calls?: number;
  errors?: number;
  retries?: number;
  tokens?: number;
  /** US dollars. */
  costUsd?: number;
  /** Attempts that waited for a rate-limit turn, and the milliseconds waited. */
  rateWaits?: number;
  rateWaitMs?: number;
  /** Retries the retry budget refused. */
  retriesRefused?: number;
  /** Stored answers reused, and what they had cost. */
  reuses?: number;
  savedUsd?: number;
  /** The company whose calls these were, counted only with the result recorded for it (RunEvent `vendor.usage`). */
  companyId?: number | null;
}

/** The Feature 8 hooks, all pushing into the sink (they wait when its buffer is full). */
export interface Observability {
  /** One stage finish or error → a run_event_logs row, stamped with the hooks' clock: {@link Observability.recordStage} of the StageEvent it builds. */
  logEvent(runId: number, tenantId: TenantId, stage: string, event: string, status: string, details?: LogEventDetails): Promise<void>;
  /**
   * One stage event as it is (the enrichment machine's, with its own time) → a run_event_logs row;
   * logged like {@link Observability.logEvent}'s.
   */
  recordStage(runId: number, stage: StageEvent): Promise<void>;
  /** Adds to run_vendor_usage (run, tenant, vendor). */
  bumpVendor(runId: number, tenantId: TenantId, vendor: string, usage: VendorUsageIncrement): Promise<void>;
  /**
   * The same hooks, collecting instead of pushing: nothing reaches the sink until `commit`, which
   * hands everything collected (and `last`) to the sink as one group, committed in one transaction
   * (a company's stage events, usage and result: a crash never leaves part of them written, so a
   * resumed run neither repeats stage rows nor counts usage twice).
   */
  group(): ObservabilityGroup;
  /** Persists one breaker transition (runId null when outside a run). */
  recordTransition(transition: BreakerTransition, runId: number | null): Promise<void>;
  /** Flushes the sink, then computes the run's stage percentiles (run_stage_stats). */
  aggregatePercentiles(runId: number): Promise<StageStats[]>;
  /** Flushes the sink once, then finalises the run (percentiles, counts, degraded flag, status). */
  finaliseRun(runId: number, status?: FinalRunStatus): Promise<RunCounts>;
}

/** A group of hook calls committed together ({@link Observability.group}). */
export interface ObservabilityGroup {
  logEvent: Observability['logEvent'];
  recordStage: Observability['recordStage'];
  bumpVendor: Observability['bumpVendor'];
  /** Pushes the collected events, then `last`, as one group; waits when the sink's buffer is full. */
  commit(...last: RunEvent[]): Promise<void>;
}

/**
 * Builds the hooks over the sink and the run store (percentiles and finalisation are computed in the
 * database, once the sink has committed what it holds). `clock` stamps stage events (epoch ms);
 * `logger`, when given, also receives every stage event at debug level (errors at warn).
 */
export function createObservability(deps: { sink: Sink; store: Pick<RunStore, 'aggregatePercentiles' | 'finaliseRun'>; clock: Clock; logger?: Logger }): Observability {
  const { sink, store, clock, logger } = deps;
  const hooksOver = (push: (event: RunEvent) => Promise<void>): Pick<Observability, 'logEvent' | 'recordStage' | 'bumpVendor'> => {
    const recordStage = (runId: number, e: StageEvent): Promise<void> => {
      // The log line's fields are built only when a line is written (warn for errors, debug else).
      if (logger && (e.errorCode || logger.isLevelEnabled('debug'))) {
        const fields = {
          runId, tenantId: e.tenantId, companyId: e.companyId ?? undefined, stage: e.stage, event: e.event, status: e.status,
          errorCode: e.errorCode, durationMs: e.durationMs ?? undefined, ...e.extra,
        };
        if (e.errorCode) logger.warn(fields, `${e.stage} ${e.event}`);
        else logger.debug(fields, `${e.stage} ${e.event}`);
      }
      return push({ type: 'stage.event', runId, ...e });
    };
    return {
      recordStage,
      logEvent: (runId, tenantId, stage, event, status, details = {}) =>
        recordStage(runId, {
          tenantId, companyId: details.companyId ?? null, stage, event, status, errorCode: details.errorCode ?? null,
          durationMs: details.durationMs ?? null, extra: details.extra ?? {}, at: clock.now(),
        }),
      bumpVendor: (runId, tenantId, vendor, usage) =>
        push({
          type: 'vendor.usage', runId, tenantId, companyId: usage.companyId ?? null, vendor, calls: usage.calls ?? 0, errors: usage.errors ?? 0,
          retries: usage.retries ?? 0, tokens: usage.tokens ?? 0, costUsd: usage.costUsd ?? 0,
          rateWaits: usage.rateWaits ?? 0, rateWaitMs: usage.rateWaitMs ?? 0, retriesRefused: usage.retriesRefused ?? 0,
          reuses: usage.reuses ?? 0, savedUsd: usage.savedUsd ?? 0,
        }),
    };
  };
  return {
    async aggregatePercentiles(runId) {
      await sink.flush();
      return store.aggregatePercentiles(runId);
    },
    async finaliseRun(runId, status) {
      await sink.flush();
      return store.finaliseRun(runId, status ?? 'completed');
    },
    ...hooksOver((event) => sink.push(event)),
    group() {
      const collected: RunEvent[] = [];
      return {
        ...hooksOver((event) => {
          collected.push(event);
          return Promise.resolve();
        }),
        commit: (...last) => sink.pushAll(last.length > 0 ? collected.concat(last) : collected),
      };
    },
    recordTransition(transition, runId) {
      logger?.info({ ...transition, runId }, `breaker ${transition.vendor} ${transition.from} → ${transition.to}`);
      return sink.push({ type: 'breaker.transition', runId, ...transition });
    },
  };
}
