import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import type { Company } from '../../src/domain/index.js';
import { createRuntime } from '../../src/runtime.js';
import { startFakeOdoo, type FakeOdoo } from '../../src/sim/fakeOdoo.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

/**
 * An interrupt during the Odoo export: a drain lets the company in flight finish and records it; an
 * abort (no grace left) cancels its calls and records nothing for it. Either way no company is marked
 * `disabled` for the interrupt's sake, and the resume exports every company.
 */
describe('interrupting the Odoo export', () => {
  let sim: Simulator;
  let odoo: FakeOdoo;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;

  beforeAll(async () => {
    [sim, odoo, db] = await Promise.all([startSimulator({ seed: 21 }), startFakeOdoo(), createTestDatabase(inject('databaseAdminUrl'))]);
    odoo.addDatabase('acme', { login: 'bot', apiKey: 'odoo-key' });
    odoo.setBehaviour('acme', { delayMs: 15 }); // each Odoo call takes a little while, so the export can be caught mid-company
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await Promise.all([sim?.close(), odoo?.close()]);
    await db?.drop();
  });

  const companies = (tenantId: number): Company[] =>
    Array.from({ length: 6 }, (_, i) => ({ tenantId, companyId: i + 1, name: `Export ${i}`, domain: `rich-export-${i}.example` }));
  const statuses = async (runId: number) =>
    (await pool.query<{ s: string | null }>('SELECT export_status AS s FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id', [runId])).rows.map((r) => r.s);

  it.each([
    ['drain (grace left): the company in flight is recorded', '60000'],
    ['abort (no grace): the company in flight gets no outcome', '0'],
  ])('%s; nothing is marked disabled, and the resume exports the rest', async (_name, grace) => {
    const tenantId = grace === '0' ? 52 : 51;
    const config = configFrom({
      ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', RUN_CONCURRENCY: '2', SHUTDOWN_GRACE_MS: grace,
      ODOO_URL: odoo.url, ODOO_DB: 'acme', ODOO_USERNAME: 'bot', ODOO_PASSWORD: 'odoo-key',
    });
    const runtime = await createRuntime(config);
    try {
      let interrupted = false;
      const handle = runtime.run({
        tenantId,
        companies: companies(tenantId),
        onProgress: (p) => {
          if (!interrupted && p.phase === 'exporting' && (p.exported.exported ?? 0) >= 1) {
            interrupted = true;
            // Interrupt while a call for the next company is in flight (received, not yet answered).
            void odoo.nextCall().then(() => handle.interrupt());
          }
        },
      });
      const result = await handle.done;
      expect(result.status).toBe('interrupted');
      const runId = result.runId as number;
      const after = await statuses(runId);
      expect(after).not.toContain('disabled');
      expect(after.filter((s) => s === 'exported').length).toBeGreaterThanOrEqual(1);
      expect(after.filter((s) => s === null).length).toBeGreaterThanOrEqual(1);

      const resumed = await runtime.run({ tenantId, resumeRunId: runId }).done;
      expect(resumed.status).toBe('completed');
      expect(await statuses(runId)).toEqual(Array(6).fill('exported'));
      const refs = odoo.database('acme').partners.all().filter((p) => p.is_company === true && String(p.ref).startsWith(`lead-enrich:${tenantId}:`));
      expect(refs).toHaveLength(6);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
