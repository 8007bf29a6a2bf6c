import type { RunReport } from '../adapters/postgres/report.js';
import type { BreakerStateName, BreakerVendor, ExportStatus } from '../domain/index.js';
import type { RunSummary } from './summary.js';

/**
 * The end-of-run summary from what the database holds for the run (`report --run` and the end of
 * `run` print the same thing, so what an operator sees is what was persisted).
 */
export function summaryFromReport(report: RunReport, extra: { malformedRows?: number } = {}): RunSummary {
  const { run } = report;
  const degraded = run.counts.degraded;
  const done = run.counts.done;
  const exports: Partial<Record<ExportStatus, number>> = {};
  for (const e of report.exports) if (e.exportStatus !== 'pending') exports[e.exportStatus as ExportStatus] = e.companies;
  const reasons: Record<string, number> = {};
  for (const r of report.reasons) reasons[r.reason] = r.companies;
  const malformed = typeof run.params.malformedRows === 'number' ? run.params.malformedRows : 0;
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    status: run.status,
    durationMs: run.finishedAt ? run.finishedAt.getTime() - run.startedAt.getTime() : null,
    companies: { total: run.counts.total, ok: done - degraded - run.counts.failed, degraded, failed: run.counts.failed },
    malformedRows: extra.malformedRows ?? malformed,
    reasons,
    vendors: report.vendors,
    breakerTransitions: report.breakerTransitions.map((t) => ({
      tenantId: run.tenantId,
      vendor: t.vendor as BreakerVendor,
      from: t.from as BreakerStateName,
      to: t.to as BreakerStateName,
      at: t.at.getTime(),
      reason: t.reason,
    })),
    stages: report.stages.map((s) => ({ stage: s.stage, p50Ms: s.p50, p95Ms: s.p95 })),
    exports,
    odooExportDisabled: run.odooExportDisabled,
    odooExportDisabledReason: run.odooExportDisabled ? run.odooExportDisabledReason : null,
    cost: report.cost,
    budget: report.budget,
  };
}
