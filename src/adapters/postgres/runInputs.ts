import type { Company, InputCompany, MalformedRow, RunStore, TenantId } from '../../domain/index.js';
import { settleCompanyId, type IdClaim, type IdRow } from '../input/companyIds.js';
import { pgJson } from './pgJson.js';
import { transaction, type Queryable } from './reconnect.js';

/**
 * Recording a run's input (RunStore.recordRunInputs): batch by batch, each row's id settled
 * against the ids the run already holds in run_companies (settleCompanyId), so that memory holds
 * one batch however large the input (docs/decisions/058-058-duplicate-ids-in-the-database.md). One run
 * is recorded by one process at a time (the run lock), so what a batch reads stays true until it
 * is written.
 */

/** A row of the batch being recorded, in input order. */
interface Pending extends IdRow {
  position: number;
  raw?: string;
}

/** A row the batch records: its settled id, its line and check. */
interface Recorded {
  company_id: number;
  name: string | null;
  domain: string | null;
  position: number;
  input_line: number | null;
  id_check: number | null;
}

const pendingOf = (item: Company | InputCompany, position: number): Pending =>
  'company' in item
    ? { company: item.company, line: item.line, derivation: item.derivation, position, ...(item.raw !== undefined ? { raw: item.raw } : {}) }
    : { company: item, line: null, derivation: { kind: 'explicit' }, position };

/**
 * The claims of the run on `ids`, into `claims` (null: free). One primary-key lookup per id, by a
 * LATERAL ... LIMIT 1 the planner cannot flatten: `company_id = ANY($2)` was planned, on the
 * statistics of a table still filling, as a scan of all the run's rows (52 ms against 0.8 ms for
 * 500 ids among 300k rows), which made recording quadratic in the input.
 */
async function loadClaims(pool: Queryable, runId: number, ids: number[], claims: Map<number, IdClaim | null>): Promise<void> {
  const { rows } = await pool.query<{ company_id: string; input_line: number | null; id_check: number | null }>(
    `SELECT q.id AS company_id, r.input_line, r.id_check
     FROM unnest($2::bigint[]) AS q(id)
     CROSS JOIN LATERAL (SELECT input_line, id_check FROM run_companies WHERE run_id = $1 AND company_id = q.id LIMIT 1) AS r`,
    [runId, ids],
  );
  for (const id of ids) claims.set(id, null);
  for (const r of rows) claims.set(Number(r.company_id), { line: r.input_line, check: r.id_check });
}

/**
 * Settles a batch in input order: one query for the ids its rows ask first, one more for each id
 * a collision probes. Returns the rows to record and the rows refused.
 */
async function settleBatch(pool: Queryable, runId: number, batch: Pending[]): Promise<{ recorded: Recorded[]; refused: MalformedRow[] }> {
  const claims = new Map<number, IdClaim | null>();
  await loadClaims(pool, runId, [...new Set(batch.map((p) => p.company.companyId))], claims);
  const claimOf = async (id: number): Promise<IdClaim | undefined> => {
    if (!claims.has(id)) await loadClaims(pool, runId, [id], claims);
    return claims.get(id) ?? undefined;
  };
  const recorded: Recorded[] = [];
  const refused: MalformedRow[] = [];
  for (const row of batch) {
    const outcome = await settleCompanyId(row, claimOf);
    if (outcome.kind === 'new') {
      claims.set(outcome.companyId, { line: row.line, check: outcome.check });
      const { name, domain } = row.company;
      recorded.push({ company_id: outcome.companyId, name, domain, position: row.position, input_line: row.line, id_check: outcome.check });
    } else if (outcome.kind === 'refused') {
      refused.push({ line: row.line as number, reason: outcome.reason, ...(row.raw !== undefined ? { raw: row.raw } : {}) });
    }
  }
  return { recorded, refused };
}

/** Writes the rows a batch records: their companies first (run_companies references them), then the run's rows. */
async function writeRecorded(pool: Queryable, runId: number, tenantId: TenantId, recorded: Recorded[]): Promise<void> {
  if (recorded.length === 0) return;
  const rows = pgJson(recorded);
  // Both inserts are upserts: a transaction cut by a lost connection is safe to run again.
  await transaction(pool, async (client) => {
    await client.query(
      `INSERT INTO companies (tenant_id, company_id, name, domain)
       SELECT $2::int, r.company_id, r.name, r.domain
       FROM jsonb_to_recordset($1::jsonb) AS r(company_id bigint, name text, domain text)
       ON CONFLICT (tenant_id, company_id) DO UPDATE SET name = coalesce(EXCLUDED.name, companies.name),
         domain = coalesce(EXCLUDED.domain, companies.domain), updated_at = now()`,
      [rows, tenantId],
    );
    await client.query(
      `INSERT INTO run_companies (run_id, tenant_id, company_id, position, name, domain, input_line, id_check)
       SELECT $2, $3, r.company_id, r.position, r.name, r.domain, r.input_line, r.id_check
       FROM jsonb_to_recordset($1::jsonb) AS r(company_id bigint, name text, domain text, position int, input_line int, id_check int)
       ORDER BY r.position
       ON CONFLICT DO NOTHING`,
      [rows, runId, tenantId],
    );
  });
}

/** {@link RunStore.recordRunInputs} over `pool`, for a run of `tenantId`. */
export async function recordRunInputs(pool: Queryable, runId: number, tenantId: TenantId, companies: Parameters<RunStore['recordRunInputs']>[1], options: Parameters<RunStore['recordRunInputs']>[2] = {}): Promise<number> {
  const size = options.batchSize ?? 500;
  const { rows } = await pool.query<{ next: number }>('SELECT coalesce(max(position) + 1, 0)::int AS next FROM run_companies WHERE run_id = $1', [runId]);
  let position = rows[0]?.next ?? 0;
  let count = 0;
  let batch: Pending[] = [];
  const write = async (): Promise<void> => {
    const { recorded, refused } = await settleBatch(pool, runId, batch);
    batch = [];
    await writeRecorded(pool, runId, tenantId, recorded);
    count += recorded.length;
    if (recorded.length > 0) await options.onRecorded?.(recorded.map((r) => r.company_id));
    // Reported once the batch is written: a batch that fails reports nothing.
    for (const row of refused) options.onRefused?.(row);
  };
  for await (const item of companies) {
    if (options.signal?.aborted) return count; // interrupted: the input is not recorded whole (a resume records it again)
    batch.push(pendingOf(item, position++));
    if (batch.length >= size) await write();
  }
  if (batch.length > 0 && !options.signal?.aborted) await write();
  return count;
}
