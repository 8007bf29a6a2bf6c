import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRunStore } from '../../src/adapters/postgres/runs.js';
import { createPgBatchWriter, type BatchWriter } from '../../src/adapters/postgres/writer.js';
import type { ReasonCode } from '../../src/domain/index.js';
import { createSink } from '../../src/streams/sink.js';
import { companyFinished, usage } from '../support/events.js';
import { startCuttingProxy, type CuttingProxy } from '../support/proxy.js';

const TENANT = 4001;
const COMPANIES = 1000;

describe('the sink loses nothing when every connection is cut twice (TCP proxy)', () => {
  let direct: pg.Pool;
  let viaProxy: pg.Pool;
  let proxy: CuttingProxy;

  beforeAll(async () => {
    const url = new URL(inject('databaseUrl'));
    direct = new pg.Pool({ connectionString: url.toString(), max: 2 });
    proxy = await startCuttingProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    viaProxy = new pg.Pool({ connectionString: url.toString(), max: 4 });
    viaProxy.on('error', () => undefined); // idle connections cut by the proxy
  });
  afterAll(async () => {
    await viaProxy.end();
    await proxy.close();
    await direct.end();
  });

  it('writes 1,000 companies, their contacts, usage and stage events exactly once', async () => {
    const runs = createRunStore(direct);
    const runId = await runs.createRun(TENANT, { inputPath: 'proof.csv', concurrency: 16, dryRun: false });
    const inner = createPgBatchWriter(viaProxy);
    let failures = 0;
    let committed = 0;
    let duplicates = 0;
    const writer: BatchWriter = async (id, events) => {
      try {
        const outcome = await inner(id, events);
        committed += 1;
        if (outcome === 'duplicate') duplicates += 1;
        return outcome;
      } catch (error) {
        failures += 1;
        throw error;
      }
    };
    const sink = createSink({ writer, config: { batchSize: 40, flushMs: 5, maxBuffer: 200 }, retry: { baseDelayMs: 5, maxDelayMs: 50 } });

    const reasonsOf = (i: number): ReasonCode[] => (i % 5 === 0 ? ['CRAWL_THIN', 'TAVILY_FAIL'] : i % 7 === 0 ? ['ZEROBOUNCE_DEFER'] : []);
    const cuts: number[] = [];
    let lostAck: Promise<number> | null = null;
    for (let i = 1; i <= COMPANIES; i += 1) {
      await sink.push(companyFinished(runId, TENANT, i, reasonsOf(i)));
      await sink.push(usage(runId, TENANT, 'openai', 1, 0, 100 + i, 0.001));
      await sink.push(usage(runId, TENANT, 'tavily', 2, 1, 0, 0.0005, 1));
      await sink.push({ type: 'stage.event', runId, tenantId: TENANT, companyId: i, stage: 'crawl', event: 'finished', status: 'ok', errorCode: null, durationMs: i % 100, extra: { fallback_taken: null }, at: Date.now() });
      if (i === 300) {
        await waitFor(() => proxy.connections() > 0);
        cuts.push(proxy.cutAll());
      }
      if (i === 650) lostAck = proxy.cutAfterNextCommit();
    }
    await sink.flush();
    cuts.push(await (lostAck as unknown as Promise<number>));
    await sink.close();

    expect(cuts.every((n) => n > 0)).toBe(true);
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(duplicates).toBe(1); // the batch whose COMMIT acknowledgement was swallowed, recognised on retry
    expect(committed).toBeGreaterThan(0);

    const one = async (sql: string): Promise<Record<string, unknown>> => (await direct.query(sql, [runId])).rows[0] as Record<string, unknown>;
    expect(await one('SELECT count(*)::int AS n, count(DISTINCT company_id)::int AS d FROM company_enrichment_runs WHERE run_id = $1')).toEqual({ n: COMPANIES, d: COMPANIES });
    expect(await one(`SELECT count(*)::int AS n FROM companies WHERE tenant_id = ${TENANT} AND last_enriched_at IS NOT NULL AND $1::bigint > 0`)).toEqual({ n: COMPANIES });
    // Two contacts and one site address per company, each once.
    expect(await one(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = ${TENANT} AND last_seen_run_id = $1`)).toEqual({ n: 3 * COMPANIES });
    expect(await one('SELECT count(*)::int AS n, count(DISTINCT company_id)::int AS d FROM run_event_logs WHERE run_id = $1')).toEqual({ n: COMPANIES, d: COMPANIES });
    const usageRows = (await direct.query('SELECT vendor, calls::int, errors::int, retries::int, tokens::int, cost_usd::text FROM run_vendor_usage WHERE run_id = $1 ORDER BY vendor', [runId])).rows;
    const tokens = COMPANIES * 100 + (COMPANIES * (COMPANIES + 1)) / 2;
    expect(usageRows).toEqual([
      { vendor: 'openai', calls: COMPANIES, errors: 0, retries: 0, tokens, cost_usd: (COMPANIES * 0.001).toFixed(6) },
      { vendor: 'tavily', calls: 2 * COMPANIES, errors: COMPANIES, retries: COMPANIES, tokens: 0, cost_usd: (COMPANIES * 0.0005).toFixed(6) },
    ]);
    const degraded = Array.from({ length: COMPANIES }, (_, k) => reasonsOf(k + 1).length > 0).filter(Boolean).length;
    expect(await one("SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1 AND status = 'degraded'")).toEqual({ n: degraded });
    expect(await one('SELECT count(*)::int AS n FROM sink_rejected_events WHERE run_id = $1')).toEqual({ n: 0 });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 2));
}
