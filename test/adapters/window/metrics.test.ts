/**
 * The Prometheus text of a worker (fed with events) and of serve (read from a reader), parsed by
 * parse-prometheus-text-format: names, types, values and labels (bounded ones only).
 */
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics, serveMetrics } from '../../../src/adapters/window/metrics.js';
import type { EnrichmentOutput, RunEvent, WindowTotals } from '../../../src/domain/index.js';
import { scrape } from '../../support/prometheus.js';
import { SCRIPT_NAME, fakeReader } from './fakeReader.js';

const output = (companyId: number, reasons: string[]): EnrichmentOutput =>
  ({ companyId, tenantId: 12, degradedReasons: reasons.join(',') || null, reasons, facts: { name: SCRIPT_NAME }, contacts: [], emails: [], provenance: [], fallbacks: [], timings: [] }) as unknown as EnrichmentOutput;

describe('worker metrics', () => {
  it('count calls, errors, retries and refusals by vendor and kind, companies done and degraded, stage latencies, breakers, backlog and queue', async () => {
    let pending = 5;
    const m = createWorkerMetrics({
      breakers: () => [{ tenantId: 12, vendor: 'tavily', state: 'open' }],
      sinkPending: () => pending,
      queueDepth: async () => [
        { runId: 1, queue: 'enrich', waiting: 3, retry: 1, active: 2, failed: 0, completed: 10 },
        { runId: 2, queue: 'enrich', waiting: 4, retry: 0, active: 0, failed: 1, completed: 0 },
      ],
    });
    m.onCall({ type: 'attempt', tenantId: 12, vendor: 'tavily', ok: false, kind: 'server_error' });
    m.onCall({ type: 'retry', tenantId: 12, vendor: 'tavily', kind: 'server_error' });
    m.onCall({ type: 'attempt', tenantId: 12, vendor: 'tavily', ok: false, kind: 'server_error' });
    m.onCall({ type: 'attempt', tenantId: 12, vendor: 'openai', ok: true, kind: null });
    m.onCall({ type: 'refused', tenantId: 12, vendor: 'tavily' });
    m.onCall({ type: 'rate_wait', tenantId: 12, vendor: 'lusha', waitedMs: 1500 });
    m.onCall({ type: 'rate_wait', tenantId: 12, vendor: 'lusha', waitedMs: 250 });
    m.onCall({ type: 'retry_refused', tenantId: 12, vendor: 'tavily' });
    const events: RunEvent[] = [
      { type: 'stage.event', runId: 1, tenantId: 12, companyId: 1, stage: 'crawl', event: 'finish', status: 'ok', errorCode: null, durationMs: 30, extra: {}, at: 0 },
      { type: 'stage.event', runId: 1, tenantId: 12, companyId: 1, stage: 'crawl', event: 'finish', status: 'ok', errorCode: null, durationMs: 3000, extra: {}, at: 0 },
      { type: 'stage.event', runId: 1, tenantId: 12, companyId: 1, stage: 'search', event: 'skip', status: 'skipped', errorCode: null, durationMs: null, extra: {}, at: 0 },
      { type: 'company.finished', runId: 1, tenantId: 12, output: output(1, []), startedAt: 0, finishedAt: 1 },
      { type: 'company.finished', runId: 1, tenantId: 12, output: output(2, ['CRAWL_THIN']), startedAt: 0, finishedAt: 1 },
      { type: 'breaker.transition', runId: 1, tenantId: 12, vendor: 'tavily', from: 'closed', to: 'open', at: 0, reason: 'threshold' },
      { type: 'export.outcome', runId: 1, tenantId: 12, companyId: 1, exportStatus: 'exported', partnerId: 3, detail: null },
    ];
    for (const e of events) m.onRunEvent(e);
    pending = 7;
    const text = await m.text();
    const s = scrape(text);
    expect(s.type('lead_enrich_vendor_calls_total')).toBe('COUNTER');
    expect(s.value('lead_enrich_vendor_calls_total', { tenant: '12', vendor: 'tavily', kind: 'server_error' })).toBe(2);
    expect(s.value('lead_enrich_vendor_calls_total', { tenant: '12', vendor: 'openai', kind: 'ok' })).toBe(1);
    expect(s.value('lead_enrich_vendor_errors_total', { vendor: 'tavily', kind: 'server_error' })).toBe(2);
    expect(s.samples('lead_enrich_vendor_errors_total')).toHaveLength(1); // a success is no error
    expect(s.value('lead_enrich_vendor_retries_total', { vendor: 'tavily', kind: 'server_error' })).toBe(1);
    expect(s.value('lead_enrich_vendor_refusals_total', { tenant: '12', vendor: 'tavily' })).toBe(1);
    expect(s.value('lead_enrich_vendor_rate_waits_total', { tenant: '12', vendor: 'lusha' })).toBe(2);
    expect(s.value('lead_enrich_vendor_rate_wait_seconds_total', { tenant: '12', vendor: 'lusha' })).toBeCloseTo(1.75);
    expect(s.value('lead_enrich_vendor_retries_refused_total', { tenant: '12', vendor: 'tavily' })).toBe(1);
    expect(s.value('lead_enrich_companies_done_total', { tenant: '12' })).toBe(2);
    expect(s.value('lead_enrich_companies_degraded_total', { tenant: '12' })).toBe(1);
    expect(s.value('lead_enrich_breaker_transitions_total', { tenant: '12', vendor: 'tavily', state: 'open' })).toBe(1);
    expect(s.value('lead_enrich_export_outcomes_total', { tenant: '12', status: 'exported' })).toBe(1);
    const crawl = s.histogram('lead_enrich_stage_duration_seconds', { stage: 'crawl' });
    expect(crawl?.count).toBe(2);
    expect(crawl?.sum).toBeCloseTo(3.03);
    expect(crawl?.buckets['0.05']).toBe(1);
    expect(crawl?.buckets['5']).toBe(2);
    expect(s.histogram('lead_enrich_stage_duration_seconds', { stage: 'search' })).toBeUndefined(); // nothing measured
    expect(s.value('lead_enrich_breaker_state', { tenant: '12', vendor: 'tavily', state: 'open' })).toBe(1);
    expect(s.value('lead_enrich_breaker_state', { tenant: '12', vendor: 'tavily', state: 'closed' })).toBe(0);
    expect(s.value('lead_enrich_sink_backlog')).toBe(7);
    expect(s.value('lead_enrich_queue_jobs', { queue: 'enrich', state: 'waiting' })).toBe(7);
    expect(s.value('lead_enrich_queue_jobs', { queue: 'export', state: 'waiting' })).toBe(0);
    expect(text).not.toContain('alert(1)');
    expect(text).not.toMatch(/run(_id)?="/);
  });

  it('a queue that cannot be read leaves the queue gauge empty, not the scrape failed', async () => {
    const m = createWorkerMetrics({ breakers: () => [], sinkPending: () => 0, queueDepth: async () => Promise.reject(new Error('down')) });
    const s = scrape(await m.text());
    expect(s.value('lead_enrich_sink_backlog')).toBe(0);
    expect(s.samples('lead_enrich_queue_jobs')).toEqual([]);
  });
});

describe('serve metrics', () => {
  it('are the recorded totals, the breakers as recorded and the queue, with a histogram of recorded stage durations', async () => {
    const reader = fakeReader();
    const totals: WindowTotals = {
      companies: [{ tenantId: 12, done: 3, degraded: 2, failed: 0 }],
      vendors: [{ tenantId: 12, vendor: 'tavily', calls: 4, errors: 3, retries: 1, costUsd: 0.01 }],
      runs: [{ status: 'completed', runs: 1 }],
      stageLatency: [{ stage: 'crawl', count: 3, sumS: 0.5, buckets: [{ le: 0.1, count: 2 }, { le: 1, count: 3 }] }],
      rejectedEvents: 0,
    };
    reader.totals = async () => totals;
    const s = scrape(await serveMetrics(reader));
    expect(s.value('lead_enrich_recorded_companies_done', { tenant: '12' })).toBe(3);
    expect(s.value('lead_enrich_recorded_companies_degraded', { tenant: '12' })).toBe(2);
    expect(s.value('lead_enrich_recorded_vendor_calls', { tenant: '12', vendor: 'tavily' })).toBe(4);
    expect(s.value('lead_enrich_recorded_vendor_errors', { tenant: '12', vendor: 'tavily' })).toBe(3);
    expect(s.value('lead_enrich_recorded_vendor_retries', { tenant: '12', vendor: 'tavily' })).toBe(1);
    expect(s.value('lead_enrich_breaker_state', { tenant: '12', vendor: 'tavily', state: 'open' })).toBe(1);
    expect(s.value('lead_enrich_breaker_state', { tenant: '12', vendor: 'lusha', state: 'closed' })).toBe(1);
    expect(s.value('lead_enrich_queue_jobs', { queue: 'enrich', state: 'retry' })).toBe(2);
    expect(s.value('lead_enrich_runs', { status: 'completed' })).toBe(1);
    expect(s.type('lead_enrich_recorded_stage_duration_seconds')).toBe('HISTOGRAM');
    expect(s.histogram('lead_enrich_recorded_stage_duration_seconds', { stage: 'crawl' })).toEqual({ count: 3, sum: 0.5, buckets: { '0.1': 2, '1': 3, '+Inf': 3 } });
  });
});
