import type { FinalRunStatus, RunCounts, StageStats } from '../../domain/index.js';
import { transaction, type Queryable } from './reconnect.js';

/**
 * Finalising a run in SQL (docs/decisions/038): stage percentiles from run_event_logs and the
 * company rows, the run's counts, degraded flag and status, and the pruning of the sink's ledger.
 */

/**
 * Computes run_stage_stats for a run in SQL (`percentile_cont`, continuous interpolation) over the
 * durations of its run_event_logs rows, per stage, plus stage `company` over each company's
 * finished_at − started_at. Replaces earlier stats of the run, so it can be run again.
 */
export async function aggregatePercentiles(pool: Queryable, runId: number): Promise<StageStats[]> {
  return transaction(pool, (client) => percentilesOn(client, runId));
}

type On = Pick<Queryable, 'query'>;

/** The percentile statements on one connection (a transaction's). */
async function percentilesOn(client: On, runId: number): Promise<StageStats[]> {
  await client.query('DELETE FROM run_stage_stats WHERE run_id = $1', [runId]);
  const { rows } = await client.query<{ stage: string; n: number; p50: number; p90: number; p95: number; p99: number; max_ms: number }>(
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
  return rows
    .map((r) => ({ stage: r.stage, n: Number(r.n), p50: r.p50, p90: r.p90, p95: r.p95, p99: r.p99, maxMs: r.max_ms }))
    .sort((x, y) => x.stage.localeCompare(y.stage));
}

/** The run's counts, degraded flag, status and finished_at, from its company rows. */
async function countsOn(client: On, runId: number, status: FinalRunStatus): Promise<RunCounts> {
  const { rows } = await client.query<RunCountsRow>(
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
  return { total: row.total, done: row.done, degraded: row.degraded, failed: row.failed, exported: row.exported, exportFailed: row.export_failed, runDegraded: row.run_degraded };
}

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
  const counts = await countsOn(pool, runId, status);
  await pruneSinkLedger(pool);
  return counts;
}

/**
 * {@link RunStore.finaliseIfExported}, in one transaction: the claim of phase `finalising` (the
 * UPDATE locks the run's row, so a second claimer waits and then finds the phase moved on), the
 * percentiles, the counts and status, phase `done`. A process dying half-way rolls it all back,
 * and the next one to finish the export does it again.
 */
export async function finaliseIfExported(pool: Queryable, runId: number): Promise<RunCounts | null> {
  const counts = await transaction(pool, async (client) => {
    const { rows } = await client.query(
      `UPDATE enrichment_runs r SET phase = 'finalising'
        WHERE r.run_id = $1 AND r.phase = 'exporting' AND r.status <> 'failed'
          AND NOT EXISTS (SELECT 1 FROM company_enrichment_runs c WHERE c.run_id = r.run_id AND c.export_status IS NULL)
        RETURNING r.run_id`,
      [runId],
    );
    if (rows.length === 0) return null;
    await percentilesOn(client, runId);
    const result = await countsOn(client, runId, 'completed');
    await client.query(`UPDATE enrichment_runs SET phase = 'done' WHERE run_id = $1`, [runId]);
    return result;
  });
  if (counts) await pruneSinkLedger(pool);
  return counts;
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

