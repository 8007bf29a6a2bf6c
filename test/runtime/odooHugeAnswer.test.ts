/**
 * A run whose tenant's Odoo answers every call with a body larger than ODOO_MAX_RESPONSE_BYTES (a
 * hostile server on loopback): the XML-RPC call fails bad_response at the configured cap, the
 * tenant's export is disabled with that reason, and the run completes with every company — instead
 * of buffering the body (a never-ending one until the process died with `RangeError: Invalid string
 * length`, the run left `running`; client.transport.test.ts streams one without end). The body,
 * 1 MiB, is within the default 4 MiB cap: only the configured 256 KiB refuses it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom, createRuntime, type Company, type Config } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';
import { startHostileOdoo, type HostileOdoo } from '../support/odoo/hostile.js';

const TENANT = 612;

describe('an Odoo answering past ODOO_MAX_RESPONSE_BYTES (runtime, simulated vendors, real PostgreSQL)', () => {
  let sim: Simulator;
  let hostile: HostileOdoo;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let config: Config;

  beforeAll(async () => {
    [sim, hostile, db] = await Promise.all([startSimulator({ seed: 9 }), startHostileOdoo({ bodyBytes: 1024 * 1024 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({
      ...sim.overrides,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      ODOO_URL: hostile.url,
      ODOO_DB: 'acme',
      ODOO_USERNAME: 'bot',
      ODOO_PASSWORD: 'hostile-odoo-key-77',
      ODOO_MAX_RESPONSE_BYTES: String(256 * 1024),
    });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await Promise.all([sim?.close(), hostile?.close()]);
    await db?.drop();
  });

  it('fails the call bad_response at the cap, disables the export with that reason, and completes the run', async () => {
    const companies: Company[] = [1, 2, 3].map((i) => ({ tenantId: TENANT, companyId: i, name: `Huge ${i}`, domain: `rich-huge-${i}.example` }));
    const runtime = await createRuntime(config);
    let result;
    try {
      result = await runtime.run({ tenantId: TENANT, companies, params: {}, concurrency: 2, dryRun: false }).done;
    } finally {
      await runtime.close();
    }
    expect(result.status).toBe('completed');
    const run = (await pool.query('SELECT status, odoo_export_disabled, odoo_export_disabled_reason FROM enrichment_runs WHERE run_id = $1', [result.runId])).rows[0];
    expect(run).toEqual({ status: 'completed', odoo_export_disabled: true, odoo_export_disabled_reason: 'unreachable: bad_response 200: response too large' });
    const rows = (await pool.query('SELECT company_id::int AS id, export_status FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id', [result.runId])).rows;
    expect(rows).toEqual([1, 2, 3].map((id) => ({ id, export_status: 'disabled' })));
    // One attempt: bad_response is not retried.
    const usage = (await pool.query("SELECT calls::int, errors::int FROM run_vendor_usage WHERE run_id = $1 AND vendor = 'odoo'", [result.runId])).rows;
    expect(usage).toEqual([{ calls: 1, errors: 1 }]);
  });
});
