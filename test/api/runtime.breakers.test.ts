/**
 * The runtime's breakers against the simulators and a fresh database: every transition is logged
 * and persisted whoever caused it (here `enrich()`, outside any run).
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import { configFrom, createRuntime, type Company, type Config } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

const company = (tenantId: number, companyId = 1): Company => ({ tenantId, companyId, name: `Breaker Co ${companyId}`, domain: `rich-breaker-${companyId}.example` });

describe('the runtime\'s breakers (real PostgreSQL, simulated vendors)', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let config: Config;
  /** The injected clock: tests move it, nothing waits for it. */
  let now = Date.UTC(2026, 0, 5, 9);
  const clock = { now: () => now };
  let lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 5 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({
      ...sim.overrides,
      DATABASE_URL: db.url,
      RETRY_MAX_ATTEMPTS: '1',
      CB_ERROR_THRESHOLD: '1',
      CB_COOL_OFF_S: '60',
      ENABLE_LUSHA_FALLBACK: 'false',
    });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await sim?.close();
    await db?.drop();
  });
  beforeEach(() => {
    sim.reset();
    lines = [];
    now += 3_600_000;
  });

  const transitionsOf = async (tenantId: number) =>
    (await pool.query('SELECT vendor, from_state, to_state, reason, run_id, extract(epoch FROM at) * 1000 AS at FROM breaker_transitions WHERE tenant_id = $1 ORDER BY id', [tenantId])).rows.map(
      (r: { at: string }) => ({ ...r, at: Number(r.at) }),
    );

  it('enrich() outside a run: the breaker it opens is logged and persisted with no run id, for a tenant never seen before', async () => {
    sim.setProfile('apify_linkedin', 'server_error');
    const runtime = await createRuntime(config, { clock, logger });
    try {
      const out = await runtime.enrich(company(301));
      expect(out.reasons).toContain('APIFY_LINKEDIN_FAIL');
    } finally {
      await runtime.close(); // the last transition is written before the sink closes
    }
    expect(await transitionsOf(301)).toEqual([{ vendor: 'apify_linkedin', from_state: 'closed', to_state: 'open', reason: 'threshold', run_id: null, at: now }]);
    expect((await pool.query('SELECT name FROM tenants WHERE tenant_id = 301')).rows).toEqual([{ name: 'tenant 301' }]);
    expect(lines.filter((l) => String(l.msg).startsWith('breaker '))).toMatchObject([
      { level: 30, msg: 'breaker apify_linkedin closed → open', tenantId: 301, vendor: 'apify_linkedin', runId: null, reason: 'threshold' },
    ]);
  });

  it('a run records its tenant\'s transitions with its run id; an enrich() of another tenant meanwhile has none', async () => {
    sim.setProfile('apify_linkedin', 'server_error');
    const runtime = await createRuntime(config, { clock, logger });
    let result;
    try {
      let other: Promise<unknown> | null = null;
      const handle = runtime.run({
        tenantId: 302,
        companies: [company(302)],
        // Once the run has its id, another tenant's company is enriched outside it.
        onProgress: (p) => void (p.runId !== null && (other ??= runtime.enrich(company(303)))),
      });
      result = await handle.done;
      await other;
    } finally {
      await runtime.close();
    }
    expect(result.status).toBe('completed');
    expect(await transitionsOf(302)).toMatchObject([{ vendor: 'apify_linkedin', from_state: 'closed', to_state: 'open', run_id: String(result.runId) }]);
    expect(await transitionsOf(303)).toMatchObject([{ vendor: 'apify_linkedin', from_state: 'closed', to_state: 'open', run_id: null }]);
  });
});
