/**
 * The README's "Library API" example: the fenced block is examples/library.ts byte for byte (which
 * tsconfig.json typechecks), and the example's logic runs against the simulators, a fake Odoo and
 * a fresh PostgreSQL database.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enrichBatch } from '../../examples/library.js';
import { configFrom, type Company, type Config } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startFakeOdoo, type FakeOdoo } from '../../src/sim/fakeOdoo.js';
import { createTestDatabase } from '../support/database.js';

/** The first ```ts block after `## Library API` in README.md. */
export function readmeExample(readme: string): string | null {
  const section = readme.indexOf('\n## Library API\n');
  if (section < 0) return null;
  const start = readme.indexOf('```ts\n', section);
  const end = readme.indexOf('\n```\n', start);
  return start < 0 || end < 0 ? null : readme.slice(start + '```ts\n'.length, end + 1);
}

describe('README Library API example', () => {
  it('is examples/library.ts, byte for byte', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const file = readFileSync(new URL('../../examples/library.ts', import.meta.url), 'utf8');
    expect(readmeExample(readme)).toBe(file);
  });

  it('finds no block in a README without the section', () => {
    expect(readmeExample('# x\n\n```ts\nconst a = 1;\n```\n')).toBeNull();
  });
});

const TENANT = 41;
const companies: Company[] = Array.from({ length: 6 }, (_, i) => ({
  tenantId: TENANT,
  companyId: 1000 + i,
  name: `Library Co ${i}`,
  domain: i === 3 ? `thin-library-${i}.example` : `rich-library-${i}.example`,
}));

describe('the example against the simulators and a fresh database', () => {
  let sim: Simulator;
  let odoo: FakeOdoo;
  let db: { url: string; drop(): Promise<void> };
  let config: Config;
  let pool: pg.Pool;

  beforeAll(async () => {
    [sim, odoo, db] = await Promise.all([startSimulator({ seed: 11 }), startFakeOdoo(), createTestDatabase(inject('databaseAdminUrl'))]);
    odoo.addDatabase('library', { login: 'runner@example.com', apiKey: 'odoo-key' });
    config = configFrom({
      ...sim.overrides,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      RETRY_MAX_ATTEMPTS: '2',
      RETRY_BASE_DELAY_MS: '1',
      RETRY_MAX_DELAY_MS: '10',
      CB_ERROR_THRESHOLD: '2',
      ENABLE_LUSHA_FALLBACK: 'true',
      RUN_CONCURRENCY: '1',
      ODOO_URL: odoo.url,
      ODOO_DB: 'library',
      ODOO_USERNAME: 'runner@example.com',
      ODOO_PASSWORD: 'odoo-key',
    });
    pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'library-test' });
  });
  afterAll(async () => {
    await pool?.end();
    await Promise.all([sim?.close(), odoo?.close()]);
    await db?.drop();
  });

  it('previews one company without persisting it, runs the batch, sees a breaker open, and closes', async () => {
    sim.setProfile('apify_linkedin', 'server_error'); // every Apify call fails: its breaker opens at the 2nd company
    const out = await enrichBatch(config, TENANT, companies);

    expect(out.preview?.companyId).toBe(companies[0]?.companyId);
    expect(out.preview?.reasons).toContain('APIFY_LINKEDIN_FAIL');
    expect(out.result.status).toBe('completed');
    const runId = out.result.runId as number;
    expect(out.progress).toMatchObject({ runId, phase: 'done', total: companies.length, done: companies.length });

    // One row per company, all in this run: the preview wrote nothing.
    const rows = await pool.query<{ company_id: string; reasons: string[] }>('SELECT company_id, reasons FROM company_enrichment_runs ORDER BY company_id');
    expect(rows.rows.map((r) => Number(r.company_id))).toEqual(companies.map((c) => c.companyId));
    expect(out.report?.run.counts).toMatchObject({ total: companies.length, done: companies.length, degraded: rows.rows.filter((r) => r.reasons.length > 0).length });
    const thin = rows.rows.find((r) => Number(r.company_id) === 1003);
    expect(thin?.reasons).toContain('CRAWL_THIN');

    // The breaker opened once, live and in the database; with it open, later companies were refused.
    expect(out.transitions).toEqual(['apify_linkedin closed→open']);
    expect(out.report?.breakerTransitions.map((t) => `${t.vendor} ${t.from}→${t.to}`)).toEqual(out.transitions);
    expect(rows.rows.filter((r) => r.reasons.includes('CIRCUIT_OPEN:apify_linkedin')).length).toBeGreaterThan(0);

    // events$ saw what the database holds.
    const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql, [runId])).rows[0]?.n);
    expect(out.events['company.finished']).toBe(companies.length);
    expect(out.events['stage.event']).toBe(await count('SELECT count(*) AS n FROM run_event_logs WHERE run_id = $1'));
    expect(out.events['breaker.transition']).toBe(1);
    expect(out.events['vendor.usage']).toBeGreaterThan(0);
    expect(out.events['export.outcome']).toBe(companies.length);
    expect(out.report?.exports).toEqual([{ exportStatus: 'exported', companies: companies.length }]);
    expect(odoo.database('library').partners.all().filter((p) => p.is_company === true)).toHaveLength(companies.length);
    // Every request the fake Odoo received is a call in run_vendor_usage (vendor odoo).
    const odooRequests = Object.values(odoo.callCounts('library')).reduce((a, b) => a + b, 0);
    expect(odooRequests).toBeGreaterThan(companies.length);
    expect(await count("SELECT calls AS n FROM run_vendor_usage WHERE run_id = $1 AND vendor = 'odoo'")).toBe(odooRequests);

    // close() released every connection of the runtime (ours excepted).
    // A backend leaves pg_stat_activity a moment after its client hung up: look again for up to 5 s.
    const others = async () =>
      (await pool.query<{ query: string; state: string }>("SELECT query, state FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'library-test'")).rows;
    for (let until = Date.now() + 5_000; (await others()).length > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    expect(await others()).toEqual([]);
  });

  it('interrupts the run when the signal aborts: nothing enriched, the run is resumable', async () => {
    sim.setProfile('apify_linkedin', 'ok');
    const more = companies.map((c) => ({ ...c, companyId: c.companyId + 100 }));
    const out = await enrichBatch(config, TENANT, more, AbortSignal.abort());
    expect(out.result.status).toBe('interrupted');
    expect(out.report?.run.status).toBe('interrupted');
    expect(out.report?.run.counts.done).toBe(0);
    expect(out.events['company.finished'] ?? 0).toBe(0);
  });
});
