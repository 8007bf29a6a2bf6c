/**
 * The runtime's breakers against the simulators and a fresh database: every transition is logged
 * and persisted whoever caused it (here `enrich()`, outside any run), and a new runtime brings back
 * the breakers a previous one left open.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import { openDatabase, type Database } from '../../src/adapters/postgres/index.js';
import { configFrom, createRuntime, type Company, type Config } from '../../src/index.js';
import type { BreakerInfo } from '../../src/streams/guard.types.js';
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

  interface TransitionRow { vendor: string; from_state: string; to_state: string; reason: string; run_id: string | null; at: number }
  const transitionsOf = async (tenantId: number): Promise<TransitionRow[]> =>
    (await pool.query<TransitionRow>('SELECT vendor, from_state, to_state, reason, run_id, (extract(epoch FROM at) * 1000)::float8 AS at FROM breaker_transitions WHERE tenant_id = $1 ORDER BY id', [tenantId])).rows;
  /** The runtime's breakers of one tenant (the database holds the other tests' breakers too). */
  const breakersOf = (runtime: { breakers: { list(): BreakerInfo[] } }, tenantId: number): BreakerInfo[] => runtime.breakers.list().filter((b) => b.tenantId === tenantId);

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

  it('a new runtime brings back a breaker the last one left open: refused until its cool-off is over, then one probe closes it', async () => {
    sim.setProfile('apify_linkedin', 'server_error');
    const openedAt = now;
    const first = await createRuntime(config, { clock, logger });
    try {
      await first.enrich(company(304));
    } finally {
      await first.close();
    }
    expect(sim.calls('apify_linkedin')).toBe(1);

    // A new process, 10 s later: the vendor is still down, and it is not asked.
    now = openedAt + 10_000;
    lines = [];
    const second = await createRuntime(config, { clock, logger });
    try {
      expect(breakersOf(second, 304)).toEqual([{ tenantId: 304, vendor: 'apify_linkedin', state: 'open', consecutiveFailures: 1, openedAt }]);
      expect(lines.filter((l) => l.msg === 'breaker apify_linkedin restored open' && l.tenantId === 304)).toMatchObject([
        { level: 30, vendor: 'apify_linkedin', openedAt: new Date(openedAt).toISOString(), coolOffEndsAt: new Date(openedAt + 60_000).toISOString() },
      ]);
      const refused = await second.enrich(company(304, 2));
      expect(refused.reasons).toContain('CIRCUIT_OPEN:apify_linkedin');
      expect(sim.calls('apify_linkedin')).toBe(1);
      // Another tenant's breaker was never open.
      await second.enrich(company(399));
      expect(sim.calls('apify_linkedin')).toBe(2);

      // Once CB_COOL_OFF_S (60 s) have passed since it opened, the next call probes; the vendor is back.
      sim.setProfile('apify_linkedin', 'ok');
      now = openedAt + 60_000;
      const probed = await second.enrich(company(304, 3));
      expect(probed.reasons).not.toContain('CIRCUIT_OPEN:apify_linkedin');
      expect(sim.calls('apify_linkedin')).toBe(3);
    } finally {
      await second.close();
    }
    expect((await transitionsOf(304)).map((t) => `${t.from_state}→${t.to_state} ${t.reason} ${t.at - openedAt}`)).toEqual([
      'closed→open threshold 0',
      'open→halfOpen cool_off_elapsed 60000',
      'halfOpen→closed probe_succeeded 60000',
    ]);

    // Closed last: a third runtime has nothing to restore.
    const third = await createRuntime(config, { clock, logger });
    try {
      expect(breakersOf(third, 304)).toEqual([]);
    } finally {
      await third.close();
    }
  });

  it('a breaker left half-open (its probe died with its process) comes back open from its last opening, with a recorded restored transition', async () => {
    const openedAt = now - 120_000;
    await pool.query(`INSERT INTO tenants (tenant_id, name) VALUES (305, 't305')`);
    await pool.query(
      `INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason) VALUES
         (305, 'tavily', 'closed', 'open', to_timestamp($1 / 1000.0), 'threshold'),
         (305, 'tavily', 'open', 'halfOpen', to_timestamp($2 / 1000.0), 'cool_off_elapsed')`,
      [openedAt, openedAt + 60_000],
    );
    const runtime = await createRuntime(config, { clock, logger });
    try {
      // Its cool-off is over: as of now it admits one probe.
      expect(breakersOf(runtime, 305)).toEqual([{ tenantId: 305, vendor: 'tavily', state: 'halfOpen', consecutiveFailures: 1, openedAt }]);
    } finally {
      await runtime.close();
    }
    expect((await transitionsOf(305)).map((t) => `${t.from_state}→${t.to_state} ${t.reason} ${t.run_id} ${t.at === now}`)).toEqual([
      'closed→open threshold null false',
      'open→halfOpen cool_off_elapsed null false',
      'halfOpen→open restored null true',
    ]);
    expect(lines.filter((l) => l.msg === 'breaker tavily halfOpen → open')).toMatchObject([{ tenantId: 305, reason: 'restored', runId: null }]);
  });

  it('a run resumed by a new runtime finds its breaker still open and makes no request to that vendor', async () => {
    sim.setProfile('apify_linkedin', 'server_error');
    const first = await createRuntime(config, { clock, logger });
    let runId: number;
    try {
      await first.enrich(company(306, 1)); // opens the tenant's Apify breaker
      // A run stopped before it enriched anything, as a crash would leave it.
      const handle = first.run({ tenantId: 306, companies: [company(306, 2), company(306, 3)] });
      handle.interrupt();
      const result = await handle.done;
      expect(result.status).toBe('interrupted');
      runId = result.runId as number;
    } finally {
      await first.close();
    }
    expect(sim.calls('apify_linkedin')).toBe(1);
    expect((await pool.query('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [runId])).rows[0].n).toBe(0);

    now += 5_000;
    const second = await createRuntime(config, { clock, logger });
    try {
      // Interrupted while its input was being recorded: the resume is given the companies again.
      const result = await second.run({ tenantId: 306, resumeRunId: runId, companies: [company(306, 2), company(306, 3)] }).done;
      expect(result.status).toBe('completed');
    } finally {
      await second.close();
    }
    expect(sim.calls('apify_linkedin')).toBe(1);
    const rows = await pool.query<{ reasons: string[] }>('SELECT reasons FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id', [runId]);
    expect(rows.rows.map((r) => r.reasons.filter((x) => x.includes('APIFY') || x.includes('apify')))).toEqual([['CIRCUIT_OPEN:apify_linkedin'], ['CIRCUIT_OPEN:apify_linkedin']]);
  });

  it('a failure to read breaker_transitions is a warning: the runtime starts with every breaker closed', async () => {
    await pool.query(`INSERT INTO tenants (tenant_id, name) VALUES (307, 't307')`);
    await pool.query(`INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason) VALUES (307, 'tavily', 'closed', 'open', to_timestamp($1 / 1000.0), 'threshold')`, [now]);
    const real = await openDatabase(config, { migrate: false });
    // The pool as the runtime sees it: every query but the breakers' read goes through.
    const pool307 = new Proxy(real.pool, {
      get(target, prop) {
        if (prop === 'query') {
          return (text: unknown, ...rest: unknown[]) =>
            typeof text === 'string' && text.includes('DISTINCT ON (tenant_id, vendor)')
              ? Promise.reject(new Error('permission denied for table breaker_transitions'))
              : (target.query as (...a: unknown[]) => unknown)(text, ...rest);
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const database: Database = { ...real, pool: pool307 };
    try {
      const runtime = await createRuntime(config, { clock, logger, database });
      try {
        expect(breakersOf(runtime, 307)).toEqual([]);
        expect(lines.filter((l) => l.level === 40)).toMatchObject([
          { msg: 'breakers not restored (breaker_transitions unreadable): every breaker starts closed', err: { message: 'permission denied for table breaker_transitions' } },
        ]);
      } finally {
        await runtime.close();
      }
    } finally {
      await real.close();
    }
  });
});
