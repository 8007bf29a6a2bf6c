/**
 * What the end-to-end tests read back from PostgreSQL, and a poll for a database condition (the
 * child is another process: the database is the event the test waits for).
 */
import type pg from 'pg';

/** One company_enrichment_runs row, as the tests check it. */
export interface ResultRow {
  companyId: number;
  status: string;
  degradedReasons: string | null;
  exportStatus: string | null;
}

/** The runs of a tenant, oldest first. */
export async function runsOf(pool: pg.Pool, tenantId: number): Promise<{ runId: number; status: string; odooExportDisabled: boolean }[]> {
  const { rows } = await pool.query('SELECT run_id, status, odoo_export_disabled FROM enrichment_runs WHERE tenant_id = $1 ORDER BY run_id', [tenantId]);
  return rows.map((r) => ({ runId: Number(r.run_id), status: String(r.status), odooExportDisabled: r.odoo_export_disabled === true }));
}

/** Every result row of a run, by company id. */
export async function resultRows(pool: pg.Pool, runId: number): Promise<ResultRow[]> {
  const { rows } = await pool.query(
    'SELECT company_id, status, degraded_reasons, export_status FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id',
    [runId],
  );
  return rows.map((r) => ({ companyId: Number(r.company_id), status: String(r.status), degradedReasons: r.degraded_reasons, exportStatus: r.export_status }));
}

/** Number of result rows of a run. */
export async function countRows(pool: pg.Pool, runId: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [runId]);
  return rows[0]?.n ?? 0;
}

/** Company ids recorded as the run's input. */
export async function inputIds(pool: pg.Pool, runId: number): Promise<number[]> {
  const { rows } = await pool.query('SELECT company_id FROM run_companies WHERE run_id = $1 ORDER BY company_id', [runId]);
  return rows.map((r) => Number(r.company_id));
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined, and resolves with
 * it; rejects after `timeoutMs` (generous: the machine is shared) or when `abandon` settles first.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number; what: string; abandon?: Promise<unknown> }): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let abandoned = false;
  void options.abandon?.then(() => (abandoned = true));
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (abandoned) throw new Error(`gave up waiting for ${options.what}: the child exited first`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/** The ids 1..n, in order. */
export const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
