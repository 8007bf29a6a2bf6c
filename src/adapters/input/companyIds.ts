import { createHash } from 'node:crypto';
import type { Company } from '../../domain/company.js';
import type { IdDerivation } from '../../domain/input.js';
import type { TenantId } from '../../domain/vendor.js';

/**
 * Company ids of input rows (decision 005): derived ids, and how a row's id is settled against
 * the ids a run already holds (decision duplicate-ids-in-the-database). Nothing here keeps ids:
 * the claims come from the database, batch by batch.
 */

/** Largest id the input accepts (ids must survive a round trip through JSON and JavaScript numbers). */
export const MAX_COMPANY_ID = Number.MAX_SAFE_INTEGER;

/** Probes tried before a derived id is given up on (never reached in practice: see deriveCompanyId). */
const MAX_PROBES = 64;

/**
 * The stable id of a row without `company_id`: the first 31 bits of
 * SHA-256(`<tenantId>\0<key>`) (with `#<probe>` appended to the key for probe > 0), or 1 when those
 * bits are all zero, so always in 1..2^31-1 (fits a PostgreSQL `integer`). Also returns a 32-bit
 * check value from other bits of the digest, used to tell a duplicate row (same key) from a hash
 * collision (different key, same id) without keeping the keys (see {@link settleCompanyId}).
 * @param key see {@link companyKey}.
 * @param probe collision probe number, 0 for the first choice.
 */
export function deriveCompanyId(tenantId: TenantId, key: string, probe = 0): { id: number; check: number } {
  const digest = createHash('sha256')
    .update(`${tenantId}\u0000${key}${probe === 0 ? '' : `#${probe}`}`)
    .digest();
  const id = digest.readUInt32BE(0) & 0x7fffffff;
  return { id: id === 0 ? 1 : id, check: digest.readUInt32BE(4) };
}

/**
 * The derivation key of a row: `d:<domain>` when it has a domain, else `n:<name>` (trimmed,
 * lower-cased, inner whitespace collapsed), else `l:<line>` — a row with neither is still a
 * distinct company, and the same file yields the same ids again on resume.
 */
export function companyKey(domain: string | null, name: string | null, line: number): string {
  if (domain) return `d:${domain}`;
  if (name) return `n:${name.trim().toLowerCase().replace(/\s+/g, ' ')}`;
  return `l:${line}`;
}

/** What the run already holds under an id: the line its row started on and its check value (null: an explicit id, or a row recorded without a line). */
export interface IdClaim {
  line: number | null;
  check: number | null;
}

/** Where a row's id lands: a new id for the run, the row the run already holds, or a refusal. */
export type IdOutcome = { kind: 'new'; companyId: number; check: number | null } | { kind: 'again' } | { kind: 'refused'; reason: string };

/** A row to settle: its company (the explicit id, or the probe-0 derived id), its line (null: not from an input file) and its derivation. */
export interface IdRow {
  company: Company;
  line: number | null;
  derivation: IdDerivation;
}

/**
 * The check value kept for a derived id: the digest's second 32 bits as a signed 32-bit integer
 * (it fits a PostgreSQL `integer`).
 */
export const storedCheck = (check: number): number => check | 0;

/**
 * Settles the id of one row against the ids claimed before it in file order (the run's recorded
 * rows and the earlier rows of its batch), as decision duplicate-ids-in-the-database describes:
 * an id claimed by the same line, or by a row without a line (a caller's own companies, rows
 * recorded before lines were kept), is the same row again; an explicit id claimed by another line
 * is a duplicate; a derived id claimed with the same check is the same company again, and with
 * another check a hash collision (~9 expected among 200k rows at 31 bits), so the next probe is
 * tried (derived for the company's tenant, as its probe-0 id was). The first row in file order
 * keeps the plain hash, so the same file gives the same ids.
 * @param claimOf the claim on an id, or undefined when it is free.
 */
export async function settleCompanyId(row: IdRow, claimOf: (id: number) => Promise<IdClaim | undefined>): Promise<IdOutcome> {
  const { company, line, derivation } = row;
  const sameRow = (claim: IdClaim): boolean => claim.line === null || line === null || claim.line === line;
  if (derivation.kind === 'explicit') {
    const claim = await claimOf(company.companyId);
    if (claim === undefined) return { kind: 'new', companyId: company.companyId, check: null };
    if (sameRow(claim)) return { kind: 'again' };
    return { kind: 'refused', reason: `duplicate company_id ${company.companyId} (first seen at line ${claim.line})` };
  }
  const what = company.domain ? `domain ${company.domain}` : `name ${JSON.stringify(company.name)}`;
  for (let probe = 0; probe < MAX_PROBES; probe++) {
    const id = probe === 0 ? company.companyId : deriveCompanyId(company.tenantId, derivation.key, probe).id;
    const claim = await claimOf(id);
    if (claim === undefined) return { kind: 'new', companyId: id, check: derivation.check };
    if (sameRow(claim)) return { kind: 'again' };
    if (claim.check === derivation.check) return { kind: 'refused', reason: `duplicate company: same ${what} as line ${claim.line}` };
  }
  return { kind: 'refused', reason: `no free company_id derived for this row after ${MAX_PROBES} probes; give it an explicit company_id` };
}
