import { createHash } from 'node:crypto';
import type { Contact } from '../../domain/company.js';
import type { ExportCompany } from '../../domain/odoo.js';
import type { TenantId } from '../../domain/vendor.js';

/**
 * What the export writes to Odoo, as pure functions: the stable references, the contact keys and
 * the res.partner values (docs/odoo-export.md lists them field by field). No I/O.
 */

/** A value the export writes (Odoo's XML-RPC runs without None: false clears a field). */
export type OdooValue = string | number | boolean;

/** res.partner values of one write. */
export type PartnerVals = Record<string, OdooValue>;

/** Planning options. */
export interface PlanOptions {
  /** ODOO_EXPORT_SET_DEFAULTS: add the defaults a tenant's Odoo may require. Default true. */
  setDefaults: boolean;
}

/** The company partner's stable reference: `lead-enrich:<tenant>:<company>`. */
export function companyRef(tenantId: TenantId, companyId: number): string {
  return `lead-enrich:${tenantId}:${companyId}`;
}

/**
 * A contact's identity within its company: the lower-cased email, else the LinkedIn URL without
 * scheme, query or trailing slash, else the lower-cased, whitespace-collapsed full name; null when
 * the contact has none of them (it is not exported).
 */
export function contactKey(contact: Contact): string | null {
  const email = contact.email?.trim().toLowerCase();
  if (email) return `email:${email}`;
  const linkedin = contact.linkedinUrl?.trim().toLowerCase().replace(/^https?:\/\/(www\.)?/, '').replace(/[?#].*$/, '').replace(/\/+$/, '');
  if (linkedin) return `linkedin:${linkedin}`;
  const name = contact.fullName.trim().toLowerCase().replace(/\s+/g, ' ');
  return name ? `name:${name}` : null;
}

/** A contact partner's stable reference: `lead-enrich:<tenant>:<company>:c:<12 hex of sha256(key)>`. */
export function contactRef(tenantId: TenantId, companyId: number, key: string): string {
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `${companyRef(tenantId, companyId)}:c:${digest}`;
}

/**
 * Characters XML 1.0 cannot carry (C0 controls but tab, newline and return; U+FFFE/U+FFFF; lone
 * surrogates). The XML-RPC serializer throws on them, and a throw there is taken for an unreachable
 * Odoo, which disables the tenant: one stray control character in a name would stop its export.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The values with every string made fit for XML (see {@link NOT_XML}). */
function xmlSafe(vals: PartnerVals): PartnerVals {
  for (const [key, value] of Object.entries(vals)) if (typeof value === 'string') vals[key] = value.replace(NOT_XML, '');
  return vals;
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The company partner's values, or null when there is nothing to name it by (no name, no domain).
 * Always: name, is_company, ref; when known: website, phone, city, comment. With defaults:
 * company_type 'company', type 'contact', autopost_bills 'ask'.
 */
export function companyVals(tenantId: TenantId, company: ExportCompany, options: PlanOptions): PartnerVals | null {
  const name = company.facts.name?.trim() || company.name?.trim() || company.domain?.trim();
  if (!name) return null;
  const vals: PartnerVals = { name, is_company: true, ref: companyRef(tenantId, company.companyId) };
  const website = company.facts.website?.trim() || (company.domain ? `https://${company.domain}` : '');
  if (website) vals.website = website;
  if (company.facts.phone?.trim()) vals.phone = company.facts.phone.trim();
  if (company.facts.city?.trim()) vals.city = company.facts.city.trim();
  if (company.facts.description?.trim()) vals.comment = `<p>${escapeHtml(company.facts.description.trim())}</p>`;
  if (options.setDefaults) {
    vals.company_type = 'company';
    vals.type = 'contact';
    vals.autopost_bills = 'ask';
  }
  return xmlSafe(vals);
}

/** A planned contact: its key and values (without parent_id, which is known only at write time). */
export interface PlannedContact {
  key: string;
  vals: PartnerVals;
}

/**
 * The contacts' values, deduplicated by {@link contactKey} (first wins), contacts without a key or
 * a name dropped. Always: name, type 'contact', is_company false, ref; when known: function, email.
 */
export function contactPlans(tenantId: TenantId, company: ExportCompany): PlannedContact[] {
  const seen = new Set<string>();
  const out: PlannedContact[] = [];
  for (const contact of company.contacts) {
    const key = contactKey(contact);
    const name = contact.fullName.trim() || contact.email?.trim();
    if (!key || !name || seen.has(key)) continue;
    seen.add(key);
    const vals: PartnerVals = { name, type: 'contact', is_company: false, ref: contactRef(tenantId, company.companyId, key) };
    if (contact.title?.trim()) vals.function = contact.title.trim();
    if (contact.email?.trim()) vals.email = contact.email.trim();
    out.push({ key, vals: xmlSafe(vals) });
  }
  return out;
}

/**
 * The values without the strippable fields (ODOO_STRIP_FIELDS) and the names actually removed,
 * in the order of `fields`.
 */
export function stripVals(vals: PartnerVals, fields: readonly string[]): { vals: PartnerVals; stripped: string[] } {
  const stripped = fields.filter((f) => Object.hasOwn(vals, f));
  const kept: PartnerVals = {};
  for (const [key, value] of Object.entries(vals)) if (!stripped.includes(key)) kept[key] = value;
  return { vals: kept, stripped };
}
