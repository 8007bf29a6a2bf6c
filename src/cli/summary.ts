import type { BreakerTransition, ExportStatus, RunEvent } from '../domain/events.js';
import type { TenantId } from '../domain/vendor.js';
import { explainDisabledReason } from '../domain/index.js';

/** Usage of one vendor during the run (from run_vendor_usage): the sums of its `vendor.usage` events. */
export type VendorUsageSummary = Pick<Extract<RunEvent, { type: 'vendor.usage' }>, 'vendor' | 'calls' | 'errors' | 'retries' | 'tokens' | 'costUsd' | 'rateWaits' | 'rateWaitMs' | 'retriesRefused' | 'reuses' | 'savedUsd'>;

/** Latency of one stage over the run's companies, in milliseconds. */
export interface StageSummary {
  stage: string;
  p50Ms: number;
  p95Ms: number;
}

/** Everything the end-of-run summary (and `report --run`) shows; plain data, built by the runner or from the database. */
export interface RunSummary {
  runId: number;
  tenantId: TenantId;
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  /** Wall time of the run so far, in milliseconds; null when unknown. */
  durationMs: number | null;
  companies: { total: number; ok: number; degraded: number; failed: number };
  /** Input rows reported malformed and skipped. */
  malformedRows: number;
  /** Occurrences of each reason code across the run's companies (unsorted; rendering sorts). */
  reasons: Record<string, number>;
  vendors: VendorUsageSummary[];
  breakerTransitions: BreakerTransition[];
  stages: StageSummary[];
  /** Companies per export_status. */
  exports: Partial<Record<ExportStatus, number>>;
  /** Odoo export was disabled for the tenant during this run (settings incomplete, unreachable, no database, login refused…). */
  odooExportDisabled: boolean;
  /** Why, as enrichment_runs.odoo_export_disabled_reason stores it (`settings_incomplete: missing ODOO_DB`); null when not disabled or not recorded. */
  odooExportDisabledReason: string | null;
  /** The fatal error when status is failed. */
  error?: string | null;
  /** Cost per company (from company_enrichment_runs.cost_usd); absent: not known. */
  cost?: { totalUsd: number; perCompanyUsd: number; top: { companyId: number; costUsd: number }[] };
  /** RUN_BUDGET_USD and what the run spent; absent: not known. */
  budget?: { budgetUsd: number | null; spentUsd: number; companiesSkipped: number };
}

/** Degraded companies as a fraction of all companies (0 for an empty run). */
export function degradedShare(s: RunSummary): number {
  return s.companies.total === 0 ? 0 : s.companies.degraded / s.companies.total;
}

/** Reasons by count, highest first, ties by name. */
export function sortedReasons(s: RunSummary): { reason: string; count: number }[] {
  return Object.entries(s.reasons)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** The SQL an operator runs to look at the run (table names of DESIGN.md "Persistence"). */
export function runSql(runId: number): string[] {
  return [
    `SELECT company_id, degraded_reasons FROM company_enrichment_runs WHERE run_id = ${runId} AND degraded_reasons IS NOT NULL;`,
    `SELECT * FROM enrichment_runs WHERE run_id = ${runId};`,
    `SELECT * FROM breaker_transitions WHERE run_id = ${runId};`,
  ];
}

/** The summary as one JSON-ready object: the data plus degraded share, sorted reasons and the SQL. */
export function summaryToJson(s: RunSummary): Record<string, unknown> {
  return { ...s, degradedShare: degradedShare(s), reasons: sortedReasons(s), sql: runSql(s.runId), ...(s.status === 'interrupted' ? { resume: `lead-enrich run --resume ${s.runId}` } : {}) };
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd());
}

/** `n (total s)`: the attempts that waited for a rate-limit turn and how long they waited in all. */
const rateWaits = (v: VendorUsageSummary): string => ((v.rateWaits ?? 0) === 0 ? '0' : `${v.rateWaits} (${((v.rateWaitMs ?? 0) / 1000).toFixed(1)}s)`);
const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
const seconds = (ms: number | null): string => (ms === null ? '' : ` in ${(ms / 1000).toFixed(1)}s`);

/**
 * The summary as aligned plain text. With `colour` (only on a terminal) headings are bold and the
 * status coloured; without it the text has no escape codes.
 * @param options.colour add ANSI colour. Default false.
 */
export function renderSummary(s: RunSummary, options: { colour?: boolean } = {}): string {
  const c = options.colour === true;
  const bold = (t: string) => (c ? `\u001b[1m${t}\u001b[22m` : t);
  const statusColour = s.status === 'completed' ? 32 : s.status === 'failed' ? 31 : 33;
  const status = c ? `\u001b[${statusColour}m${s.status}\u001b[39m` : s.status;
  const out: string[] = [];
  out.push(bold(`Run ${s.runId} (tenant ${s.tenantId}): ${status}${seconds(s.durationMs)}`));
  if (s.error) out.push(`  error: ${s.error}`);
  const { total, ok, degraded, failed } = s.companies;
  out.push(bold('Companies'));
  out.push(...table([['total', String(total)], ['ok', String(ok)], ['degraded', String(degraded)], ['failed', String(failed)], ['degraded share', percent(degradedShare(s))], ['malformed rows skipped', String(s.malformedRows)]]));
  const reasons = sortedReasons(s);
  out.push(bold('Degradation reasons'));
  out.push(...(reasons.length === 0 ? ['  (none)'] : table(reasons.map((r) => [r.reason, String(r.count)]))));
  out.push(bold('Vendors'));
  if (s.vendors.length === 0) out.push('  (no vendor calls)');
  else {
    const rows = [...s.vendors]
      .sort((a, b) => a.vendor.localeCompare(b.vendor))
      .map((v) => [v.vendor, String(v.calls), String(v.errors), String(v.retries), String(v.retriesRefused ?? 0), rateWaits(v), String(v.tokens), v.costUsd.toFixed(4)]);
    out.push(...table([['vendor', 'calls', 'errors', 'retries', 'retries refused', 'rate waits', 'tokens', 'cost USD'], ...rows]));
  }
  const waits = s.vendors.filter((v) => (v.rateWaits ?? 0) > 0);
  const waitMs = waits.reduce((n, v) => n + (v.rateWaitMs ?? 0), 0);
  out.push(
    `  rate limits: ${waits.length === 0 ? 'no call waited' : `${waits.reduce((n, v) => n + (v.rateWaits ?? 0), 0)} attempts waited ${(waitMs / 1000).toFixed(1)}s for their turn (${waits.map((v) => `${v.vendor} ${v.rateWaits}`).join(', ')})`}`,
  );
  const refused = s.vendors.reduce((n, v) => n + (v.retriesRefused ?? 0), 0);
  if (refused > 0) out.push(`  retry budget: ${refused} retries refused`);
  const reused = s.vendors.filter((v) => (v.reuses ?? 0) > 0);
  if (reused.length > 0) {
    const saved = reused.reduce((n, v) => n + (v.savedUsd ?? 0), 0);
    out.push(`  stored answers: ${reused.reduce((n, v) => n + (v.reuses ?? 0), 0)} reused, ${saved.toFixed(4)} USD saved (${reused.map((v) => `${v.vendor} ${v.reuses}`).join(', ')})`);
  }
  if (s.cost) {
    const top = s.cost.top[0];
    out.push(`  cost: ${s.cost.totalUsd.toFixed(4)} USD, ${s.cost.perCompanyUsd.toFixed(4)} per company${top ? `, most ${top.costUsd.toFixed(4)} (company ${top.companyId})` : ''}`);
  }
  if (s.budget) {
    const b = s.budget;
    out.push(
      b.budgetUsd === null
        ? `  budget: none (spent ${b.spentUsd.toFixed(4)} USD)`
        : `  budget: spent ${b.spentUsd.toFixed(4)} of ${b.budgetUsd} USD${b.companiesSkipped > 0 ? `, exhausted: ${b.companiesSkipped} companies had paid steps skipped (BUDGET_EXHAUSTED)` : ''}`,
    );
  }
  out.push(bold(`Breaker transitions: ${s.breakerTransitions.length}`));
  out.push(...table(s.breakerTransitions.map((t) => [`tenant ${t.tenantId} ${t.vendor}`, `${t.from} -> ${t.to}`, t.reason, new Date(t.at).toISOString()])));
  out.push(bold('Stages (ms)'));
  out.push(...(s.stages.length === 0 ? ['  (none)'] : table([['stage', 'p50', 'p95'], ...s.stages.map((st) => [st.stage, String(Math.round(st.p50Ms)), String(Math.round(st.p95Ms))])])));
  out.push(bold('Odoo export'));
  if (s.odooExportDisabled) out.push(`  disabled for this tenant during the run: ${explainDisabledReason(s.odooExportDisabledReason)}`);
  const exports = Object.entries(s.exports).filter(([, n]) => (n ?? 0) > 0).sort(([a], [b]) => a.localeCompare(b));
  out.push(...(exports.length === 0 ? ['  (nothing exported)'] : table(exports.map(([st, n]) => [st, String(n)]))));
  out.push(bold('Look at the run'));
  out.push(...runSql(s.runId).map((q) => `  ${q}`));
  out.push(`  lead-enrich report --run ${s.runId}`);
  if (s.status === 'interrupted') out.push(bold(`Resume with: lead-enrich run --resume ${s.runId}`));
  return `${out.join('\n')}\n`;
}
