/**
 * A stage error keeps its cause: a run through the runtime against the simulators and a fresh
 * database, where the crawler refuses a loopback address (SSRF guard on) and an invalid domain,
 * records the VendorError's detail in run_event_logs.extra and on the warn log line.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import { configFrom, createRuntime, type Company, type Config } from '../../src/index.js';
import { SIM_KEYS, startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

const TENANT = 611;

describe('stage error details (runtime, simulated vendors, real PostgreSQL)', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let config: Config;
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 7 }), createTestDatabase(inject('databaseAdminUrl'))]);
    // The simulated sites live on 127.0.0.1: with private networks refused, every crawl is an SSRF refusal.
    config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, CRAWL_ALLOW_PRIVATE_NETWORKS: 'false', RETRY_MAX_ATTEMPTS: '1', ENABLE_TAVILY_FALLBACK: 'false' });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await sim?.close();
    await db?.drop();
  });

  it('an ssrf refusal and an invalid domain show their detail in run_event_logs and in the log line', async () => {
    const companies: Company[] = [
      { tenantId: TENANT, companyId: 1, name: 'Loopback Co', domain: 'rich-loopback.example' },
      { tenantId: TENANT, companyId: 2, name: 'Underscore Co', domain: 'under_score.example' },
    ];
    const runtime = await createRuntime(config, { logger });
    let result;
    try {
      result = await runtime.run({ tenantId: TENANT, companies, params: {}, concurrency: 1, dryRun: false }).done;
    } finally {
      await runtime.close();
    }
    expect(result.status).toBe('completed');
    const { runId } = result;
    const { rows } = await pool.query<{ company_id: string; error_code: string; extra: Record<string, unknown> }>(
      "SELECT company_id, error_code, extra FROM run_event_logs WHERE run_id = $1 AND stage = 'crawl' AND event = 'error' ORDER BY company_id",
      [runId],
    );
    expect(rows.map((r) => [Number(r.company_id), r.error_code, r.extra.error_kind, r.extra.detail])).toEqual([
      [1, 'CRAWL_ERROR', 'bad_request', 'ssrf_refused:loopback'],
      [2, 'CRAWL_ERROR', 'bad_request', 'invalid_domain'],
    ]);
    const warned = lines.filter((l) => l.stage === 'crawl' && l.errorCode === 'CRAWL_ERROR');
    expect(warned.map((l) => [l.companyId, l.detail])).toEqual([
      [1, 'ssrf_refused:loopback'],
      [2, 'invalid_domain'],
    ]);
    const everything = JSON.stringify({ rows, lines, all: (await pool.query('SELECT extra FROM run_event_logs WHERE run_id = $1', [runId])).rows });
    for (const key of Object.values(SIM_KEYS)) expect(everything).not.toContain(key);
  });
});
