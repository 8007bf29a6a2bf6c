import type { ExportCompany, PartnerMapStore } from '../../domain/odoo.js';
import type { TenantId } from '../../domain/vendor.js';
import type { ExportLogger, ExportOutcome } from './odooExport.js';
import { contactPlans, type PartnerVals } from './plan.js';
import type { OdooSession } from './session.js';
import { upsertPartner } from './upsert.js';

/**
 * One company's export: its partner, then its contacts as child partners. The stored mapping is a
 * cache in front of the stable `ref` on each partner: a failing mapping store never fails an
 * export (the ref still finds the partner next time), it is only logged.
 */

/** What {@link exportOneCompany} works with. */
export interface CompanyExportContext {
  tenantId: TenantId;
  session: OdooSession;
  partnerMap: PartnerMapStore;
  /** Target identity of the mapping (settings.ts targetKeyOf). */
  targetKey: string;
  stripFields: readonly string[];
  logger?: ExportLogger | undefined;
}

async function quietly<T>(ctx: CompanyExportContext, what: string, fallback: T, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    ctx.logger?.warn({ tenantId: ctx.tenantId, vendor: 'odoo', err: error instanceof Error ? error.message : String(error) }, `partner map ${what} failed`);
    return fallback;
  }
}

/** Exports one company whose partner values are `vals` (see plan.ts). */
export async function exportOneCompany(ctx: CompanyExportContext, company: ExportCompany, vals: PartnerVals): Promise<ExportOutcome> {
  const { tenantId, session, partnerMap, targetKey } = ctx;
  const { companyId } = company;
  const base = { companyId, strippedFields: [] as string[], contacts: { exported: 0, failed: 0 } };
  const known = await quietly(ctx, 'read', null, () => partnerMap.getCompany(tenantId, companyId, targetKey));
  const result = await upsertPartner(session, { knownId: known, ref: String(vals.ref), vals, stripFields: ctx.stripFields });
  if (result.status === 'disabled') {
    return { ...base, exportStatus: 'disabled', partnerId: null, detail: `export disabled: ${result.disabled.reason} (${result.disabled.detail})` };
  }
  if (result.status === 'failed') {
    return { ...base, exportStatus: 'failed', partnerId: result.partnerId, detail: result.detail, strippedFields: result.stripped };
  }
  const partnerId = result.partnerId;
  if (known !== partnerId) {
    // New, found by ref after the mapping was lost, or recreated after a deletion in Odoo.
    if (known !== null) await quietly(ctx, 'forget', undefined, () => partnerMap.forget(tenantId, companyId, targetKey));
    await quietly(ctx, 'write', undefined, () => partnerMap.putCompany(tenantId, companyId, targetKey, partnerId));
  }

  const contacts = { exported: 0, failed: 0 };
  const problems: string[] = [];
  const knownContacts = await quietly(ctx, 'read', new Map<string, number>(), () => partnerMap.getContacts(tenantId, companyId, targetKey));
  for (const plan of contactPlans(tenantId, company)) {
    const knownId = knownContacts.get(plan.key) ?? null;
    // A contact seen before under another key (no e-mail then) is the same child of this company
    // with the same e-mail, or else the same name: found, it is updated and takes the new ref.
    const email = typeof plan.vals.email === 'string' ? plan.vals.email : null;
    const byName = [['parent_id', '=', partnerId], ['name', '=ilike', String(plan.vals.name)]];
    // With an e-mail, a same-named child is taken only when it has none (not someone else's).
    const sameRecord = email ? [[['parent_id', '=', partnerId], ['email', '=ilike', email]], [...byName, ['email', '=', false]]] : [byName];
    const written = await upsertPartner(session, { knownId, ref: String(plan.vals.ref), vals: { ...plan.vals, parent_id: partnerId }, stripFields: ctx.stripFields, sameRecord });
    if (written.status === 'disabled') {
      problems.push(`contacts not exported: export disabled (${written.disabled.reason})`);
      break;
    }
    if (written.status === 'failed') {
      contacts.failed += 1;
      if (problems.length < 3) problems.push(`contact ${plan.vals.ref}: ${written.detail}`);
      continue;
    }
    contacts.exported += 1;
    if (written.partnerId !== knownId) {
      await quietly(ctx, 'write', undefined, () => partnerMap.putContact(tenantId, companyId, targetKey, plan.key, written.partnerId));
    }
  }

  const stripped = result.stripped.length > 0;
  const head = stripped ? `${result.created ? 'created' : 'updated'} without ${result.stripped.join(', ')}` : result.created ? 'created' : 'updated';
  return {
    ...base,
    exportStatus: stripped ? 'exported_stripped' : 'exported',
    partnerId,
    detail: [head, ...problems].join('; '),
    strippedFields: result.stripped,
    contacts,
  };
}
