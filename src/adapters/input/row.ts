import type { Company } from '../../domain/company.js';
import type { IdDerivation } from '../../domain/input.js';
import type { TenantId } from '../../domain/vendor.js';
import { companyKey, deriveCompanyId, MAX_COMPANY_ID, storedCheck } from './companyIds.js';

/** The fields of one input row as read, before validation (CSV gives strings, JSON anything). */
export interface RowFields {
  name?: unknown;
  domain?: unknown;
  website?: unknown;
  company_id?: unknown;
}

/** A row refused with its reason, or the company it describes and how its id came about. */
export type RowResult = { company: Company; derivation: IdDerivation } | { reason: string };

/**
 * A bare lower-case host from a domain or website value: scheme, user info, path, query, fragment,
 * port, a leading `www.` and a trailing dot are removed. `https://WWW.Example.com:8443/about` →
 * `example.com`. Returns null for an empty value.
 */
export function normaliseHost(value: string): string | null {
  let host = value.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^\/\//, '');
  host = host.split(/[/?#]/, 1)[0] ?? '';
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  host = host.replace(/:\d*$/, '').replace(/\.+$/, '');
  if (host.startsWith('www.')) host = host.slice(4);
  return host.length === 0 ? null : host;
}

function text(value: unknown, field: string): string | null | { reason: string } {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return { reason: `${field} must be a string` };
  const trimmed = value.trim();
  return trimmed.length === 0 ? null : trimmed;
}

/** The first C0 control or DEL in `value` (never part of a host name; a NUL would vanish on the way into PostgreSQL), or -1. */
function controlAt(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return i;
  }
  return -1;
}

/** A domain or website value: as {@link text}, and refused when it holds a control character. */
function hostText(value: unknown, field: string): string | null | { reason: string } {
  const trimmed = text(value, field);
  if (typeof trimmed !== 'string') return trimmed;
  const at = controlAt(trimmed);
  if (at < 0) return trimmed;
  const code = `U+${trimmed.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`;
  return { reason: `${field} holds a control character (${code}): ${JSON.stringify(trimmed.slice(0, 100))}` };
}

function explicitId(value: unknown): number | null | { reason: string } {
  if (value === undefined || value === null) return null;
  let id: number;
  if (typeof value === 'number') id = value;
  else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.length === 0) return null;
    if (!/^[+-]?\d+$/.test(trimmed)) return { reason: `company_id is not an integer: ${JSON.stringify(value)}` };
    id = Number(trimmed);
  } else return { reason: `company_id is not an integer: ${JSON.stringify(value)}` };
  if (!Number.isInteger(id)) return { reason: `company_id is not an integer: ${JSON.stringify(value)}` };
  if (id < 1 || id > MAX_COMPANY_ID) return { reason: `company_id must be between 1 and ${MAX_COMPANY_ID}: ${id}` };
  return id;
}

const isReason = (v: unknown): v is { reason: string } => typeof v === 'object' && v !== null && 'reason' in v;

/**
 * Validates one row into a Company: `domain` wins over `website` when both are given, and one
 * holding a control character (a NUL, a tab inside it) is refused rather than mangled; a missing
 * `company_id` is derived (see deriveCompanyId: the probe-0 id, with its key and check). Whether
 * the id is a duplicate or a collision is settled when the row is recorded (settleCompanyId).
 */
export function rowToCompany(fields: RowFields, line: number, tenantId: TenantId): RowResult {
  const name = text(fields.name, 'name');
  if (isReason(name)) return name;
  const domainText = hostText(fields.domain, 'domain');
  if (isReason(domainText)) return domainText;
  const websiteText = hostText(fields.website, 'website');
  if (isReason(websiteText)) return websiteText;
  const domain = normaliseHost(domainText ?? websiteText ?? '');
  const id = explicitId(fields.company_id);
  if (isReason(id)) return id;
  if (id !== null) return { company: { companyId: id, tenantId, name, domain }, derivation: { kind: 'explicit' } };
  const key = companyKey(domain, name, line);
  const derived = deriveCompanyId(tenantId, key);
  return { company: { companyId: derived.id, tenantId, name, domain }, derivation: { kind: 'derived', key, check: storedCheck(derived.check) } };
}
