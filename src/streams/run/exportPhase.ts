import type { Config } from '../../config/config.js';
import type { ExportStatus, HeldLock, Locks, RunQueue, RunStore } from '../../domain/index.js';
import type { Observability } from '../observability.js';
import { exportTenant, type ExportSummary, type OdooExportDeps, type OdooExportRequest } from '../odoo/odooExport.js';
import { exportRequestFor } from '../odoo/request.js';
import { disabledReasonText, type Disabled } from '../odoo/session.js';
import type { GuardedCaller } from '../guard.types.js';
import type { Sink } from '../sink.js';
import { CompanyUsage } from './usage.js';

/** What the export phase of a run needs. */
export interface ExportPhaseDeps {
  config: Config;
  sink: Pick<Sink, 'flush'>;
  obs: Observability;
  store: Pick<RunStore, 'getTenant' | 'disableOdooExport'>;
  queue: Pick<RunQueue, 'unexported'>;
  locks: Pick<Locks, 'waitForExport'>;
  odoo: OdooExportDeps;
}

/** A guard that counts every call into whatever tally `current()` is at the time of the call. */
function countingGuard(inner: GuardedCaller, current: () => CompanyUsage): GuardedCaller {
  return {
    registry: inner.registry,
    call: (tenantId, vendor, fn, options) => current().wrap(inner).call(tenantId, vendor, fn, options),
  };
}

/** Options of {@link exportPhase}. */
export interface ExportPhaseOptions {
  runId: number;
  tenantId: number;
  dryRun: boolean;
  /** Abort: calls in flight are cancelled, and the company they were for gets no export_status (a resume exports it). */
  signal: AbortSignal;
  /** Drain: the company in flight finishes and is recorded; no further one starts. The rest keep no export_status. */
  stopIntake?: AbortSignal;
  /** At most this many companies (a chunk of the fleet's export); default all. */
  limit?: number;
  onCompany?: (status: ExportStatus) => void;
}

/** The first `limit` items of `items`. */
async function* upTo<T>(items: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  if (limit <= 0) return;
  let n = 0;
  for await (const item of items) {
    yield item;
    if (++n >= limit) return;
  }
}

/**
 * Exports the run's companies that have no export outcome yet to the tenant's Odoo and records
 * every outcome (export.outcome through the sink) and, when Odoo is unreachable, missing or refuses
 * the login, the run's odoo_export_disabled flag. Never rejects because of Odoo.
 */
export async function exportPhase(deps: ExportPhaseDeps, options: ExportPhaseOptions): Promise<ExportSummary> {
  const { runId, tenantId } = options;
  // The export reads the results from the database: the last companies' rows may still be in the
  // sink's buffer (up to SINK_FLUSH_MS), and a company not yet written would never be exported.
  await deps.sink.flush();
  const tenant = await deps.store.getTenant(tenantId);
  const request = {
    ...exportRequestFor(deps.config, tenantId, tenant, options.dryRun),
    signal: options.signal,
    ...(options.stopIntake ? { stopIntake: options.stopIntake } : {}),
    onDisabled: (d: Disabled) => {
      void deps.store.disableOdooExport(runId, disabledReasonText(d)).catch(() => undefined);
    },
  };
  // Two runs of one tenant exporting to one Odoo at once could both miss a partner's ref and both
  // create it: one export per (tenant, target) at a time, the other waits (or stops on interrupt).
  let lock: HeldLock | null = null;
  if (request.resolution.kind === 'target' && !options.dryRun) {
    lock = await deps.locks.waitForExport(tenantId, request.resolution.targetKey, {
      signal: options.stopIntake ? AbortSignal.any([options.signal, options.stopIntake]) : options.signal,
      onWait: () => deps.odoo.logger?.info({ tenantId, runId }, 'another run is exporting this tenant to the same Odoo; waiting for it'),
    });
  }
  try {
    return await exportInTurn(deps, options, request);
  } finally {
    await lock?.release();
  }
}

async function exportInTurn(deps: ExportPhaseDeps, options: ExportPhaseOptions, request: OdooExportRequest): Promise<ExportSummary> {
  const { runId, tenantId } = options;
  // Odoo calls count in run_vendor_usage (vendor `odoo`) like any vendor's: the calls made for a
  // company (the login with the first one) are committed with its export outcome, so a resume that
  // exports a company again counts only the calls it makes again.
  let usage = new CompanyUsage();
  const odoo = { ...deps.odoo, guard: countingGuard(deps.odoo.guard, () => usage) };
  const iterator = exportTenant(odoo, request, upTo(deps.queue.unexported(runId), options.limit ?? Number.POSITIVE_INFINITY));
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      for (const [vendor, t] of usage.byVendor) await deps.obs.bumpVendor(runId, tenantId, vendor, t);
      if (next.value.odooExportDisabled && next.value.disabled) {
        await deps.store.disableOdooExport(runId, disabledReasonText(next.value.disabled));
      }
      return next.value;
    }
    const o = next.value;
    // Aborted while this company was being written: its calls were cancelled, so its outcome
    // (`disabled: run cancelled`) says nothing about Odoo. It keeps no export_status, and a resume
    // exports it again (by its ref: no duplicate).
    if (options.signal.aborted) continue;
    let detail = o.strippedFields.length > 0 ? `${o.detail ?? 'stripped'} (dropped: ${o.strippedFields.join(', ')})` : o.detail;
    if (o.exportStatus === 'dry_run' && o.planned) detail = `${o.detail ?? 'dry run'}: ${JSON.stringify(o.planned)}`.slice(0, 4000);
    const events = deps.obs.group();
    for (const [vendor, t] of usage.byVendor) void events.bumpVendor(runId, tenantId, vendor, t);
    usage = new CompanyUsage();
    await events.commit({ type: 'export.outcome', runId, tenantId, companyId: o.companyId, exportStatus: o.exportStatus, partnerId: o.partnerId, detail });
    options.onCompany?.(o.exportStatus);
  }
}
