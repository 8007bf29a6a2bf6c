import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/adapters/logger.js';
import { createObservability } from '../../../src/streams/observability.js';
import { pruneSinkLedger } from '../../../src/adapters/postgres/finalise.js';
import { createRunQueue } from '../../../src/adapters/postgres/runQueues.js';
import { runReport } from '../../../src/adapters/postgres/report.js';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import { createPgBatchWriter } from '../../../src/adapters/postgres/writer.js';
import type { Company, RunEvent } from '../../../src/domain/index.js';
import { companyFinished, usage } from '../../support/events.js';
import { sinkOnTestDatabase } from '../../support/sinkFixture.js';

describe('sink writes, replay, finalise and the runs repository (real PostgreSQL)', () => {
  const { pool, sink } = sinkOnTestDatabase();
  const clock = { now: () => Date.UTC(2026, 5, 1, 12) };
  const q = async <T extends object>(sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query(sql, params)).rows as T[];

  it('writes a finished company, its facts and contacts, and then its export outcome', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5001, { dryRun: false });
    await sink.push(companyFinished(runId, 5001, 1, ['CRAWL_THIN', 'TAVILY_FAIL']));
    await sink.push({ type: 'export.outcome', runId, tenantId: 5001, companyId: 1, exportStatus: 'exported_stripped', partnerId: 77, detail: 'stripped website' });
    await sink.flush();
    expect(await q('SELECT status, degraded_reasons, reasons, export_status, export_partner_id FROM company_enrichment_runs WHERE run_id = $1', [runId])).toEqual([
      { status: 'degraded', degraded_reasons: 'CRAWL_THIN,TAVILY_FAIL', reasons: ['CRAWL_THIN', 'TAVILY_FAIL'], export_status: 'exported_stripped', export_partner_id: 77 },
    ]);
    expect(await q("SELECT name, facts->>'industry' AS industry, last_enriched_at IS NOT NULL AS enriched FROM companies WHERE tenant_id = 5001")).toEqual([
      { name: 'Company 1', industry: 'software', enriched: true },
    ]);
    expect(await q('SELECT email, full_name, email_status, verified_at IS NOT NULL AS verified FROM contacts WHERE tenant_id = 5001 ORDER BY dedupe_key')).toEqual([
      { email: 'ada1@c1.test', full_name: 'Ada 1', email_status: 'valid', verified: true },
      { email: null, full_name: 'Bob 1', email_status: 'unverified', verified: false },
      { email: 'info@c1.test', full_name: null, email_status: 'unknown', verified: false },
    ]);
  });

  it("keeps a contact's verdict when a later run could only defer it, and takes a new verdict", async () => {
    const runs = createRunStore(pool);
    const first = await runs.createRun(5008, {});
    await sink.push(companyFinished(first, 5008, 1)); // ada: valid
    await sink.flush();
    const deferred = companyFinished(await runs.createRun(5008, {}), 5008, 1, ['ZEROBOUNCE_DEFER']);
    if (deferred.type !== 'company.finished') throw new Error('fixture');
    deferred.output.emails = deferred.output.emails.map((e) => ({ ...e, status: 'unknown' as const }));
    await sink.push(deferred);
    await sink.flush();
    const ada = "SELECT email_status, verified_at IS NOT NULL AS verified FROM contacts WHERE tenant_id = 5008 AND email = 'ada1@c1.test'";
    expect(await q(ada)).toEqual([{ email_status: 'valid', verified: true }]);
    const judged = companyFinished(await runs.createRun(5008, {}), 5008, 1);
    if (judged.type !== 'company.finished') throw new Error('fixture');
    judged.output.emails = judged.output.emails.map((e) => ({ ...e, status: 'invalid' as const }));
    await sink.push(judged);
    await sink.flush();
    expect(await q(ada)).toEqual([{ email_status: 'invalid', verified: true }]);
  });

  it('is idempotent on replay: the same events again, or the same batch again, change nothing', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5002, {});
    const events: RunEvent[] = [companyFinished(runId, 5002, 1), companyFinished(runId, 5002, 2, ['OPENAI_FAIL']), usage(runId, 5002, 'openai', 3, 1, 500, 0.25)];
    const writer = createPgBatchWriter(pool);
    expect(await writer('batch-a', events)).toBe('applied');
    expect(await writer('batch-a', events)).toBe('duplicate');
    for (const e of events.slice(0, 2)) await sink.push(e); // company rows replayed through the sink
    await sink.flush();
    expect(await q('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [runId])).toEqual([{ n: 2 }]);
    expect(await q('SELECT count(*)::int AS n FROM contacts WHERE tenant_id = 5002')).toEqual([{ n: 6 }]);
    expect(await q('SELECT calls::int, errors::int, tokens::int, cost_usd::float8 AS cost FROM run_vendor_usage WHERE run_id = $1', [runId])).toEqual([{ calls: 3, errors: 1, tokens: 500, cost: 0.25 }]);
  });

  it('keeps an event the database refuses in sink_rejected_events and writes the rest of its batch', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5003, {});
    const writer = createPgBatchWriter(pool);
    const bad = companyFinished(999_999_999, 5003, 1); // no such run: a foreign-key violation
    expect(await writer('batch-b', [usage(runId, 5003, 'tavily', 2), bad, usage(runId, 5003, 'tavily', 5)])).toBe('rejected');
    expect(await writer('batch-b', [usage(runId, 5003, 'tavily', 2), bad, usage(runId, 5003, 'tavily', 5)])).toBe('duplicate');
    expect(await q('SELECT calls::int FROM run_vendor_usage WHERE run_id = $1', [runId])).toEqual([{ calls: 7 }]);
    expect(await q("SELECT event_type, error_code FROM sink_rejected_events WHERE batch_id LIKE 'batch-b%'")).toEqual([{ event_type: 'company.finished', error_code: '23503' }]);
  });

  it('finalises a run: degraded exactly when a company has a reason, counts, percentiles in SQL', async () => {
    const runs = createRunStore(pool);
    const obs = createObservability({ sink, store: createRunStore(pool), clock });
    const clean = await runs.createRun(5004, {});
    const dirty = await runs.createRun(5004, {});
    for (let i = 1; i <= 4; i += 1) await sink.push(companyFinished(clean, 5004, i));
    for (let i = 1; i <= 4; i += 1) await sink.push(companyFinished(dirty, 5004, i, i === 3 ? ['ZEROBOUNCE_DEFER'] : []));
    const durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    for (const d of durations) await obs.logEvent(dirty, 5004, 'crawl', 'finished', 'ok', { companyId: 1, durationMs: d, extra: { fallback_taken: null } });
    await obs.logEvent(dirty, 5004, 'search', 'error', 'failed', { companyId: 3, errorCode: 'TAVILY_FAIL', durationMs: 5, extra: { fallback_taken: 'tavily' } });
    await obs.bumpVendor(dirty, 5004, 'tavily', { calls: 1, errors: 1, retries: 2 });
    await obs.bumpVendor(dirty, 5004, 'tavily', { calls: 0, rateWaits: 2, rateWaitMs: 1250, retriesRefused: 3 });
    await obs.recordTransition({ tenantId: 5004, vendor: 'tavily', from: 'closed', to: 'open', at: clock.now(), reason: 'threshold' }, dirty);

    expect(await obs.finaliseRun(clean)).toMatchObject({ done: 4, degraded: 0, runDegraded: false });
    expect(await obs.finaliseRun(dirty, 'interrupted')).toMatchObject({ done: 4, degraded: 1, runDegraded: true });
    expect(await q('SELECT run_id::int, degraded, status, finished_at IS NOT NULL AS finished FROM enrichment_runs WHERE run_id IN ($1, $2) ORDER BY run_id', [clean, dirty])).toEqual([
      { run_id: clean, degraded: false, status: 'completed', finished: true },
      { run_id: dirty, degraded: true, status: 'interrupted', finished: true },
    ]);
    const [crawl] = await q<{ n: number; p50: number; p90: number; p95: number; p99: number }>("SELECT n, p50, p90, p95, p99 FROM run_stage_stats WHERE run_id = $1 AND stage = 'crawl'", [dirty]);
    // percentile_cont interpolates: p = 10 + 90·q for 10..100.
    expect(crawl?.n).toBe(10);
    for (const [k, v] of Object.entries({ p50: 55, p90: 91, p95: 95.5, p99: 99.1 })) expect(crawl?.[k as 'p50']).toBeCloseTo(v, 6);

    const report = await runReport(pool, dirty);
    expect(report?.reasons).toEqual([{ reason: 'ZEROBOUNCE_DEFER', companies: 1 }]);
    expect(report?.vendors).toEqual([{ vendor: 'tavily', calls: 1, errors: 1, retries: 2, tokens: 0, costUsd: 0, rateWaits: 2, rateWaitMs: 1250, retriesRefused: 3, reuses: 0, savedUsd: 0 }]);
    expect(report?.breakerTransitions).toMatchObject([{ vendor: 'tavily', from: 'closed', to: 'open', reason: 'threshold' }]);
    expect(report?.stages.map((s) => s.stage)).toEqual(['company', 'crawl', 'search']);
    expect(report?.exports).toEqual([{ exportStatus: 'pending', companies: 4 }]);
    expect(await runReport(pool, 123_456_789)).toBeNull();
  });

  it('reports the counts of a run that was never finalised (still going, or killed) from its rows', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5009, {});
    await runs.recordRunInputs(runId, [1, 2, 3, 4, 5].map((id) => ({ tenantId: 5009, companyId: id, name: `R${id}`, domain: null })));
    await sink.push(companyFinished(runId, 5009, 1));
    await sink.push(companyFinished(runId, 5009, 2, ['TAVILY_FAIL']));
    await sink.push({ type: 'export.outcome', runId, tenantId: 5009, companyId: 1, exportStatus: 'exported', partnerId: 9, detail: null });
    await sink.flush();
    const report = await runReport(pool, runId);
    expect(report?.run.status).toBe('running');
    expect(report?.run.counts).toEqual({ total: 5, done: 2, degraded: 1, failed: 0, exported: 1, exportFailed: 0 });
    expect(report?.reasons).toEqual([{ reason: 'TAVILY_FAIL', companies: 1 }]);
  });

  it('logEvent logs a stage error at warn and other stage events at debug, with their fields', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5007, {});
    for (const level of ['info', 'debug'] as const) {
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
      const obs = createObservability({ sink, store: createRunStore(pool), clock, logger });
      await obs.logEvent(runId, 5007, 'crawl', 'finish', 'degraded', { companyId: 1, errorCode: 'CRAWL_THIN', durationMs: 12, extra: { vendor: 'crawler' } });
      await obs.logEvent(runId, 5007, 'extract', 'finish', 'ok', { companyId: 1, durationMs: 30, extra: { vendor: 'openai' } });
      expect(lines.map((l) => [l.level, l.msg]), level).toEqual(level === 'info' ? [[40, 'crawl finish']] : [[40, 'crawl finish'], [20, 'extract finish']]);
      expect(lines[0]).toMatchObject({ runId, tenantId: 5007, companyId: 1, stage: 'crawl', status: 'degraded', errorCode: 'CRAWL_THIN', durationMs: 12, vendor: 'crawler' });
    }
    await sink.flush();
    expect(await q('SELECT count(*)::int AS n FROM run_event_logs WHERE run_id = $1', [runId])).toEqual([{ n: 4 }]);
  });

  it('finaliseRun prunes sink ledger rows older than the retention, and only those', async () => {
    const runs = createRunStore(pool);
    const obs = createObservability({ sink, store: createRunStore(pool), clock });
    const runId = await runs.createRun(5006, {});
    await q(`INSERT INTO sink_batches (batch_id, events, applied_at) VALUES ('old-ledger-row', 1, now() - interval '8 days'),
      ('recent-ledger-row', 1, now() - interval '6 days'), ('new-ledger-row', 1, now())`);
    await obs.finaliseRun(runId);
    const kept = await q<{ batch_id: string }>("SELECT batch_id FROM sink_batches WHERE batch_id LIKE '%-ledger-row' ORDER BY batch_id");
    expect(kept.map((r) => r.batch_id)).toEqual(['new-ledger-row', 'recent-ledger-row']);
    expect(await pruneSinkLedger(pool, 5)).toBe(1);
    expect(await q("SELECT batch_id FROM sink_batches WHERE batch_id LIKE '%-ledger-row'")).toEqual([{ batch_id: 'new-ledger-row' }]);
  });

  it('records a run input in order and knows what remains for --resume', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5005, { inputPath: 'in.csv' });
    async function* input(): AsyncGenerator<Company> {
      for (let i = 1; i <= 7; i += 1) yield { companyId: 100 + i, tenantId: 5005, name: `C${i}`, domain: i === 4 ? null : `c${i}.test` };
      yield { companyId: 101, tenantId: 5005, name: 'duplicate id', domain: null };
    }
    expect(await runs.recordRunInputs(runId, input(), { batchSize: 3 })).toBe(7);
    for (const id of [101, 103, 106]) await sink.push(companyFinished(runId, 5005, id, [], Date.now()));
    await sink.flush();
    const pending: Company[] = [];
    for await (const c of createRunQueue(pool).pending(runId)) pending.push(c);
    expect(pending.map((c) => c.companyId)).toEqual([102, 104, 105, 107]);
    expect(pending[1]).toEqual({ tenantId: 5005, companyId: 104, name: 'C4', domain: null });
    const ids = async (options?: { staleDays?: number; pageSize?: number }): Promise<number[]> => {
      const out: number[] = [];
      for await (const c of runs.tenantCompanies(5005, options)) out.push(c.companyId);
      return out;
    };
    expect(await ids({ staleDays: 30 })).toEqual([102, 104, 105, 107]);
    expect(await ids()).toEqual([102, 104, 105, 107]);
    await pool.query(`UPDATE companies SET last_enriched_at = now() - interval '40 days' WHERE tenant_id = 5005 AND company_id = 101`);
    expect(await ids({ staleDays: 30 })).toEqual([101, 102, 104, 105, 107]);
    expect(await ids()).toEqual([102, 104, 105, 107]);
    for (const pageSize of [1, 2, 5]) expect(await ids({ staleDays: 30, pageSize }), `page size ${pageSize}`).toEqual([101, 102, 104, 105, 107]);
    // Progress counts and the params the runner keeps.
    expect(await runs.countProgress(runId)).toEqual({ total: 7, done: 3, degraded: 0 });
    await runs.markInputRecorded(runId);
    await runs.addMalformedRows(runId, 2);
    await runs.addMalformedRows(runId, 3);
    expect((await runs.getRun(runId))?.params).toMatchObject({ inputPath: 'in.csv', inputRecorded: true, malformedRows: 5 });
    expect(await runs.lastRunId(5005)).toBe(runId);
    expect(await runs.lastRunId(987_654)).toBeNull();
    await runs.markRun(runId, 'interrupted');
    expect((await runs.getRun(runId))?.status).toBe('interrupted');
    await runs.markRun(runId, 'running');
    expect((await runs.getRun(runId))?.finishedAt).toBeNull();
    await runs.upsertTenant({ tenantId: 5005, name: 'Acme', odooUrl: 'http://127.0.0.1:8069', odooDb: 'acme', odooLogin: 'admin', odooKeyEnv: 'ACME_ODOO_KEY' });
    expect(await runs.getTenant(5005)).toEqual({ tenantId: 5005, name: 'Acme', odooUrl: 'http://127.0.0.1:8069', odooDb: 'acme', odooLogin: 'admin', odooKeyEnv: 'ACME_ODOO_KEY' });
    expect(await runs.getTenant(5999)).toBeNull();
  });
});
