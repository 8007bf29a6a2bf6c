import type { Config } from '../../config/config.js';
import type { TenantId } from '../../domain/vendor.js';
import type { OdooExportRequest } from './odooExport.js';
import { resolveOdooTarget, type TenantOdooSettings } from './settings.js';

/**
 * The export request of one tenant from the configuration and its `tenants` row (null when the
 * tenant has none): target, ODOO_EXPORT_SET_DEFAULTS, ODOO_STRIP_FIELDS. The runner adds the
 * signal and onDisabled. Production deps: `createClient: (t) => createOdooClient(t, { timeoutMs: config.vendorTimeoutMs, maxResponseBytes: config.odoo.maxResponseBytes })`.
 */
export function exportRequestFor(
  config: Pick<Config, 'odoo' | 'features' | 'secret' | 'keyVariableProblem'>,
  tenantId: TenantId,
  tenant: TenantOdooSettings | null,
  dryRun = false,
): OdooExportRequest {
  return {
    tenantId,
    resolution: resolveOdooTarget(tenant, config),
    setDefaults: config.features.odooSetDefaults,
    stripFields: config.odoo.stripFields,
    dryRun,
  };
}
