/**
 * What the CLI runs against in the end-to-end tests: a fresh PostgreSQL database per test file,
 * and per test the vendor simulator and the fake Odoo on loopback, a temporary data directory,
 * an input file, and the child's environment pointing at all of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { migrate } from '../../../src/adapters/postgres/migrate.js';
import { startFakeOdoo, type FakeOdoo } from '../../../src/sim/fakeOdoo.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/sim/index.js';
import { createTestDatabase } from '../../support/database.js';

/** The fake Odoo database and user every test exports to. */
export const ODOO = { db: 'e2e', login: 'e2e@example.test', apiKey: 'e2e-odoo-key' } as const;

/**
 * Short retries and cool-off so that faults cost milliseconds, not seconds. The timeouts stay
 * generous: on a loaded machine a healthy call must not time out (tests of hangs set
 * {@link SHORT_TIMEOUTS}).
 */
export const FAST_ENV: Record<string, string> = {
  RETRY_MAX_ATTEMPTS: '2',
  RETRY_BASE_DELAY_MS: '5',
  RETRY_MAX_DELAY_MS: '50',
  VENDOR_TIMEOUT_MS: '5000',
  CRAWL_TIMEOUT_MS: '5000',
  CB_COOL_OFF_S: '1',
  CB_ERROR_THRESHOLD: '3',
  ENABLE_LUSHA_FALLBACK: 'true',
  COMPANY_DEADLINE_MS: '20000',
  SHUTDOWN_GRACE_MS: '10000',
  SINK_FLUSH_MS: '50',
  RUN_CONCURRENCY: '4',
};

/**
 * A vendor timeout short enough that a hanging vendor costs little; only where every vendor call is
 * meant to fail anyway (the crawl keeps its generous timeout: its outcome is asserted).
 */
export const SHORT_TIMEOUTS: Record<string, string> = { VENDOR_TIMEOUT_MS: '300' };

/** A test's surroundings; `close()` in afterEach. */
export interface World {
  sim: Simulator;
  odoo: FakeOdoo;
  dir: string;
  /** The child's environment (DATABASE_URL, data dir, simulator, fake Odoo, FAST_ENV, then `extra`). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Writes `name` under the temporary directory and returns its path. */
  file(name: string, text: string): string;
  close(): Promise<void>;
}

/** The per-file database: created and migrated in beforeAll, dropped in afterAll. */
export function useDatabase(): { url(): string; pool(): pg.Pool } {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | null = null;
  let pool: pg.Pool | null = null;
  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseAdminUrl'));
    pool = new pg.Pool({ connectionString: db.url, max: 3 });
    await migrate(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  return {
    url: () => db!.url,
    pool: () => pool!,
  };
}

/** Starts the simulator (with `sim` options) and the fake Odoo for one test; closes them after it. */
export function useWorld(databaseUrl: () => string): (sim?: SimulatorOptions) => Promise<World> {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  return async (options = {}) => {
    const sim = await startSimulator(options);
    const odoo = await startFakeOdoo();
    odoo.addDatabase(ODOO.db, { login: ODOO.login, apiKey: ODOO.apiKey });
    const dir = mkdtempSync(join(os.tmpdir(), 'lead-enrich-e2e-'));
    const world: World = {
      sim,
      odoo,
      dir,
      env: (extra = {}) => ({
        DATABASE_URL: databaseUrl(),
        LEAD_ENRICH_DATA_DIR: join(dir, 'data'),
        ...sim.overrides,
        ...FAST_ENV,
        ODOO_URL: odoo.url,
        ODOO_DB: ODOO.db,
        ODOO_USERNAME: ODOO.login,
        ODOO_PASSWORD: ODOO.apiKey,
        ...extra,
      }),
      file: (name, text) => {
        const path = join(dir, name);
        writeFileSync(path, text);
        return path;
      },
      close: async () => {
        await odoo.close();
        await sim.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    open.push(world);
    return world;
  };
}

/** CSV of `count` companies with ids `1..count` and domains the simulator serves normally. */
export function companiesCsv(count: number, prefix = 'co'): string {
  const lines = ['company_id,name,domain'];
  for (let i = 1; i <= count; i++) lines.push(`${i},"${prefix} ${i} Ltd",${prefix}-${i}.example`);
  return `${lines.join('\n')}\n`;
}

/** Refs of the tenant's company partners in the fake Odoo (one per exported company). */
export const partnerRefs = (w: World, tenantId: number): string[] =>
  w.odoo
    .database(ODOO.db)
    .partners.all()
    .filter((p) => p.is_company === true && String(p.ref).startsWith(`lead-enrich:${tenantId}:`))
    .map((p) => String(p.ref));
