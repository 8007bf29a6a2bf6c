import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom, type Config } from '../../src/config/index.js';
import type { Company, MalformedRow } from '../../src/domain/index.js';
import { createRuntime } from '../../src/runtime.js';
import { createRunStore } from '../../src/adapters/postgres/runs.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

describe('a run whose input fails, holds duplicates or is interrupted while it is recorded', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let config: Config;

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 9 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', RUN_CONCURRENCY: '1' });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await sim?.close();
    await db?.drop();
  });

  it('ends failed, names the run, and leaves its row failed rather than running for ever', async () => {
    async function* broken(): AsyncGenerator<Company> {
      yield { tenantId: 4, companyId: 1, name: 'First', domain: 'rich-first.example' };
      throw new Error('input stream broke at byte 4096');
    }
    const runtime = await createRuntime(config);
    try {
      const result = await runtime.run({ tenantId: 4, companies: broken() }).done;
      expect(result.status).toBe('failed');
      expect(result.error).toContain('input stream broke');
      expect(result.runId).toEqual(expect.any(Number));
      const row = await pool.query<{ status: string; finished: boolean }>('SELECT status, finished_at IS NOT NULL AS finished FROM enrichment_runs WHERE run_id = $1', [result.runId]);
      expect(row.rows).toEqual([{ status: 'failed', finished: true }]);
    } finally {
      await runtime.close();
    }
  });

  it('duplicates found while the input is recorded are reported and counted as malformed rows; the rest is run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-dup-'));
    const path = join(dir, 'dups.csv');
    writeFileSync(path, 'company_id,name,domain\n1,One,rich-one.example\n1,Again,rich-again.example\nx,Bad,bad.example\n,Two,rich-two.example\n,Two,www.rich-two.example\n');
    const reported: { row: MalformedRow; input: string }[] = [];
    const runtime = await createRuntime(config);
    try {
      const result = await runtime.run({ tenantId: 7, input: { path }, onMalformedRow: (row, input) => reported.push({ row, input }) }).done;
      expect(result.status).toBe('completed');
      expect(reported.map(({ row, input }) => [input, row.line, row.reason]).sort()).toEqual([
        [path, 3, 'duplicate company_id 1 (first seen at line 2)'],
        [path, 4, 'company_id is not an integer: "x"'],
        [path, 6, 'duplicate company: same domain rich-two.example as line 5'],
      ]);
      const run = await createRunStore(pool).getRun(result.runId as number);
      expect(run?.params).toMatchObject({ inputRecorded: true, malformedRows: 3 });
      const rows = await pool.query('SELECT name FROM run_companies WHERE run_id = $1 ORDER BY position', [result.runId]);
      expect(rows.rows).toEqual([{ name: 'One' }, { name: 'Two' }]);
    } finally {
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an interrupt while the input is being recorded stops reading it; the run ends interrupted and unmarked, for a resume to record again', async () => {
    let pulled = 0;
    let handle: ReturnType<Awaited<ReturnType<typeof createRuntime>>['run']> | null = null;
    async function* endless(): AsyncGenerator<Company> {
      for (let id = 1; ; id += 1) {
        pulled += 1;
        if (id === 1200) handle?.interrupt(); // well into the input, which never ends by itself
        if (id % 100 === 0) await Promise.resolve();
        yield { tenantId: 5, companyId: id, name: `Endless ${id}`, domain: null };
      }
    }
    const runtime = await createRuntime(config);
    try {
      handle = runtime.run({ tenantId: 5, companies: endless() });
      const result = await handle.done;
      expect(result.status).toBe('interrupted');
      expect(pulled).toBeLessThan(1300);
      const run = await createRunStore(pool).getRun(result.runId as number);
      expect(run?.status).toBe('interrupted');
      expect(run?.params.inputRecorded).not.toBe(true);
      const rows = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [result.runId]);
      expect(rows.rows[0]?.n).toBe(0);
      // A resume without the companies would drop what was not recorded: refused, the run untouched.
      const refused = await runtime.run({ tenantId: 5, resumeRunId: result.runId as number }).done;
      expect([refused.status, refused.error]).toEqual(['failed', expect.stringContaining('resume it with its companies again')]);
      expect((await createRunStore(pool).getRun(result.runId as number))?.status).toBe('interrupted');
    } finally {
      await runtime.close();
    }
  });

  it('refuses a bad request before creating anything, and close() ends the runs still going as interrupted', async () => {
    const runtime = await createRuntime(config);
    const companies = Array.from({ length: 30 }, (_, i): Company => ({ tenantId: 6, companyId: i + 1, name: `Close ${i}`, domain: `rich-close-${i}.example` }));
    try {
      expect(() => runtime.run({ tenantId: 6, companies, concurrency: 0 })).toThrow(/concurrency must be an integer from 1 to 4096, got 0/);
      expect(() => runtime.run({ tenantId: 6 })).toThrow(/companies .* or resumeRunId/);
      expect((await pool.query('SELECT count(*)::int AS n FROM enrichment_runs WHERE tenant_id = 6')).rows).toEqual([{ n: 0 }]);

      let firstDone!: () => void;
      const started = new Promise<void>((resolve) => (firstDone = resolve));
      const handle = runtime.run({ tenantId: 6, companies, onProgress: (p) => p.done > 0 && firstDone() });
      await started;
      await runtime.close();
      const result = await handle.done;
      expect(result.status).toBe('interrupted');
      const run = await pool.query<{ status: string }>('SELECT status FROM enrichment_runs WHERE run_id = $1', [result.runId]);
      expect(run.rows).toEqual([{ status: 'interrupted' }]);
      expect(() => runtime.run({ tenantId: 6, companies })).toThrow(/runtime is closed/);
    } finally {
      await runtime.close();
    }
  });
});
