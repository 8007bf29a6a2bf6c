/**
 * RUN_BUDGET_USD through the runtime (issue 14): a run whose budget runs out half-way records
 * BUDGET_EXHAUSTED on every company after it, makes no paid request past it, still crawls and
 * extracts deterministically, completes, and loses no company; the costs are in run_vendor_usage
 * and the spend in run_spend. Real PostgreSQL, simulated vendors.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom, createRuntime, type Company } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';
import { renderSummary } from '../../src/cli/summary.js';
import { summaryFromReport } from '../../src/cli/reportSummary.js';
import type { Config } from '../../src/index.js';

/** The run's report, from a runtime of its own (the run's runtime is closed). */
async function reportOf(config: Config, runId: number) {
  const runtime = await createRuntime(config);
  try {
    return await runtime.report(runId);
  } finally {
    await runtime.close();
  }
}

const TENANT = 1401;
const company = (companyId: number): Company => ({ tenantId: TENANT, companyId, name: `Budget Co ${companyId}`, domain: `rich-budget-${companyId}.example` });

describe('a run with RUN_BUDGET_USD (real PostgreSQL, simulated vendors)', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 14 }), createTestDatabase(inject('databaseAdminUrl'))]);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await sim?.close();
    await db?.drop();
  });

  it('runs out half-way: every company after it records BUDGET_EXHAUSTED, the run completes, nothing is lost', async () => {
    // Apify $1 a call, everything else free but OpenAI's tokens (fractions of a cent): the fifth
    // company's Apify call spends the budget.
    const config = configFrom({
      ...sim.overrides,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      VENDOR_PRICES: 'apify_linkedin=1/call',
      RUN_BUDGET_USD: '5',
      ENABLE_LUSHA_FALLBACK: 'false',
      VENDOR_RATE_LIMITS: '',
    });
    const runtime = await createRuntime(config);
    let result;
    try {
      result = await runtime.run({ tenantId: TENANT, companies: Array.from({ length: 12 }, (_, i) => company(i + 1)), concurrency: 1 }).done;
    } finally {
      await runtime.close();
    }
    expect(result.status).toBe('completed');
    expect(sim.calls('apify_linkedin')).toBe(5);
    const rows = (
      await pool.query<{ company_id: string; degraded_reasons: string | null }>('SELECT company_id, degraded_reasons FROM company_enrichment_runs WHERE run_id = $1 ORDER BY started_at, finished_at', [result.runId])
    ).rows;
    expect(rows).toHaveLength(12);
    const exhausted = rows.filter((r) => r.degraded_reasons?.includes('BUDGET_EXHAUSTED:apify_linkedin'));
    // In the order the companies were enriched (one at a time): the first five paid, every later one skipped.
    expect(exhausted).toEqual(rows.slice(5));
    for (const r of exhausted) expect(r.degraded_reasons).toContain('BUDGET_EXHAUSTED:openai');
    for (const r of rows.slice(0, 5)) expect(r.degraded_reasons ?? '').not.toContain('BUDGET_EXHAUSTED');
    expect(new Set(rows.map((r) => Number(r.company_id)))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => i + 1)));
    // The free steps still ran for every company: a crawl each, and facts (deterministic past the budget).
    const crawled = await pool.query<{ n: number }>(`SELECT count(DISTINCT company_id)::int AS n FROM run_event_logs WHERE run_id = $1 AND stage = 'crawl' AND status = 'ok'`, [result.runId]);
    expect(crawled.rows[0]!.n).toBe(12);
    const usage = await pool.query<{ vendor: string; calls: number; cost: number }>('SELECT vendor, calls::int, cost_usd::float8 AS cost FROM run_vendor_usage WHERE run_id = $1 ORDER BY vendor', [result.runId]);
    expect(usage.rows.find((u) => u.vendor === 'apify_linkedin')).toEqual({ vendor: 'apify_linkedin', calls: 5, cost: 5 });
    const spend = await pool.query<{ spent: number }>('SELECT spent_usd::float8 AS spent FROM run_spend WHERE run_id = $1', [result.runId]);
    expect(spend.rows[0]!.spent).toBeGreaterThanOrEqual(5);
    expect(spend.rows[0]!.spent).toBeLessThan(5.1);
    const params = await pool.query<{ budget: string }>(`SELECT params->>'budgetUsd' AS budget FROM enrichment_runs WHERE run_id = $1`, [result.runId]);
    expect(params.rows[0]!.budget).toBe('5');
    // The report and the summary say so, with the cost per company.
    const report = (await reportOf(config, result.runId!))!;
    expect(report.budget).toMatchObject({ budgetUsd: 5, companiesSkipped: 7 });
    expect(report.cost.totalUsd).toBeGreaterThanOrEqual(5);
    expect(report.cost.top).toHaveLength(5);
    expect(report.cost.top[0]!.costUsd).toBeGreaterThanOrEqual(1);
    const text = renderSummary(summaryFromReport(report));
    expect(text).toMatch(/budget: spent 5\.\d{4} of 5 USD, exhausted: 7 companies had paid steps skipped \(BUDGET_EXHAUSTED\)/);
    expect(text).toMatch(/cost: 5\.\d{4} USD, 0\.4\d{3} per company, most 1\.\d{4} \(company \d+\)/);
  });

  it('without RUN_BUDGET_USD nothing is skipped, and default prices give every paid call its cost', async () => {
    const config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', ENABLE_LUSHA_FALLBACK: 'false', VENDOR_RATE_LIMITS: '' });
    const runtime = await createRuntime(config);
    let result;
    try {
      result = await runtime.run({ tenantId: TENANT, companies: Array.from({ length: 3 }, (_, i) => company(100 + i)), concurrency: 1 }).done;
    } finally {
      await runtime.close();
    }
    const rows = (await pool.query<{ degraded_reasons: string | null }>('SELECT degraded_reasons FROM company_enrichment_runs WHERE run_id = $1', [result.runId])).rows;
    expect(rows.some((r) => r.degraded_reasons?.includes('BUDGET_EXHAUSTED'))).toBe(false);
    const usage = await pool.query<{ vendor: string; calls: number; cost: number }>('SELECT vendor, calls::int, cost_usd::float8 AS cost FROM run_vendor_usage WHERE run_id = $1', [result.runId]);
    const apify = usage.rows.find((u) => u.vendor === 'apify_linkedin');
    expect(apify?.cost).toBeGreaterThan(0); // $0.008 a result
    expect(usage.rows.find((u) => u.vendor === 'crawler')?.cost ?? 0).toBe(0);
  });
});
