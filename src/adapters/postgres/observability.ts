import type { Logger } from 'pino';
import type { BreakerTransition, Clock, RunEvent, StageEvent, TenantId } from '../../domain/index.js';
import type { Sink } from '../../streams/sink.js';
import { transaction, type Queryable } from './reconnect.js';

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
  /** Flushes the sink, then {@link aggregatePercentiles} for the run. */
  aggregatePercentiles(runId: number): Promise<StageStats[]>;
  /** Flushes the sink, then {@link finaliseRun}. */
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
 * Builds the hooks over a sink and the pool it writes to. `clock` stamps `logEvent`'s stage events (epoch ms);
 * `logger`, when given, also receives every stage event at debug level (errors at warn).
 */
export function createObservability(deps: { sink: Sink; pool: Queryable; clock: Clock; logger?: Logger }): Observability {
  const { sink, pool, clock, logger } = deps;
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
          type: 'vendor.usage', runId, tenantId, vendor, calls: usage.calls ?? 0, errors: usage.errors ?? 0,
          retries: usage.retries ?? 0, tokens: usage.tokens ?? 0, costUsd: usage.costUsd ?? 0,
        }),
    };
  };
  return {
    async aggregatePercentiles(runId) {
      await sink.flush();
      return aggregatePercentiles(pool, runId);
    },
    async finaliseRun(runId, status) {
      await sink.flush();
      return finaliseRun(pool, runId, status);
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

/**
 * Computes run_stage_stats for a run in SQL (`percentile_cont`, continuous interpolation) over the
 * durations of its run_event_logs rows, per stage, plus stage `company` over each company's
 * finished_at − started_at. Replaces earlier stats of the run, so it can be run again.
 */
export async function aggregatePercentiles(pool: Queryable, runId: number): Promise<StageStats[]> {
  const rows = await transaction(pool, async (client) => {
    await client.query('DELETE FROM run_stage_stats WHERE run_id = $1', [runId]);
    const result = await client.query<{ stage: string; n: number; p50: number; p90: number; p95: number; p99: number; max_ms: number }>(
      `INSERT INTO run_stage_stats (run_id, tenant_id, stage, n, p50, p90, p95, p99, max_ms)
       SELECT run_id, tenant_id, stage, count(*),
         percentile_cont(0.50) WITHIN GROUP (ORDER BY d), percentile_cont(0.90) WITHIN GROUP (ORDER BY d),
         percentile_cont(0.95) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP (ORDER BY d), max(d)
       FROM (
         SELECT run_id, tenant_id, stage, duration_ms AS d FROM run_event_logs WHERE run_id = $1 AND duration_ms IS NOT NULL
         UNION ALL
         SELECT run_id, tenant_id, 'company', extract(epoch FROM finished_at - started_at) * 1000
         FROM company_enrichment_runs WHERE run_id = $1
       ) s
       GROUP BY run_id, tenant_id, stage
       RETURNING stage, n, p50, p90, p95, p99, max_ms`,
      [runId],
    );
    return result.rows;
  });
  return rows
    .map((r) => ({ stage: r.stage, n: Number(r.n), p50: r.p50, p90: r.p90, p95: r.p95, p99: r.p99, maxMs: r.max_ms }))
    .sort((a, b) => a.stage.localeCompare(b.stage));
}

/** Final status of a run. */
export type FinalRunStatus = 'completed' | 'interrupted' | 'failed';

/**
 * Finalises a run once its events are committed (flush the sink first): counts from its company
 * rows, `degraded` = some company of the run has a reason, percentiles, status and finished_at;
 * then prunes the sink's ledger ({@link pruneSinkLedger}).
 *
 * @returns the run's counts as stored
 * @throws Error when the run does not exist
 */
export async function finaliseRun(pool: Queryable, runId: number, status: FinalRunStatus = 'completed'): Promise<RunCounts> {
  await aggregatePercentiles(pool, runId);
  const { rows } = await pool.query<RunCountsRow>(
    `UPDATE enrichment_runs r SET status = $2, finished_at = coalesce(r.finished_at, now()),
       companies_total = greatest((SELECT count(*) FROM run_companies WHERE run_id = r.run_id), c.done),
       companies_done = c.done, companies_degraded = c.degraded, companies_failed = c.failed,
       companies_exported = c.exported, companies_export_failed = c.export_failed,
       degraded = c.degraded > 0
     FROM (SELECT count(*)::int AS done,
             count(*) FILTER (WHERE cardinality(reasons) > 0)::int AS degraded,
             count(*) FILTER (WHERE status = 'failed')::int AS failed,
             count(*) FILTER (WHERE export_status IN ('exported', 'exported_stripped'))::int AS exported,
             count(*) FILTER (WHERE export_status = 'failed')::int AS export_failed
           FROM company_enrichment_runs WHERE run_id = $1) c
     WHERE r.run_id = $1
     RETURNING r.companies_total AS total, r.companies_done AS done, r.companies_degraded AS degraded,
       r.companies_failed AS failed, r.companies_exported AS exported, r.companies_export_failed AS export_failed, r.degraded AS run_degraded`,
    [runId, status],
  );
  const row = rows[0];
  if (!row) throw new Error(`run ${runId} does not exist`);
  await pruneSinkLedger(pool);
  return { total: row.total, done: row.done, degraded: row.degraded, failed: row.failed, exported: row.exported, exportFailed: row.export_failed, runDegraded: row.run_degraded };
}

/** How long a `sink_batches` row is kept: far longer than any batch can stay in retry. */
export const SINK_LEDGER_RETENTION_DAYS = 7;

/**
 * Deletes the sink's ledger rows (`sink_batches`) older than `retentionDays`; returns how many.
 * A ledger row only matters while its batch may still be retried — a lost acknowledgement is
 * retried within the sink's backoff (at most a few seconds once the database answers) — so a row
 * days old guards nothing, and without pruning the table grows by one row per batch forever.
 * Run by {@link finaliseRun}, once per run.
 */
export async function pruneSinkLedger(pool: Queryable, retentionDays = SINK_LEDGER_RETENTION_DAYS): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM sink_batches WHERE applied_at < now() - make_interval(days => $1)`, [retentionDays]);
  return rowCount ?? 0;
}

interface RunCountsRow {
  total: number;
  done: number;
  degraded: number;
  failed: number;
  exported: number;
  export_failed: number;
  run_degraded: boolean;
}

/** A run's counts after {@link finaliseRun}. */
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
