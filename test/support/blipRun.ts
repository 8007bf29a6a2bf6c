/**
 * What the database-blip tests share: a run of many companies against the simulators (with
 * latency, so that it lasts) and the fake Odoo, its log lines collected, and the checks that the
 * run completed with every company exactly once.
 */
import { Writable } from 'node:stream';
import type pg from 'pg';
import { expect } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import { configFrom, type Config } from '../../src/config/index.js';
import type { Company } from '../../src/domain/index.js';
import { startFakeOdoo, type FakeOdoo } from '../../src/sim/fakeOdoo.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

export const ODOO = { db: 'blips', login: 'blips@example.test', apiKey: 'blips-odoo-key' } as const;

/** The vendors whose every request is a counted call in run_vendor_usage. */
const VENDORS = ['tavily', 'openai', 'zerobounce', 'lusha', 'apify_linkedin'] as const;

/** The simulators, the fake Odoo and the configuration of a run against `databaseUrl`. */
export interface BlipWorld {
  sim: Simulator;
  odoo: FakeOdoo;
  config: Config;
  /** Log lines of the runtime, parsed. */
  lines: Array<{ msg: string; [key: string]: unknown }>;
  logger: ReturnType<typeof createLogger>;
  close(): Promise<void>;
}

export async function startBlipWorld(databaseUrl: string, seed: number): Promise<BlipWorld> {
  // Latency on every vendor answer: the run lasts long enough for the faults to land in the middle.
  const [sim, odoo] = await Promise.all([startSimulator({ seed, latencyMs: 15 }), startFakeOdoo()]);
  odoo.addDatabase(ODOO.db, { login: ODOO.login, apiKey: ODOO.apiKey });
  const lines: BlipWorld['lines'] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const config = configFrom({
    ...sim.overrides,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_BASE_DELAY_MS: '5',
    RETRY_MAX_DELAY_MS: '50',
    VENDOR_TIMEOUT_MS: '10000',
    CRAWL_TIMEOUT_MS: '10000',
    COMPANY_DEADLINE_MS: '60000',
    RUN_CONCURRENCY: '4',
    SINK_FLUSH_MS: '20',
    ODOO_URL: odoo.url,
    ODOO_DB: ODOO.db,
    ODOO_USERNAME: ODOO.login,
    ODOO_PASSWORD: ODOO.apiKey,
  });
  return {
    sim,
    odoo,
    config,
    lines,
    logger: createLogger({ level: 'info', destination }),
    close: async () => {
      await Promise.all([sim.close(), odoo.close()]);
    },
  };
}

/** `count` companies of `tenantId` with ids 1..count, each with a site rich enough to need no search. */
export function blipCompanies(tenantId: number, count: number): Company[] {
  return Array.from({ length: count }, (_, i) => ({ tenantId, companyId: i + 1, name: `Blip ${i + 1}`, domain: `rich-blip-${i + 1}.example` }));
}

/**
 * The run ended completed with exactly one result row per company, each company enriched once
 * (one crawl of its site), exported once (one partner each), and usage counted once: every
 * vendor's and Odoo's calls in run_vendor_usage are the requests the simulators received.
 */
export async function expectExactlyOnce(pool: pg.Pool, world: BlipWorld, runId: number, companies: readonly Company[]): Promise<void> {
  const run = await pool.query<{ status: string; companies_done: number }>('SELECT status, companies_done FROM enrichment_runs WHERE run_id = $1', [runId]);
  expect(run.rows).toEqual([{ status: 'completed', companies_done: companies.length }]);

  const rows = await pool.query<{ company_id: string; export_status: string | null }>(
    'SELECT company_id, export_status FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id',
    [runId],
  );
  expect(rows.rows.map((r) => Number(r.company_id))).toEqual(companies.map((c) => c.companyId));
  expect(rows.rows.filter((r) => r.export_status !== 'exported')).toEqual([]);

  const crawls = new Map<string, number>();
  for (const r of world.sim.requests('crawler')) {
    const domain = /\/([^/]+)\/?$/.exec(new URL(r.url, 'http://x').pathname)?.[1] ?? r.url;
    crawls.set(domain, (crawls.get(domain) ?? 0) + 1);
  }
  expect([...crawls.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(crawls.size).toBe(companies.length);

  const partners = world.odoo.database(ODOO.db).partners.all().filter((p) => p.is_company === true);
  expect(new Set(partners.map((p) => String(p.ref))).size).toBe(companies.length);
  expect(partners).toHaveLength(companies.length);

  const usage = await pool.query<{ vendor: string; calls: string }>('SELECT vendor, calls FROM run_vendor_usage WHERE run_id = $1', [runId]);
  const calls = Object.fromEntries(usage.rows.map((r) => [r.vendor, Number(r.calls)]));
  for (const vendor of VENDORS) expect(calls[vendor] ?? 0, vendor).toBe(world.sim.calls(vendor));
  const odooRequests = Object.values(world.odoo.callCounts(ODOO.db)).reduce((a, b) => a + b, 0);
  expect(calls.odoo).toBe(odooRequests);
}
