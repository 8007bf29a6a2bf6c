/**
 * The WindowReader on PostgreSQL (src/adapters/postgres/window.ts), over rows written here in a
 * fresh database: paging and filters, a running run's live progress, a run's details, companies by
 * reason, a company's provenance and contacts, the breakers' last state, workers, the totals.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../../src/adapters/postgres/migrate.js';
import { createWindowReader } from '../../../src/adapters/postgres/window.js';
import type { WindowReader } from '../../../src/domain/index.js';
import { OPENING_REASONS } from '../../../src/machines/breaker.machine.js';
import { createTestDatabase } from '../../support/database.js';

const T = Date.UTC(2026, 11, 1, 10);
const at = (s: number): Date => new Date(T + s * 1000);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
let reader: WindowReader;
const runs: Record<'done' | 'going' | 'other' | 'old', number> = { done: 0, going: 0, other: 0, old: 0 };

async function run(tenantId: number, status: string, startedS: number, companies: number[], results: { id: number; reasons: string[]; exportStatus?: string }[]): Promise<number> {
  const { rows } = await pool.query(
    `INSERT INTO enrichment_runs (tenant_id, status, started_at, finished_at) VALUES ($1, $2, $3, $4) RETURNING run_id`,
    [tenantId, status, at(startedS), status === 'running' ? null : at(startedS + 60)],
  );
  const runId = Number(rows[0].run_id);
  for (const [i, id] of companies.entries()) {
    await pool.query(`INSERT INTO companies (tenant_id, company_id, name, domain) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [tenantId, id, `Company ${id}`, `c${id}.example`]);
    await pool.query(`INSERT INTO run_companies (run_id, tenant_id, company_id, position, name, domain) VALUES ($1, $2, $3, $4, $5, $6)`, [runId, tenantId, id, i, `Co ${id} of run ${runId}`, `c${id}.example`]);
  }
  for (const r of results) {
    await pool.query(
      `INSERT INTO company_enrichment_runs (run_id, company_id, tenant_id, status, degraded_reasons, reasons, provenance, export_status, started_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [runId, r.id, tenantId, r.reasons.length ? 'degraded' : 'ok', r.reasons.join(',') || null, r.reasons,
        JSON.stringify([{ field: 'facts.name', step: 'extract', source: 'openai', at: at(startedS + 1).toISOString() }]), r.exportStatus ?? null, at(startedS + 1)],
    );
  }
  return runId;
}

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseAdminUrl'));
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  await migrate(pool);
  reader = createWindowReader(pool, { openingReasons: OPENING_REASONS });
  await pool.query(`INSERT INTO tenants (tenant_id, name) VALUES (1, 'One'), (2, 'Two')`);
  runs.old = await run(1, 'completed', 0, [1], [{ id: 1, reasons: [] }]);
  runs.done = await run(1, 'completed', 100, [1, 2, 3], [
    { id: 1, reasons: ['CRAWL_THIN', 'TAVILY_FAIL'], exportStatus: 'exported' },
    { id: 2, reasons: ['CRAWL_THIN'], exportStatus: 'failed' },
    { id: 3, reasons: [], exportStatus: 'exported_stripped' },
  ]);
  runs.other = await run(2, 'failed', 200, [1], []);
  runs.going = await run(1, 'running', 300, [1, 2, 3, 4, 5], [{ id: 1, reasons: [] }, { id: 2, reasons: ['OPENAI_FAIL'] }]);
  await pool.query(`INSERT INTO run_vendor_usage (run_id, tenant_id, vendor, calls, errors, retries, tokens, cost_usd) VALUES ($1, 1, 'openai', 3, 1, 1, 900, 0.25), ($1, 1, 'tavily', 2, 2, 0, 0, 0.5)`, [runs.done]);
  await pool.query(`INSERT INTO run_stage_stats (run_id, tenant_id, stage, n, p50, p90, p95, p99, max_ms) VALUES ($1, 1, 'crawl', 3, 10, 20, 25, 30, 31)`, [runs.done]);
  await pool.query(`INSERT INTO contacts (tenant_id, company_id, email, full_name, source, email_status) VALUES (1, 1, 'a@c1.example', 'Ann', 'lusha', 'valid'), (1, 1, NULL, 'Bob', 'apify_linkedin', 'unverified')`);
  await pool.query(
    `INSERT INTO run_event_logs (run_id, tenant_id, company_id, stage, event, status, duration_ms, at)
     VALUES ($1, 1, 1, 'crawl', 'finish', 'ok', 5, $2), ($1, 1, 2, 'crawl', 'finish', 'ok', 50, $2), ($1, 1, 3, 'crawl', 'error', 'error', 500, $2), ($1, 1, 3, 'search', 'skip', 'skipped', NULL, $2)`,
    [runs.done, at(101)],
  );
  // Tavily: opened, probed, opened again by the failed probe; two rows at the same instant are ordered by id.
  const tr = async (vendor: string, from: string, to: string, s: number, reason: string, runId: number | null) =>
    pool.query(`INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason, run_id) VALUES (1, $1, $2, $3, $4, $5, $6)`, [vendor, from, to, at(s), reason, runId]);
  await tr('tavily', 'closed', 'open', 110, 'threshold', runs.done);
  await tr('tavily', 'open', 'halfOpen', 410, 'cool_off_elapsed', null);
  await tr('tavily', 'halfOpen', 'open', 411, 'probe_failed', null);
  await tr('openai', 'closed', 'open', 120, 'threshold', runs.done);
  await tr('openai', 'open', 'halfOpen', 420, 'cool_off_elapsed', null);
  await pool.query(`INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason) VALUES (1, 'openai', 'halfOpen', 'closed', $1, 'probe_succeeded')`, [at(420)]);
  await pool.query(`INSERT INTO fleet_workers (worker_id, host, pid, kind, concurrency, last_seen_at) VALUES ('w-now', 'h', 1, 'worker', 4, now()), ('w-old', 'h', 2, 'worker', 4, now() - interval '1 hour')`);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('WindowReader on PostgreSQL', () => {
  it('lists runs newest first, a page at a time', async () => {
    const first = await reader.runs({ page: 1, pageSize: 3 });
    expect(first.items.map((r) => r.runId)).toEqual([runs.going, runs.other, runs.done]);
    expect(first.hasMore).toBe(true);
    const second = await reader.runs({ page: 2, pageSize: 3 });
    expect(second.items.map((r) => r.runId)).toEqual([runs.old]);
    expect(second.hasMore).toBe(false);
  });

  it('filters by tenant and status; a running run shows its progress from its rows', async () => {
    expect((await reader.runs({ tenantId: 2, page: 1, pageSize: 10 })).items.map((r) => r.runId)).toEqual([runs.other]);
    const { items } = await reader.runs({ tenantId: 1, status: 'running', page: 1, pageSize: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ runId: runs.going, tenantName: 'One', status: 'running', counts: { total: 5, done: 2, degraded: 1 } });
    expect((await reader.runs({ status: 'interrupted', page: 1, pageSize: 10 })).items).toEqual([]);
  });

  it("one run: counts, cost, reasons, stages, vendors, exports, the breaker transitions of the run", async () => {
    const r = await reader.run(runs.done);
    expect(r).toMatchObject({ counts: { total: 3, done: 3, degraded: 2, exported: 2, exportFailed: 1 }, costUsd: 0.75 });
    expect(r!.reasons).toEqual([{ reason: 'CRAWL_THIN', companies: 2 }, { reason: 'TAVILY_FAIL', companies: 1 }]);
    expect(r!.stages.map((s) => [s.stage, s.p50, s.p95])).toEqual([['crawl', 10, 25]]);
    expect(r!.vendors.map((v) => [v.vendor, v.calls, v.errors, v.retries, v.costUsd])).toEqual([['openai', 3, 1, 1, 0.25], ['tavily', 2, 2, 0, 0.5]]);
    expect(r!.exports).toEqual([{ exportStatus: 'exported', companies: 1 }, { exportStatus: 'exported_stripped', companies: 1 }, { exportStatus: 'failed', companies: 1 }]);
    expect(r!.breakerTransitions.map((t) => [t.vendor, t.to])).toEqual([['tavily', 'open'], ['openai', 'open']]);
    expect(await reader.run(999_999)).toBeNull();
  });

  it("a run's companies, filtered by reason and paged, with the names of that run's input", async () => {
    const all = await reader.companies({ runId: runs.done, page: 1, pageSize: 2 });
    expect(all.items.map((c) => c.companyId)).toEqual([1, 2]);
    expect(all.hasMore).toBe(true);
    expect(all.items[0]!.name).toBe(`Co 1 of run ${runs.done}`);
    const thin = await reader.companies({ runId: runs.done, reason: 'CRAWL_THIN', page: 1, pageSize: 10 });
    expect(thin.items.map((c) => c.companyId)).toEqual([1, 2]);
    expect((await reader.companies({ runId: runs.done, reason: 'TAVILY_FAIL', page: 1, pageSize: 10 })).items.map((c) => c.companyId)).toEqual([1]);
    expect((await reader.companies({ runId: runs.done, reason: 'LUSHA_FAIL', page: 1, pageSize: 10 })).items).toEqual([]);
  });

  it("one company: its provenance and its contacts with their e-mail status; none outside the run", async () => {
    const c = await reader.company(runs.done, 1);
    expect(c!.provenance).toEqual([{ field: 'facts.name', step: 'extract', source: 'openai', at: at(101).toISOString() }]);
    expect(c!.contacts.map((x) => [x.fullName, x.email, x.emailStatus, x.source])).toEqual([['Ann', 'a@c1.example', 'valid', 'lusha'], ['Bob', null, 'unverified', 'apify_linkedin']]);
    expect(c!.reasons).toEqual(['CRAWL_THIN', 'TAVILY_FAIL']);
    expect(await reader.company(runs.done, 99)).toBeNull();
    expect(await reader.company(runs.other, 1)).toBeNull();
  });

  it('breakers: the last transition of each, ties on time broken by id, with the last opening', async () => {
    const b = await reader.breakers();
    expect(b.map((x) => [x.tenantId, x.vendor, x.state, x.reason])).toEqual([[1, 'openai', 'closed', 'probe_succeeded'], [1, 'tavily', 'open', 'probe_failed']]);
    expect(b[1]!.openedAt).toEqual(at(411));
    expect(b[1]!.since).toEqual(at(411));
  });

  it('the queue is empty before pg-boss ever ran; workers are those seen lately', async () => {
    expect(await reader.queue()).toEqual([]);
    expect((await reader.workers(60)).map((w) => w.workerId)).toEqual(['w-now']);
  });

  it('totals: companies and vendors by tenant, runs by status, stage durations bucketed', async () => {
    const t = await reader.totals([0.01, 0.1, 1]);
    expect(t.companies).toEqual([{ tenantId: 1, done: 6, degraded: 3, failed: 0 }]);
    expect(t.vendors).toEqual([{ tenantId: 1, vendor: 'openai', calls: 3, errors: 1, retries: 1, costUsd: 0.25 }, { tenantId: 1, vendor: 'tavily', calls: 2, errors: 2, retries: 0, costUsd: 0.5 }]);
    expect(t.runs).toEqual([{ status: 'completed', runs: 2 }, { status: 'failed', runs: 1 }, { status: 'running', runs: 1 }]);
    expect(t.stageLatency).toEqual([{ stage: 'crawl', count: 3, sumS: 0.555, buckets: [{ le: 0.01, count: 1 }, { le: 0.1, count: 2 }, { le: 1, count: 3 }] }]);
    await expect(reader.ping()).resolves.toBeUndefined();
  });
});
