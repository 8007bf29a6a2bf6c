/**
 * A run keeps nothing per company once the company is committed: the memory of a run of a million
 * companies is that of a run of ten thousand (issue 12). Checked with weak references to every
 * company's result, against the simulators and a fresh database: at three quarters of a run, once
 * the first half's rows are committed and after a full GC, none of the first half's results may still be reachable
 * (a per-run list, a listener left on the run's signal or an actor never let go of would keep them).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom, createRuntime, type Company, type Config } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TENANT = 77;
const COMPANIES = 400;
const companies = (): Company[] =>
  Array.from({ length: COMPANIES }, (_, i) => ({ tenantId: TENANT, companyId: 5000 + i, name: `Memory Co ${i}`, domain: `rich-memory-${i}.example` }));

/** Lets pending callbacks run, then collects everything unreachable (WeakRefs are cleared by it). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

describe('memory of a run (real PostgreSQL, simulated vendors)', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let config: Config;

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 13 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', ODOO_URL: '', SINK_FLUSH_MS: '5' });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('lets go of every committed company\'s result while the run goes on', async () => {
    const runtime = await createRuntime(config);
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    /** Resolves once the first `n` companies of the input have their row (polled; no fixed wait). */
    const committed = async (n: number): Promise<void> => {
      for (;;) {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE tenant_id = $1 AND company_id < $2', [TENANT, 5000 + n]);
        if ((rows[0]?.n ?? 0) >= n) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    try {
      const results: WeakRef<object>[] = [];
      const subscription = runtime.events$.subscribe((event) => {
        if (event.type === 'company.finished') results.push(new WeakRef(event.output));
      });
      let check: Promise<{ firstHalf: number; alive: number }> | null = null;
      const handle = runtime.run({
        tenantId: TENANT,
        companies: companies(),
        concurrency: 16,
        onProgress: (p) => {
          if (check !== null || p.done < (COMPANIES * 3) / 4) return;
          const firstHalf = results.slice(0, COMPANIES / 2);
          // Once the first half's rows are in the database, their results are committed: what is
          // still reachable then is kept by the run.
          check = committed(COMPANIES / 2).then(async () => {
            await collect();
            return { firstHalf: firstHalf.length, alive: firstHalf.filter((r) => r.deref() !== undefined).length };
          });
        },
      });
      const output = await handle.done;
      subscription.unsubscribe();
      expect(output.status).toBe('completed');
      expect(check).not.toBeNull();
      const { firstHalf, alive } = await (check as unknown as Promise<{ firstHalf: number; alive: number }>);
      expect(firstHalf).toBe(COMPANIES / 2);
      expect(alive).toBe(0);
    } finally {
      await runtime.close();
      await pool.end();
    }
  });
});
