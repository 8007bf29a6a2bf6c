import type { Company, RunStore, TenantId } from '../../domain/index.js';
import { aggregatePercentiles, finaliseIfExported, finaliseRun } from './finalise.js';
import { pgJson, pgText } from './pgJson.js';
import type { Queryable } from './reconnect.js';
import { recordRunInputs } from './runInputs.js';

interface CompanyRow {
  tenant_id: number;
  company_id: string;
  name: string | null;
  domain: string | null;
}

const toCompany = (r: CompanyRow): Company => ({ tenantId: r.tenant_id, companyId: Number(r.company_id), name: r.name, domain: r.domain });

/**
 * The run store (RunStore, src/domain/store.ts) over a pool. All methods throw the driver's error on failure; over a
 * `reconnecting` pool (reconnect.ts) they first ride out a lost connection. Every statement here is
 * a read, an upsert or a keyed update, safe to repeat — but for a lost acknowledgement of
 * `createRun` (a second, empty run row) or `addMalformedRows` (counted twice).
 */
export function createRunStore(pool: Queryable): RunStore {
  const ensureTenant = async (tenantId: TenantId): Promise<void> => {
    await pool.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [tenantId, `tenant ${tenantId}`]);
  };

  const repo: RunStore = {
    ensureTenant,
    async upsertTenant(t) {
      await pool.query(
        `INSERT INTO tenants (tenant_id, name, odoo_url, odoo_db, odoo_login, odoo_key_env) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id) DO UPDATE SET name = EXCLUDED.name, odoo_url = EXCLUDED.odoo_url, odoo_db = EXCLUDED.odoo_db,
           odoo_login = EXCLUDED.odoo_login, odoo_key_env = EXCLUDED.odoo_key_env, updated_at = now()`,
        [t.tenantId, t.name, t.odooUrl, t.odooDb, t.odooLogin, t.odooKeyEnv],
      );
    },
    async getTenant(tenantId) {
      const { rows } = await pool.query('SELECT tenant_id, name, odoo_url, odoo_db, odoo_login, odoo_key_env FROM tenants WHERE tenant_id = $1', [tenantId]);
      const r = rows[0];
      return r ? { tenantId: r.tenant_id, name: r.name, odooUrl: r.odoo_url, odooDb: r.odoo_db, odooLogin: r.odoo_login, odooKeyEnv: r.odoo_key_env } : null;
    },
    async createRun(tenantId, params) {
      await ensureTenant(tenantId);
      const { rows } = await pool.query<{ run_id: string }>('INSERT INTO enrichment_runs (tenant_id, params) VALUES ($1, $2) RETURNING run_id', [tenantId, pgJson(params)]);
      return Number(rows[0]?.run_id);
    },
    async getRun(runId) {
      const { rows } = await pool.query('SELECT * FROM enrichment_runs WHERE run_id = $1', [runId]);
      const r = rows[0];
      return r
        ? { runId: Number(r.run_id), tenantId: r.tenant_id, status: r.status, phase: r.phase ?? 'enriching', degraded: r.degraded, odooExportDisabled: r.odoo_export_disabled, params: r.params, startedAt: r.started_at, finishedAt: r.finished_at }
        : null;
    },
    async recordRunInputs(runId, companies, options = {}) {
      const run = await repo.getRun(runId);
      if (!run) throw new Error(`run ${runId} does not exist`);
      return recordRunInputs(pool, runId, run.tenantId, companies, options);
    },
    async markRun(runId, status) {
      await pool.query(
        `UPDATE enrichment_runs SET status = $2, finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE coalesce(finished_at, now()) END WHERE run_id = $1`,
        [runId, status],
      );
    },
    async disableOdooExport(runId, reason) {
      await pool.query('UPDATE enrichment_runs SET odoo_export_disabled = true, odoo_export_disabled_reason = $2 WHERE run_id = $1', [runId, pgText(reason)]);
    },
    async *tenantCompanies(tenantId, options = {}) {
      const pageSize = options.pageSize ?? 1000;
      const { rows: cut } = await pool.query<{ cutoff: Date | null }>(`SELECT now() - make_interval(days => $1::int) AS cutoff`, [options.staleDays ?? null]);
      const cutoff = cut[0]?.cutoff ?? null;
      let after = -1;
      for (;;) {
        const { rows } = await pool.query<CompanyRow>(
          `SELECT tenant_id, company_id, name, domain FROM companies
           WHERE tenant_id = $1 AND company_id > $3 AND (last_enriched_at IS NULL OR ($2::timestamptz IS NOT NULL AND last_enriched_at <= $2::timestamptz))
           ORDER BY company_id LIMIT $4`,
          [tenantId, cutoff, after, pageSize],
        );
        for (const r of rows) yield toCompany(r);
        if (rows.length < pageSize) return;
        after = Number(rows[rows.length - 1]!.company_id);
      }
    },
    async countProgress(runId) {
      const { rows } = await pool.query<{ total: number; done: number; degraded: number }>(
        `SELECT (SELECT count(*)::int FROM run_companies WHERE run_id = $1) AS total,
                count(*)::int AS done, count(*) FILTER (WHERE degraded_reasons IS NOT NULL)::int AS degraded
           FROM company_enrichment_runs WHERE run_id = $1`,
        [runId],
      );
      return rows[0] ?? { total: 0, done: 0, degraded: 0 };
    },
    async markInputRecorded(runId) {
      await pool.query(`UPDATE enrichment_runs SET params = params || '{"inputRecorded": true}'::jsonb WHERE run_id = $1`, [runId]);
    },
    async addMalformedRows(runId, count) {
      await pool.query(
        `UPDATE enrichment_runs SET params = params || jsonb_build_object('malformedRows', coalesce((params->>'malformedRows')::int, 0) + $2::int) WHERE run_id = $1`,
        [runId, count],
      );
    },
    aggregatePercentiles: (runId) => aggregatePercentiles(pool, runId),
    finaliseRun: (runId, status) => finaliseRun(pool, runId, status),
    finaliseIfExported: (runId) => finaliseIfExported(pool, runId),
    async lastRunId(tenantId) {
      const { rows } = await pool.query<{ run_id: string | null }>('SELECT max(run_id) AS run_id FROM enrichment_runs WHERE tenant_id = $1', [tenantId]);
      return rows[0]?.run_id ? Number(rows[0].run_id) : null;
    },
  };
  return repo;
}
