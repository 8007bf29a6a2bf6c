import type { CompanyFacts, Contact } from './company.js';
import { VendorError, type ErrorKind } from './errors.js';
import type { TenantId } from './vendor.js';

/**
 * Odoo's side of the contract (DESIGN.md "Odoo export"): the structured form of an XML-RPC fault,
 * the client port the export talks through, and the partner mapping port. Only the Odoo adapter
 * reads a fault's text; everything else decides on {@link OdooFault.category}.
 */

/**
 * What a fault means for the export:
 * - `missing_database`: code 1 with `database "…" does not exist` (the tenant's target is wrong);
 * - `access_denied`: code 3, the login or API key was refused on an object call;
 * - `access_error`: code 4, the user may not do this (record rules, missing group);
 * - `missing_record`: code 2 MissingError, the record was deleted in Odoo;
 * - `validation`: code 2, UserError/ValidationError, SQL constraint violations included;
 * - `other`: code 1, any other server-side exception (its text is a Python traceback).
 */
export type OdooFaultCategory =
  | 'missing_database'
  | 'access_denied'
  | 'access_error'
  | 'missing_record'
  | 'validation'
  | 'other';

/** An XML-RPC fault from Odoo's /xmlrpc/2 endpoints, in structured form. */
export interface OdooFault {
  /** Odoo's integer fault code: 1 application error, 2 warning, 3 access denied, 4 access error. */
  code: number;
  category: OdooFaultCategory;
  /** One secret-free line: the exception's last line for tracebacks, the first line otherwise (≤ 300 chars). */
  message: string;
  /** The field the fault names as unknown (`Invalid field 'x' on model …`), when it names one. */
  invalidField?: string;
}

const ODOO_FAULT_BRAND = Symbol.for('lead-enrich.OdooFaultError');

/** The error kind a fault category maps to (not retried by the guard; see docs/decisions/039-odoo-faults-and-what-disables-a-tenant.md). */
export function kindForFault(category: OdooFaultCategory): ErrorKind {
  switch (category) {
    case 'missing_database':
    case 'missing_record':
      return 'not_found';
    case 'access_denied':
    case 'access_error':
      return 'auth';
    default:
      return 'bad_request';
  }
}

/** A {@link VendorError} (vendor `odoo`, status = fault code) that carries the structured fault. */
export class OdooFaultError extends VendorError {
  readonly [ODOO_FAULT_BRAND] = true;
  readonly fault: OdooFault;

  constructor(fault: OdooFault) {
    super({ vendor: 'odoo', kind: kindForFault(fault.category), status: fault.code, detail: `${fault.category}: ${fault.message}` });
    this.name = 'OdooFaultError';
    this.fault = fault;
  }
}

/** Type guard for {@link OdooFaultError}; works across module copies through its brand. */
export function isOdooFaultError(value: unknown): value is OdooFaultError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ODOO_FAULT_BRAND] === true;
}

/** The fault carried by an error or by its cause (a guard may wrap), or null. */
export function odooFaultOf(error: unknown): OdooFault | null {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth++) {
    if (isOdooFaultError(current)) return current.fault;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * One enriched company as the Odoo export reads it: its identity from the input row, its facts and
 * contacts from its result (the people this run found, else those stored for it). Read as is from
 * the run's export queue (`exportPendingPages`); the export plans its partners from it (plan.ts).
 */
export interface ExportCompany {
  companyId: number;
  name: string | null;
  /** Bare host name, e.g. `example.com`. */
  domain: string | null;
  facts: CompanyFacts;
  contacts: Contact[];
}

/** Where one tenant's partners go. `apiKey` is the secret itself and is never logged or stored. */
export interface OdooTarget {
  /** Base URL such as `https://acme.odoo.com` (no trailing slash). */
  url: string;
  db: string;
  login: string;
  apiKey: string;
}

/** A many2one domain term or plain comparison, e.g. `['ref', '=', 'lead-enrich:1:2']`. */
export type OdooDomainTerm = [string, string, unknown];

/**
 * Odoo's external API for one target. Every method throws a classified VendorError (vendor `odoo`):
 * an {@link OdooFaultError} for faults, `auth` when authenticate answers false, transport kinds otherwise.
 */
export interface OdooClientPort {
  /** common.version(): the server's version string, e.g. `18.0`. */
  version(signal?: AbortSignal): Promise<{ serverVersion: string; protocolVersion: number }>;
  /** common.authenticate(): the uid. Throws `auth` when Odoo answers false (login refused). */
  authenticate(signal?: AbortSignal): Promise<number>;
  /** object.execute_kw(db, uid, key, model, method, args, kwargs): the raw, unvalidated result. */
  executeKw(uid: number, model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>, signal?: AbortSignal): Promise<unknown>;
}

/**
 * Stored mapping from our companies and contacts to Odoo partner ids, per Odoo target
 * (`targetKey` = URL without credentials + database): a partner id means nothing in another database.
 */
export interface PartnerMapStore {
  /** The company's partner id in that target, or null. */
  getCompany(tenantId: TenantId, companyId: number, targetKey: string): Promise<number | null>;
  /** Contact key → partner id for the company's contacts in that target. */
  getContacts(tenantId: TenantId, companyId: number, targetKey: string): Promise<Map<string, number>>;
  /** Upserts the company's partner id. */
  putCompany(tenantId: TenantId, companyId: number, targetKey: string, partnerId: number): Promise<void>;
  /** Upserts one contact's partner id. */
  putContact(tenantId: TenantId, companyId: number, targetKey: string, contactKey: string, partnerId: number): Promise<void>;
  /** Forgets the company's and its contacts' mappings (the partner was deleted in Odoo). */
  forget(tenantId: TenantId, companyId: number, targetKey: string): Promise<void>;
}
