import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom, type Config } from '../../../src/config/index.js';
import { tryAdvisoryLock, tryRunLock, waitForAdvisoryLock } from '../../../src/adapters/postgres/runLock.js';
import { createRuntime } from '../../../src/runtime.js';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import { startSimulator, type Simulator } from '../../../src/sim/index.js';
import type { Company } from '../../../src/domain/index.js';
import { createTestDatabase } from '../../support/database.js';
import { startCuttingProxy } from '../../support/proxy.js';

describe('one process per run', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let config: Config;

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 5, latencyMs: 40 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', RUN_CONCURRENCY: '1' });
    pool = new pg.Pool({ connectionString: db.url, max: 3 });
  });
  afterAll(async () => {
    await pool?.end();
    await sim?.close();
    await db?.drop();
  });

  it('a run lock is exclusive across sessions until released', async () => {
    const runtime = await createRuntime(config); // applies the migrations
    await runtime.close();
    const first = await tryRunLock(pool, 424242);
    expect(first).not.toBeNull();
    expect(await tryRunLock(pool, 424242)).toBeNull();
    const other = await tryRunLock(pool, 424243);
    expect(other).not.toBeNull();
    await first?.release();
    await first?.release(); // idempotent
    const again = await tryRunLock(pool, 424242);
    expect(again).not.toBeNull();
    await Promise.all([again?.release(), other?.release()]);
  });

  it("an export waits for another run's export of the same tenant and Odoo, and stops waiting on interrupt", async () => {
    const runtime = await createRuntime(config); // applies the migrations
    await runtime.close();
    const key = 'lead-enrich:odoo:3:https://odoo.example|acme';
    const first = await tryAdvisoryLock(pool, key);
    expect(first).not.toBeNull();
    let waited = false;
    const second = waitForAdvisoryLock(pool, key, { pollMs: 2, onWait: () => (waited = true) });
    for (let i = 0; i < 500 && !waited; i++) await new Promise((r) => setTimeout(r, 2));
    expect(waited).toBe(true);
    expect(await tryAdvisoryLock(pool, key)).toBeNull(); // still the first's
    await first?.release();
    const taken = await second;
    expect(taken).not.toBeNull();

    const stop = new AbortController();
    const third = waitForAdvisoryLock(pool, key, { pollMs: 2, signal: stop.signal, onWait: () => stop.abort() });
    expect(await third).toBeNull();
    await taken?.release();
    const other = await tryAdvisoryLock(pool, key);
    expect(other).not.toBeNull(); // nothing left behind by the abandoned wait
    await other?.release();
  });

  it('a resume started while the run is still going is refused and changes nothing; after it ends, it may resume', async () => {
    const companies: Company[] = Array.from({ length: 8 }, (_, i) => ({ tenantId: 3, companyId: i + 1, name: `Lock ${i}`, domain: `rich-lock-${i}.example` }));
    const a = await createRuntime(config);
    const b = await createRuntime(config);
    try {
      let runId: number | null = null;
      const running = a.run({ tenantId: 3, companies, onProgress: (p) => (runId = p.runId) });
      for (let i = 0; i < 2000 && (runId === null || running.progress.done === 0); i++) await new Promise((r) => setTimeout(r, 5));
      expect(runId).not.toBeNull();

      const refused = await b.run({ tenantId: 3, resumeRunId: runId as unknown as number }).done;
      expect(refused.status).toBe('failed');
      expect(refused.error).toMatch(/another process/);

      const result = await running.done;
      expect(result.status).toBe('completed');
      const rows = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [runId]);
      expect(rows.rows[0]?.n).toBe(companies.length);
      expect((await createRunStore(pool).getRun(runId as unknown as number))?.status).toBe('completed');

      // Once the first process let go, a resume is allowed (and finds nothing left to do).
      const resumed = await b.run({ tenantId: 3, resumeRunId: runId as unknown as number }).done;
      expect(resumed.status).toBe('completed');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);

  it('a run whose lock another process takes while its connection is down stops at once, interrupted, its row left to that process; a resume completes it', async () => {
    const runtime0 = await createRuntime(config); // applies the migrations
    await runtime0.close();
    const url = new URL(db.url);
    const proxy = await startCuttingProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const runtime = await createRuntime(configFrom({ ...sim.overrides, DATABASE_URL: url.toString(), LOG_LEVEL: 'silent', RUN_CONCURRENCY: '1' }));
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    const poll = async (probe: () => Promise<boolean> | boolean): Promise<void> => {
      for (let i = 0; i < 3000 && !(await probe()); i++) await new Promise((r) => setTimeout(r, 5));
    };
    try {
      const companies: Company[] = Array.from({ length: 20 }, (_, i) => ({ tenantId: 6, companyId: i + 1, name: `Taken ${i}`, domain: `rich-taken-${i}.example` }));
      const handle = runtime.run({ tenantId: 6, companies });
      await poll(() => handle.progress.done >= 2);
      const runId = handle.progress.runId as number;

      // The database goes away for this process (every connection cut, new ones refused) ...
      proxy.refuse(true);
      proxy.cutAll();
      // ... and meanwhile another process takes the run (as `run --resume` would).
      const takeOver = async (): Promise<boolean> =>
        (await other.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`lead-enrich:run:${runId}`])).rows[0]?.ok === true;
      let taken = false;
      await poll(async () => (taken = await takeOver()));
      expect(taken).toBe(true);
      proxy.refuse(false);

      const result = await handle.done;
      expect(result).toMatchObject({ runId, status: 'interrupted' });
      const row = await pool.query<{ status: string; finished: boolean }>('SELECT status, finished_at IS NOT NULL AS finished FROM enrichment_runs WHERE run_id = $1', [runId]);
      expect(row.rows).toEqual([{ status: 'running', finished: false }]); // the holder's to finalise, not this process's
      const done = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [runId]);
      expect(done.rows[0]?.n).toBeLessThan(companies.length);

      // The other process lets go: the run resumes and completes, every company with exactly one row.
      await other.query('SELECT pg_advisory_unlock_all()');
      const resumed = await runtime.run({ tenantId: 6, resumeRunId: runId }).done;
      expect(resumed.status).toBe('completed');
      const rows = await pool.query<{ company_id: string }>('SELECT company_id FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id', [runId]);
      expect(rows.rows.map((r) => Number(r.company_id))).toEqual(companies.map((c) => c.companyId));
    } finally {
      await runtime.close();
      await other.end();
      await proxy.close();
    }
  }, 60_000);
});
