import type { RunSpend, RunSpendPort } from '../../domain/quotas.js';
import type { Queryable } from './reconnect.js';

/** The {@link RunSpendPort} on `run_spend` (migrations/010_vendor_quotas.sql) and the run's `params.budgetUsd`. */
export function createRunSpend(db: Pick<Queryable, 'query'>): RunSpendPort {
  const stateOf = (rows: { spent: string | null; budget: string | null }[]): RunSpend => {
    const r = rows[0];
    const budget = r?.budget === null || r?.budget === undefined ? null : Number(r.budget);
    return { budgetUsd: budget !== null && Number.isFinite(budget) ? budget : null, spentUsd: Number(r?.spent ?? 0) };
  };
  return {
    async state(runId) {
      const { rows } = await db.query<{ spent: string | null; budget: string | null }>(
        `SELECT (SELECT spent_usd FROM run_spend WHERE run_id = $1) AS spent, (SELECT params->>'budgetUsd' FROM enrichment_runs WHERE run_id = $1) AS budget`,
        [runId],
      );
      return stateOf(rows);
    },
    async spend(runId, usd) {
      const { rows } = await db.query<{ spent: string | null; budget: string | null }>(
        `WITH up AS (
           INSERT INTO run_spend (run_id, spent_usd) VALUES ($1, $2)
           ON CONFLICT (run_id) DO UPDATE SET spent_usd = run_spend.spent_usd + EXCLUDED.spent_usd, updated_at = now()
           RETURNING spent_usd)
         SELECT (SELECT spent_usd FROM up) AS spent, (SELECT params->>'budgetUsd' FROM enrichment_runs WHERE run_id = $1) AS budget`,
        [runId, usd],
      );
      return stateOf(rows);
    },
  };
}
