import type { EmailRecord, RunEvent } from '../../domain/index.js';

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

function only<T extends RunEvent['type']>(events: readonly RunEvent[], type: T): Of<T>[] {
  return events.filter((e): e is Of<T> => e.type === type);
}

/** Keeps the last value per key, in first-seen order (one statement may not touch a row twice). */
function lastByKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  const map = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    map.delete(k);
    map.set(k, item);
  }
  return [...map.values()];
}

/** Rows for `companies` and `company_enrichment_runs` from company.finished events. */
export function companyRows(events: readonly RunEvent[]): { companies: object[]; runs: object[] } {
  const finished = lastByKey(only(events, 'company.finished'), (e) => `${e.runId}/${e.output.companyId}`);
  const runs = finished.map((e) => ({
    run_id: e.runId,
    company_id: e.output.companyId,
    tenant_id: e.tenantId,
    status: e.output.reasons.length > 0 ? 'degraded' : 'ok',
    degraded_reasons: e.output.reasons.length > 0 ? (e.output.degradedReasons ?? e.output.reasons.join(',')) : null,
    reasons: e.output.reasons,
    facts: e.output.facts,
    provenance: e.output.provenance,
    fallbacks: e.output.fallbacks,
    timings: e.output.timings,
    started_at: e.startedAt,
    finished_at: Math.max(e.finishedAt, e.startedAt),
    cost_usd: e.costUsd ?? 0,
  }));
  const companies = lastByKey(finished, (e) => `${e.tenantId}/${e.output.companyId}`).map((e) => ({
    run_id: e.runId,
    tenant_id: e.tenantId,
    company_id: e.output.companyId,
    name: e.output.facts.name ?? null,
    facts: e.output.facts,
    finished_at: e.finishedAt,
  }));
  return { companies, runs };
}

/**
 * Rows for `contacts`: each contact with its e-mail's verification, plus addresses found without a
 * contact (the site's mailto: links) as name-less contacts.
 */
export function contactRows(events: readonly RunEvent[]): object[] {
  // Keyed by (tenant, company, dedupe key), the last row per key winning, in the order of the last
  // occurrence (as lastByKey): one statement may not touch a row twice. Rows are built as literals
  // straight into the map — the spread/rest version cost 15 µs per company.
  const rows = new Map<string, object>();
  const put = (key: string, row: object): void => {
    rows.delete(key);
    rows.set(key, row);
  };
  for (const e of events) {
    if (e.type !== 'company.finished') continue;
    const { tenantId, runId, finishedAt, output } = e;
    const prefix = `${tenantId}/${output.companyId}/`;
    const byEmail = new Map<string, EmailRecord>();
    for (const r of output.emails) byEmail.set(r.email.toLowerCase(), r);
    // Every contact with an address gets its verdict: two contacts with one address (one row, as
    // the dedupe key is the address) must not leave the second without it.
    const used = new Set<string>();
    for (const c of output.contacts) {
      const lower = c.email ? c.email.toLowerCase() : null;
      const record = lower ? byEmail.get(lower) : undefined;
      if (lower) used.add(lower);
      put(prefix + (c.email ?? c.linkedinUrl ?? c.fullName).toLowerCase(), {
        tenant_id: tenantId, company_id: output.companyId, at: finishedAt, run_id: runId, email: c.email, full_name: c.fullName, title: c.title,
        linkedin_url: c.linkedinUrl, source: c.source, email_status: record?.status ?? 'unverified', email_sub_status: record?.subStatus ?? null,
      });
    }
    for (const [lower, r] of byEmail) {
      if (used.has(lower)) continue;
      put(prefix + lower, {
        tenant_id: tenantId, company_id: output.companyId, at: finishedAt, run_id: runId, email: r.email, full_name: null, title: null,
        linkedin_url: null, source: r.source, email_status: r.status, email_sub_status: r.subStatus ?? null,
      });
    }
  }
  return [...rows.values()];
}

/** The (run, company) pairs whose result the batch carries: their other rows count only with it. */
export function resultKeys(events: readonly RunEvent[]): Set<string> {
  return new Set(only(events, 'company.finished').map((e) => `${e.runId}/${e.output.companyId}`));
}

/**
 * Vendor usage summed per (run, tenant, vendor, company) within the batch: increments add up. A
 * row `gated` counts only if the company's result in the same batch is the one recorded.
 */
export function usageRows(events: readonly RunEvent[], results = resultKeys(events)): object[] {
  const sums = new Map<string, { run_id: number; tenant_id: number; company_id: number | null; gated: boolean; vendor: string; calls: number; errors: number; retries: number; tokens: number; cost_usd: number; rate_waits: number; rate_wait_ms: number; retries_refused: number; reuses: number; saved_usd: number }>();
  for (const e of only(events, 'vendor.usage')) {
    const companyId = e.companyId ?? null;
    const key = `${e.runId}/${e.tenantId}/${e.vendor}/${companyId}`;
    const gated = companyId !== null && results.has(`${e.runId}/${companyId}`);
    const row = sums.get(key) ?? { run_id: e.runId, tenant_id: e.tenantId, company_id: companyId, gated, vendor: e.vendor, calls: 0, errors: 0, retries: 0, tokens: 0, cost_usd: 0, rate_waits: 0, rate_wait_ms: 0, retries_refused: 0, reuses: 0, saved_usd: 0 };
    row.calls += e.calls;
    row.errors += e.errors;
    row.retries += e.retries;
    row.tokens += e.tokens;
    row.cost_usd += e.costUsd;
    row.rate_waits += e.rateWaits ?? 0;
    row.rate_wait_ms += Math.round(e.rateWaitMs ?? 0);
    row.retries_refused += e.retriesRefused ?? 0;
    row.reuses += e.reuses ?? 0;
    row.saved_usd += e.savedUsd ?? 0;
    sums.set(key, row);
  }
  return [...sums.values()];
}

/** Rows for `run_event_logs`, in pushed order; `gated` as for {@link usageRows}. */
export function stageRows(events: readonly RunEvent[], results = resultKeys(events)): object[] {
  return only(events, 'stage.event').map((e, ord) => ({
    ord, gated: e.companyId !== null && results.has(`${e.runId}/${e.companyId}`), run_id: e.runId, tenant_id: e.tenantId, company_id: e.companyId, stage: e.stage, event: e.event, status: e.status,
    error_code: e.errorCode, duration_ms: e.durationMs, extra: e.extra, at: e.at,
  }));
}

/** Rows for `breaker_transitions`. */
export function transitionRows(events: readonly RunEvent[]): object[] {
  const rows = only(events, 'breaker.transition').map((e) => ({
    tenant_id: e.tenantId, vendor: e.vendor, from_state: e.from, to_state: e.to, at: e.at, reason: e.reason, run_id: e.runId,
  }));
  return lastByKey(rows, (r) => `${r.tenant_id}/${r.vendor}/${r.at}/${r.from_state}/${r.to_state}`);
}

/** Export outcomes keyed by (run, company), the last one winning. */
export function exportRows(events: readonly RunEvent[]): object[] {
  return lastByKey(only(events, 'export.outcome'), (e) => `${e.runId}/${e.companyId}`).map((e) => ({
    run_id: e.runId, company_id: e.companyId, export_status: e.exportStatus, partner_id: e.partnerId, detail: e.detail,
  }));
}
