import type { Queryable } from './reconnect.js';
import type { RunRow } from '../../domain/index.js';

/** What `lead-enrich report --run <id>` prints. */
export interface RunReport {
  run: RunRow & { counts: { total: number; done: number; degraded: number; failed: number; exported: number; exportFailed: number }; odooExportDisabledReason: string | null };
  /** Companies per reason code, most frequent first. */
  reasons: { reason: string; companies: number }[];
  /** Companies per export_status (`pending` when none yet). */
  exports: { exportStatus: string; companies: number }[];
  vendors: { vendor: string; calls: number; errors: number; retries: number; tokens: number; costUsd: number; rateWaits: number; rateWaitMs: number; retriesRefused: number; reuses: number; savedUsd: number }[];
  breakerTransitions: { vendor: string; from: string; to: string; at: Date; reason: string }[];
  stages: { stage: string; n: number; p50: number; p90: number; p95: number; p99: number; maxMs: number }[];
  /** Events the database refused for their content (should be empty). */
  rejectedEvents: number;
  /** What the companies' vendor calls cost: in all, on average, and the costliest companies (at most 5). */
  cost: { totalUsd: number; perCompanyUsd: number; top: { companyId: number; costUsd: number }[] };
  /** The run's RUN_BUDGET_USD (null: none), what it spent fleet-wide (run_spend), and the companies with a paid step skipped. */
  budget: { budgetUsd: number | null; spentUsd: number; companiesSkipped: number };
}

/**
 * Reads everything `report --run` shows for one run.
 *
 * @returns null when the run does not exist
 */
export async function runReport(pool: Pick<Queryable, 'query'>, runId: number): Promise<RunReport | null> {
  const runs = await pool.query('SELECT * FROM enrichment_runs WHERE run_id = $1', [runId]);
  const r = runs.rows[0];
  if (!r) return null;
  const [reasons, exports, vendors, transitions, stages, rejected, live, cost, spend] = await Promise.all([
    pool.query(`SELECT reason, count(*)::int AS companies FROM company_enrichment_runs, unnest(reasons) AS reason
                WHERE run_id = $1 GROUP BY reason ORDER BY companies DESC, reason`, [runId]),
    pool.query(`SELECT coalesce(export_status, 'pending') AS export_status, count(*)::int AS companies FROM company_enrichment_runs
                WHERE run_id = $1 GROUP BY 1 ORDER BY companies DESC, 1`, [runId]),
    pool.query(`SELECT vendor, calls, errors, retries, tokens, cost_usd, rate_waits, rate_wait_ms, retries_refused, reuses, saved_usd FROM run_vendor_usage WHERE run_id = $1 ORDER BY vendor`, [runId]),
    pool.query(`SELECT vendor, from_state, to_state, at, reason FROM breaker_transitions WHERE run_id = $1 ORDER BY at, id`, [runId]),
    pool.query(`SELECT stage, n, p50, p90, p95, p99, max_ms FROM run_stage_stats WHERE run_id = $1 ORDER BY stage`, [runId]),
    pool.query(`SELECT count(*)::int AS n FROM sink_rejected_events WHERE run_id = $1`, [runId]),
    // The counts as of now, from the rows (the same as finaliseRun stores): a run still going, or
    // killed, has no stored counts yet, and its report must not show 0 companies next to its reasons.
    pool.query<{ inputs: number; done: number; degraded: number; failed: number; exported: number; export_failed: number }>(
      `SELECT (SELECT count(*) FROM run_companies WHERE run_id = $1)::int AS inputs, count(*)::int AS done,
              count(*) FILTER (WHERE cardinality(reasons) > 0)::int AS degraded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE export_status IN ('exported', 'exported_stripped'))::int AS exported,
              count(*) FILTER (WHERE export_status = 'failed')::int AS export_failed
         FROM company_enrichment_runs WHERE run_id = $1`,
      [runId],
    ),
    pool.query<{ total: string | null; avg: string | null; top: { company_id: number; cost_usd: number }[] | null }>(
      `SELECT sum(cost_usd) AS total, avg(cost_usd) AS avg,
              (SELECT json_agg(t) FROM (SELECT company_id, cost_usd::float8 AS cost_usd FROM company_enrichment_runs
                 WHERE run_id = $1 AND cost_usd > 0 ORDER BY cost_usd DESC, company_id LIMIT 5) t) AS top
         FROM company_enrichment_runs WHERE run_id = $1`,
      [runId],
    ),
    pool.query<{ spent: string | null; skipped: number }>(
      `SELECT (SELECT spent_usd FROM run_spend WHERE run_id = $1) AS spent,
              (SELECT count(*)::int FROM company_enrichment_runs WHERE run_id = $1 AND EXISTS (SELECT FROM unnest(reasons) x WHERE x LIKE 'BUDGET_EXHAUSTED:%')) AS skipped`,
      [runId],
    ),
  ]);
  const budget = r.params?.budgetUsd;
  const c = live.rows[0] ?? { inputs: 0, done: 0, degraded: 0, failed: 0, exported: 0, export_failed: 0 };
  return {
    run: {
      runId: Number(r.run_id), tenantId: r.tenant_id, status: r.status, phase: r.phase ?? 'enriching', degraded: r.degraded, odooExportDisabled: r.odoo_export_disabled,
      odooExportDisabledReason: r.odoo_export_disabled_reason, params: r.params, startedAt: r.started_at, finishedAt: r.finished_at,
      counts: { total: Math.max(c.inputs, c.done), done: c.done, degraded: c.degraded, failed: c.failed, exported: c.exported, exportFailed: c.export_failed },
    },
    reasons: reasons.rows.map((x) => ({ reason: x.reason, companies: x.companies })),
    exports: exports.rows.map((x) => ({ exportStatus: x.export_status, companies: x.companies })),
    vendors: vendors.rows.map((x) => ({ vendor: x.vendor, calls: Number(x.calls), errors: Number(x.errors), retries: Number(x.retries), tokens: Number(x.tokens), costUsd: Number(x.cost_usd),
      rateWaits: Number(x.rate_waits), rateWaitMs: Number(x.rate_wait_ms), retriesRefused: Number(x.retries_refused),
      reuses: Number(x.reuses), savedUsd: Number(x.saved_usd) })),
    breakerTransitions: transitions.rows.map((x) => ({ vendor: x.vendor, from: x.from_state, to: x.to_state, at: x.at, reason: x.reason })),
    stages: stages.rows.map((x) => ({ stage: x.stage, n: x.n, p50: x.p50, p90: x.p90, p95: x.p95, p99: x.p99, maxMs: x.max_ms })),
    rejectedEvents: rejected.rows[0]?.n ?? 0,
    cost: {
      totalUsd: Number(cost.rows[0]?.total ?? 0),
      perCompanyUsd: Number(cost.rows[0]?.avg ?? 0),
      top: (cost.rows[0]?.top ?? []).map((t) => ({ companyId: Number(t.company_id), costUsd: Number(t.cost_usd) })),
    },
    budget: { budgetUsd: typeof budget === 'number' ? budget : null, spentUsd: Number(spend.rows[0]?.spent ?? 0), companiesSkipped: spend.rows[0]?.skipped ?? 0 },
  };
}
