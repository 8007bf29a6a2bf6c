import type { ExportStatus } from '../../domain/events.js';
import type { ExportCompany, OdooClientPort, OdooTarget, PartnerMapStore } from '../../domain/odoo.js';
import type { TenantId } from '../../domain/vendor.js';
import type { GuardedCaller } from '../guard.types.js';
import { exportOneCompany } from './exportCompany.js';
import { companyVals, contactPlans, type PartnerVals } from './plan.js';
import { OdooSession, type Disabled } from './session.js';
import type { OdooTargetResolution } from './settings.js';

/**
 * The Odoo export of one tenant for one run (DESIGN.md "Odoo export"): companies stream in, one
 * outcome per company streams out, and whatever Odoo does the export finishes. Companies are
 * exported one at a time (one Odoo per tenant; memory stays flat whatever the input size).
 */

/** The outcome of one company, persisted to company_enrichment_runs.export_status by the runner. */
export interface ExportOutcome {
  companyId: number;
  exportStatus: ExportStatus;
  /** The company's res.partner id when it was written (or, for `failed`, found). */
  partnerId: number | null;
  /** Secret-free explanation for the operator (fault text for `failed`, reason for `disabled`, …). */
  detail: string | null;
  /** Fields dropped on the retry (`exported_stripped`), else empty. */
  strippedFields: string[];
  contacts: { exported: number; failed: number };
  /** Dry run only: the values that would have been written (company, then contacts without parent_id). */
  planned?: { company: PartnerVals; contacts: PartnerVals[] };
}

/** What the runner persists once the tenant's export ends. */
export interface ExportSummary {
  tenantId: TenantId;
  /** enrichment_runs.odoo_export_disabled. */
  odooExportDisabled: boolean;
  disabled: Disabled | null;
  counts: Record<ExportStatus, number>;
}

/** Minimal pino-compatible logger. */
export interface ExportLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

/** What the export needs from the outside world. */
export interface OdooExportDeps {
  /** Breaker + timeout + retryWithBackoff; the export uses vendor `odoo`. */
  guard: GuardedCaller;
  partnerMap: PartnerMapStore;
  /** Builds the XML-RPC client of a target (createOdooClient with VENDOR_TIMEOUT_MS and ODOO_MAX_RESPONSE_BYTES in production). */
  createClient(target: OdooTarget): OdooClientPort;
  logger?: ExportLogger;
}

/** One tenant's export. */
export interface OdooExportRequest {
  tenantId: TenantId;
  /** From resolveOdooTarget(tenant row, config). */
  resolution: OdooTargetResolution;
  /** ODOO_EXPORT_SET_DEFAULTS. */
  setDefaults: boolean;
  /** ODOO_STRIP_FIELDS. */
  stripFields: readonly string[];
  /** `--dry-run`: no call to Odoo at all; outcomes `dry_run` with the planned values. */
  dryRun?: boolean;
  /** Run cancellation: calls in flight are cancelled and the export stops. */
  signal?: AbortSignal;
  /** Drain: no further company is started; the one in flight finishes. */
  stopIntake?: AbortSignal;
  /** Told once when the tenant's export gets disabled (persist enrichment_runs.odoo_export_disabled). */
  onDisabled?: (disabled: Disabled) => void;
}

const emptyCounts = (): Record<ExportStatus, number> => ({ exported: 0, exported_stripped: 0, failed: 0, disabled: 0, dry_run: 0, skipped: 0 });
const outcome = (companyId: number, exportStatus: ExportStatus, detail: string | null, extra: Partial<ExportOutcome> = {}): ExportOutcome => ({
  companyId,
  exportStatus,
  partnerId: null,
  detail,
  strippedFields: [],
  contacts: { exported: 0, failed: 0 },
  ...extra,
});

/**
 * Exports `companies` to the tenant's Odoo. Yields one {@link ExportOutcome} per company in input
 * order and returns the {@link ExportSummary}. Never throws because of Odoo; it rethrows only what
 * the input iterable throws.
 */
export async function* exportTenant(
  deps: OdooExportDeps,
  request: OdooExportRequest,
  companies: AsyncIterable<ExportCompany> | Iterable<ExportCompany>,
): AsyncGenerator<ExportOutcome, ExportSummary, undefined> {
  const { tenantId, resolution } = request;
  const counts = emptyCounts();
  const log = deps.logger;
  let session: OdooSession | null = null;
  let disabled: Disabled | null = null;
  const onDisabled = (d: Disabled): void => {
    disabled = d;
    log?.warn({ tenantId, vendor: 'odoo', reason: d.reason, detail: d.detail }, 'odoo export disabled for the rest of the run');
    request.onDisabled?.(d);
  };
  if (resolution.kind === 'incomplete') onDisabled({ reason: 'settings_incomplete', detail: `missing ${resolution.missing.join(', ')}` });
  if (resolution.kind === 'target' && !request.dryRun) {
    session = new OdooSession({ tenantId, client: deps.createClient(resolution.target), guard: deps.guard, onDisabled, ...(request.signal ? { signal: request.signal } : {}) });
  }

  for await (const company of companies) {
    if (request.signal?.aborted || request.stopIntake?.aborted) break;
    const vals = companyVals(tenantId, company, { setDefaults: request.setDefaults });
    let result: ExportOutcome;
    if (resolution.kind === 'none') result = outcome(company.companyId, 'skipped', 'no Odoo URL for this tenant');
    else if (vals === null) result = outcome(company.companyId, 'skipped', 'no name or domain to name the partner by');
    else if (request.dryRun && !disabled) {
      const planned = { company: vals, contacts: contactPlans(tenantId, company).map((c) => c.vals) };
      result = outcome(company.companyId, 'dry_run', `would write 1 company partner and ${planned.contacts.length} contacts`, { planned });
    } else if (disabled || !session) {
      const d = disabled as Disabled | null;
      result = outcome(company.companyId, 'disabled', d ? `export disabled: ${d.reason} (${d.detail})` : 'export disabled');
    } else {
      result = await exportOneCompany({ tenantId, session, partnerMap: deps.partnerMap, targetKey: resolution.kind === 'target' ? resolution.targetKey : '', stripFields: request.stripFields, logger: log }, company, vals);
    }
    counts[result.exportStatus] += 1;
    if (result.exportStatus === 'failed' || result.exportStatus === 'exported_stripped') {
      log?.warn({ tenantId, vendor: 'odoo', companyId: company.companyId, exportStatus: result.exportStatus, detail: result.detail, strippedFields: result.strippedFields }, 'odoo export degraded');
    }
    yield result;
  }
  const final = disabled as Disabled | null;
  return { tenantId, odooExportDisabled: final !== null, disabled: final, counts };
}
