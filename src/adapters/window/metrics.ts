import client from 'prom-client';
import type { BreakerStateName, QueueDepth, RunEvent, WindowReader } from '../../domain/index.js';

/**
 * Prometheus text for `serve` and `worker --metrics-port` (DESIGN.md "The operators' window"),
 * with prom-client. Labels are bounded: tenant, vendor, state, kind, stage, queue, status; never a
 * company's name or id, a run id, or a vendor's text.
 */

export const METRICS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;

/** Stage latency buckets, in seconds (a crawl is tens of ms to seconds; a company up to its deadline). */
export const STAGE_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

const BREAKER_STATES: readonly BreakerStateName[] = ['closed', 'open', 'halfOpen'];
const QUEUE_STATES = ['waiting', 'retry', 'active', 'failed', 'completed'] as const;

/** The breaker-state gauge: 1 for a breaker's state, 0 for the two others (the enum pattern). */
function setBreakerStates(gauge: client.Gauge<'tenant' | 'vendor' | 'state'>, breakers: readonly { tenantId: number; vendor: string; state: BreakerStateName }[]): void {
  for (const b of breakers) {
    for (const s of BREAKER_STATES) gauge.set({ tenant: String(b.tenantId), vendor: b.vendor, state: s }, b.state === s ? 1 : 0);
  }
}

/** Jobs by queue (enrich, export) and state, summed over the runs (a run id is not a label). */
function setQueueDepth(gauge: client.Gauge<'queue' | 'state'>, depth: readonly QueueDepth[]): void {
  for (const queue of ['enrich', 'export'] as const) {
    for (const state of QUEUE_STATES) gauge.set({ queue, state }, depth.filter((d) => d.queue === queue).reduce((n, d) => n + d[state], 0));
  }
}

/**
 * /metrics of `serve`: gauges read from the database at scrape time (a fresh registry per scrape,
 * so two scrapes at once do not mix). Counts are of what is recorded: every run on this database.
 */
export async function serveMetrics(reader: WindowReader): Promise<string> {
  const [totals, breakers, depth] = await Promise.all([reader.totals(STAGE_BUCKETS_S), reader.breakers(), reader.queue()]);
  const registry = new client.Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new client.Gauge<L>({ name, help, labelNames, registers: [registry] });

  setBreakerStates(gauge('lead_enrich_breaker_state', 'Breaker state per (tenant, vendor) as last recorded: 1 for its state, 0 for the others.', ['tenant', 'vendor', 'state']), breakers);
  const calls = gauge('lead_enrich_recorded_vendor_calls', 'Vendor calls recorded by every run (run_vendor_usage).', ['tenant', 'vendor']);
  const errors = gauge('lead_enrich_recorded_vendor_errors', 'Vendor call errors recorded by every run.', ['tenant', 'vendor']);
  const retries = gauge('lead_enrich_recorded_vendor_retries', 'Vendor call retries recorded by every run.', ['tenant', 'vendor']);
  const cost = gauge('lead_enrich_recorded_vendor_cost_usd', 'Vendor cost recorded by every run, in US dollars.', ['tenant', 'vendor']);
  for (const v of totals.vendors) {
    const l = { tenant: String(v.tenantId), vendor: v.vendor };
    calls.set(l, v.calls);
    errors.set(l, v.errors);
    retries.set(l, v.retries);
    cost.set(l, v.costUsd);
  }
  const done = gauge('lead_enrich_recorded_companies_done', 'Companies with a recorded result, every run.', ['tenant']);
  const degraded = gauge('lead_enrich_recorded_companies_degraded', 'Companies recorded with at least one degradation reason.', ['tenant']);
  const failed = gauge('lead_enrich_recorded_companies_failed', 'Companies recorded as failed.', ['tenant']);
  for (const c of totals.companies) {
    done.set({ tenant: String(c.tenantId) }, c.done);
    degraded.set({ tenant: String(c.tenantId) }, c.degraded);
    failed.set({ tenant: String(c.tenantId) }, c.failed);
  }
  const runs = gauge('lead_enrich_runs', 'Runs by status.', ['status']);
  for (const r of totals.runs) runs.set({ status: r.status }, r.runs);
  setQueueDepth(gauge('lead_enrich_queue_jobs', 'Jobs of the fleet queue by queue and state, every run.', ['queue', 'state']), depth);
  gauge('lead_enrich_sink_rejected_events', 'Events the database refused for their content (should be 0).', []).set(totals.rejectedEvents);

  // The recorded stage durations as a histogram: prom-client's Histogram only observes, so this
  // one is a metric object of its own, in prom-client's shape.
  const name = 'lead_enrich_recorded_stage_duration_seconds';
  registry.registerMetric({
    name,
    help: 'Stage durations recorded by every run (run_event_logs), in seconds.',
    type: 'histogram',
    get: async () => ({
      name,
      help: 'Stage durations recorded by every run (run_event_logs), in seconds.',
      type: 'histogram',
      aggregator: 'sum',
      values: totals.stageLatency.flatMap((s) => [
        ...s.buckets.map((b) => ({ metricName: `${name}_bucket`, labels: { stage: s.stage, le: b.le }, value: b.count })),
        { metricName: `${name}_bucket`, labels: { stage: s.stage, le: '+Inf' }, value: s.count },
        { metricName: `${name}_sum`, labels: { stage: s.stage }, value: s.sumS },
        { metricName: `${name}_count`, labels: { stage: s.stage }, value: s.count },
      ]),
    }),
  } as unknown as client.Metric);
  return registry.metrics();
}

/** A guarded call's event as the runtime's `calls$` has it (only what the metrics read). */
export type CallEvent =
  | { type: 'attempt'; tenantId: number; vendor: string; ok: boolean; kind: string | null }
  | { type: 'retry'; tenantId: number; vendor: string; kind: string }
  | { type: 'refused'; tenantId: number; vendor: string }
  | { type: 'rate_wait'; tenantId: number; vendor: string; waitedMs: number }
  | { type: 'retry_refused'; tenantId: number; vendor: string };

/** What a worker's /metrics reads at scrape time. */
export interface WorkerMetricsSources {
  breakers(): readonly { tenantId: number; vendor: string; state: BreakerStateName }[];
  sinkPending(): number;
  queueDepth(): Promise<QueueDepth[]>;
}

/** The metrics of one process (`worker --metrics-port`): counters fed with its events. */
export interface WorkerMetrics {
  onCall(event: CallEvent): void;
  onRunEvent(event: RunEvent): void;
  text(): Promise<string>;
}

/** The counters of one worker process, fed by the runtime's calls$ and events$. */
export function createWorkerMetrics(sources: WorkerMetricsSources): WorkerMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'lead_enrich_process_' });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new client.Counter<L>({ name, help, labelNames, registers: [registry] });
  const calls = counter('lead_enrich_vendor_calls_total', 'Vendor attempts that made a request, by outcome kind (ok, or the error kind).', ['tenant', 'vendor', 'kind']);
  const errors = counter('lead_enrich_vendor_errors_total', 'Vendor attempts that failed, by error kind.', ['tenant', 'vendor', 'kind']);
  const retries = counter('lead_enrich_vendor_retries_total', 'Retries of vendor calls (a backoff wait started), by the error kind retried.', ['tenant', 'vendor', 'kind']);
  const refusals = counter('lead_enrich_vendor_refusals_total', 'Calls refused by an open breaker (no request made).', ['tenant', 'vendor']);
  const rateWaits = counter('lead_enrich_vendor_rate_waits_total', 'Vendor attempts that waited for their rate-limit turn (VENDOR_RATE_LIMITS).', ['tenant', 'vendor']);
  const rateWaitSeconds = counter('lead_enrich_vendor_rate_wait_seconds_total', 'Time vendor attempts spent waiting for their rate-limit turn, in seconds.', ['tenant', 'vendor']);
  const retriesRefused = counter('lead_enrich_vendor_retries_refused_total', 'Retries the retry budget refused (RETRY_BUDGET_PERCENT).', ['tenant', 'vendor']);
  const transitions = counter('lead_enrich_breaker_transitions_total', 'Breaker transitions, by the state entered.', ['tenant', 'vendor', 'state']);
  const done = counter('lead_enrich_companies_done_total', 'Companies finished by this process.', ['tenant']);
  const degraded = counter('lead_enrich_companies_degraded_total', 'Companies finished by this process with at least one degradation reason.', ['tenant']);
  const exports = counter('lead_enrich_export_outcomes_total', 'Odoo export outcomes.', ['tenant', 'status']);
  const stages = new client.Histogram<'stage'>({ name: 'lead_enrich_stage_duration_seconds', help: 'Stage durations of the companies this process enriched, in seconds.', labelNames: ['stage'], buckets: [...STAGE_BUCKETS_S], registers: [registry] });
  new client.Gauge<'tenant' | 'vendor' | 'state'>({
    name: 'lead_enrich_breaker_state',
    help: "This process's breaker state per (tenant, vendor): 1 for its state, 0 for the others.",
    labelNames: ['tenant', 'vendor', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      setBreakerStates(this, sources.breakers());
    },
  });
  new client.Gauge({ name: 'lead_enrich_sink_backlog', help: 'Run events handed to the sink and not yet committed.', registers: [registry], collect() { this.set(sources.sinkPending()); } });
  new client.Gauge<'queue' | 'state'>({
    name: 'lead_enrich_queue_jobs',
    help: 'Jobs of the fleet queue by queue and state, every run.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      // A database that does not answer leaves the gauge empty for this scrape rather than failing it.
      const depth = await sources.queueDepth().catch(() => null);
      if (depth) setQueueDepth(this, depth);
    },
  });
  return {
    onCall(e) {
      const l = { tenant: String(e.tenantId), vendor: e.vendor };
      if (e.type === 'attempt') {
        calls.inc({ ...l, kind: e.ok ? 'ok' : (e.kind ?? 'unknown') });
        if (!e.ok) errors.inc({ ...l, kind: e.kind ?? 'unknown' });
      } else if (e.type === 'retry') retries.inc({ ...l, kind: e.kind });
      else if (e.type === 'rate_wait') {
        rateWaits.inc(l);
        rateWaitSeconds.inc(l, e.waitedMs / 1000);
      } else if (e.type === 'retry_refused') retriesRefused.inc(l);
      else refusals.inc(l);
    },
    onRunEvent(e) {
      if (e.type === 'stage.event') {
        if (e.durationMs !== null) stages.observe({ stage: e.stage }, e.durationMs / 1000);
      } else if (e.type === 'company.finished') {
        done.inc({ tenant: String(e.tenantId) });
        if (e.output.reasons.length > 0) degraded.inc({ tenant: String(e.tenantId) });
      } else if (e.type === 'breaker.transition') {
        transitions.inc({ tenant: String(e.tenantId), vendor: e.vendor, state: e.to });
      } else if (e.type === 'export.outcome') {
        exports.inc({ tenant: String(e.tenantId), status: e.exportStatus });
      }
    },
    text: () => registry.metrics(),
  };
}
