import type { OdooFault } from '../../domain/odoo.js';
import { stripVals, type PartnerVals } from './plan.js';
import type { Disabled, OdooSession } from './session.js';

/**
 * Writes one res.partner idempotently: the known id (from the stored mapping) is updated when it
 * still carries our `ref`; otherwise the partner carrying the stable `ref` is found (archived ones
 * too) and updated, else created.
 * A create or write that faults with a validation or other error (codes 2 and 1) is retried once
 * without the strippable fields; a second fault is final.
 */

const MODEL = 'res.partner';

/** What became of one partner write. */
export type UpsertResult =
  | { status: 'written'; partnerId: number; created: boolean; stripped: string[] }
  | { status: 'failed'; partnerId: number | null; detail: string; stripped: string[] }
  | { status: 'disabled'; disabled: Disabled };

/** One partner to write. */
export interface UpsertRequest {
  /** Partner id from the stored mapping, or null. */
  knownId: number | null;
  ref: string;
  vals: PartnerVals;
  /** ODOO_STRIP_FIELDS. */
  stripFields: readonly string[];
  /**
   * Domains searched in turn when no partner carries `ref`, before creating one: the same record under
   * an older reference (a contact whose key changed between runs: first found without an e-mail,
   * later with one).
   */
  sameRecord?: unknown[][];
}

const faultText = (fault: OdooFault): string => `fault ${fault.code} ${fault.category}: ${fault.message}`;
const retryable = (fault: OdooFault): boolean => fault.category === 'validation' || fault.category === 'other';

type Found = { id: number | null } | { failed: string } | { disabled: Disabled };

/** search() arguments for the oldest partner matching `domain`, archived ones included. */
const searchOne = (domain: unknown[]): [unknown[], Record<string, unknown>] => [[domain], { limit: 1, order: 'id asc', context: { active_test: false } }];
const byRef = (ref: string): unknown[] => [['ref', '=', ref]];

/** The oldest partner matching `domain` (archived ones included), or why it could not be looked for. */
async function findOne(session: OdooSession, domain: unknown[], what: string): Promise<Found> {
  const result = await session.call<unknown>(MODEL, 'search', ...searchOne(domain));
  if (!result.ok) return 'disabled' in result ? { disabled: result.disabled } : { failed: `${what}: ${faultText(result.fault)}` };
  const ids = result.value;
  if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) return { failed: `${what}: unexpected result` };
  return { id: (ids[0] as number | undefined) ?? null };
}

/** A search that could not be made, as the upsert's result. */
function notSearched(found: Exclude<Found, { id: number | null }>): UpsertResult {
  return 'disabled' in found ? { status: 'disabled', disabled: found.disabled } : { status: 'failed', partnerId: null, detail: found.failed, stripped: [] };
}

type Attempt = { ok: true; partnerId: number } | { ok: false; fault: OdooFault } | { ok: false; disabled: Disabled } | { ok: false; failed: string };

async function writeOnce(session: OdooSession, id: number | null, vals: PartnerVals, ref: string): Promise<Attempt> {
  if (id === null) {
    // A create that timed out or lost its connection may have been committed: before creating
    // again, the guard's retry looks for the partner by its ref and takes it if it is there.
    const created = await session.call<unknown>(MODEL, 'create', [vals], undefined, {
      beforeRepeat: async (executeKw, signal) => {
        const ids = await executeKw(MODEL, 'search', ...searchOne(byRef(ref)), signal);
        return Array.isArray(ids) && Number.isInteger(ids[0]) ? ids[0] : undefined;
      },
    });
    if (!created.ok) return created;
    return Number.isInteger(created.value) && (created.value as number) > 0 ? { ok: true, partnerId: created.value as number } : { ok: false, failed: 'create: unexpected result' };
  }
  const written = await session.call<unknown>(MODEL, 'write', [[id], vals]);
  if (!written.ok) return written;
  return written.value === true ? { ok: true, partnerId: id } : { ok: false, failed: 'write: unexpected result' };
}

/** See the module comment. Never throws for Odoo's sake: every outcome is a value. */
export async function upsertPartner(session: OdooSession, request: UpsertRequest): Promise<UpsertResult> {
  let id = request.knownId;
  if (id !== null) {
    // The stored id must still be our partner: after a restore of the database (same URL and name),
    // Odoo hands the old ids out again, and a blind write would overwrite someone else's partner.
    const mine = await findOne(session, [['id', '=', id], ...byRef(request.ref)], 'check mapped id');
    if (!('id' in mine)) return notSearched(mine);
    if (mine.id === null) id = null;
  }
  if (id === null) {
    // By ref, then the same record under an older reference (written with our new ref).
    const searches: [unknown[], string][] = [[byRef(request.ref), 'search by ref'], ...(request.sameRecord ?? []).map((d): [unknown[], string] => [d, 'search same record'])];
    for (const [domain, what] of searches) {
      const found = await findOne(session, domain, what);
      if (!('id' in found)) return notSearched(found);
      id = found.id;
      if (id !== null) break;
    }
  }
  // Fields this Odoo already refused as unknown are left out from the start (reported as stripped).
  const known = [...session.unknownFields].filter((f) => request.stripFields.includes(f));
  const first = known.length > 0 ? stripVals(request.vals, known) : { vals: request.vals, stripped: [] as string[] };
  let attempt = await writeOnce(session, id, first.vals, request.ref);
  if (!attempt.ok && 'fault' in attempt && attempt.fault.category === 'missing_record' && request.knownId !== null) {
    // The mapped partner was deleted in Odoo: fall back to the reference, then create.
    const found = await findOne(session, byRef(request.ref), 'search by ref');
    if (!('id' in found)) return notSearched(found);
    id = found.id;
    attempt = await writeOnce(session, id, first.vals, request.ref);
  }
  const created = id === null;
  if (attempt.ok) return { status: 'written', partnerId: attempt.partnerId, created, stripped: first.stripped };
  if ('disabled' in attempt) return { status: 'disabled', disabled: attempt.disabled };
  if ('failed' in attempt) return { status: 'failed', partnerId: id, detail: attempt.failed, stripped: first.stripped };

  // A fault naming one unknown strippable field drops that field alone (and it is remembered);
  // any other validation or application fault drops every strippable field.
  const named = attempt.fault.invalidField;
  const namedStrippable = named !== undefined && request.stripFields.includes(named) && Object.hasOwn(first.vals, named);
  if (namedStrippable) session.unknownFields.add(named);
  const retryPlan = stripVals(first.vals, namedStrippable ? [named] : request.stripFields);
  const vals = retryPlan.vals;
  const stripped = [...first.stripped, ...retryPlan.stripped];
  if (!retryable(attempt.fault) || retryPlan.stripped.length === 0) return { status: 'failed', partnerId: id, detail: faultText(attempt.fault), stripped: first.stripped };
  const retry = await writeOnce(session, id, vals, request.ref);
  if (retry.ok) return { status: 'written', partnerId: retry.partnerId, created, stripped };
  if ('disabled' in retry) return { status: 'disabled', disabled: retry.disabled };
  const second = 'fault' in retry ? faultText(retry.fault) : retry.failed;
  return { status: 'failed', partnerId: id, detail: `${second} (first: ${faultText(attempt.fault)})`, stripped };
}
