import type pg from 'pg';
import { readCompanies } from '../../src/adapters/input.js';
import { createRunStore } from '../../src/adapters/postgres/runs.js';
import type { Company, InputCompany, MalformedRow } from '../../src/domain/index.js';

/** What reading and recording an input gave: a recorded company (its id settled), or a refused row. */
export type RecordedRecord = { company: Company } | { malformed: MalformedRow };

/** The run's recorded companies, in input order. */
export async function recordedCompanies(pool: pg.Pool, runId: number): Promise<Company[]> {
  const { rows } = await pool.query('SELECT tenant_id, company_id, name, domain FROM run_companies WHERE run_id = $1 ORDER BY position', [runId]);
  return rows.map((r) => ({ companyId: Number(r.company_id), tenantId: r.tenant_id, name: r.name, domain: r.domain }));
}

/**
 * Reads `path` and records it as the input of run `runId` (a new run of `tenantId` when absent),
 * the way a run does: the reader's refused rows and those recording refuses (duplicates) together,
 * by line, and the companies recorded, in input order.
 */
export async function recordInput(
  pool: pg.Pool,
  path: string,
  tenantId: number,
  options: { runId?: number; batchSize?: number; signal?: AbortSignal; rows?: (rows: AsyncIterable<InputCompany>) => AsyncIterable<InputCompany> } = {},
): Promise<{ runId: number; records: RecordedRecord[]; refused: MalformedRow[] }> {
  const store = createRunStore(pool);
  const runId = options.runId ?? (await store.createRun(tenantId, { inputPath: path }));
  const malformed: MalformedRow[] = [];
  const refused: MalformedRow[] = [];
  async function* rows(): AsyncGenerator<InputCompany> {
    for await (const record of readCompanies(path, { tenantId })) {
      if ('malformed' in record) malformed.push(record.malformed);
      else yield record;
    }
  }
  await store.recordRunInputs(runId, options.rows ? options.rows(rows()) : rows(), {
    onRefused: (row) => refused.push(row),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const bad = [...malformed, ...refused].sort((a, b) => a.line - b.line).map((m) => ({ malformed: m }));
  return { runId, records: [...(await recordedCompanies(pool, runId)).map((company) => ({ company })), ...bad], refused };
}
