import { invalidField, missingRecord, unknownMethod, validationError, wrongValue, type SimFault } from './faults.js';
import type { WireValue } from './wire.js';

/**
 * The fake's res.partner: records in memory, the subset of fields the export uses, Odoo's
 * domain filters (implicit AND of `[field, op, value]` terms, `active_test`), and its create,
 * write, read, search, search_read and search_count with Odoo's faults.
 */

/** One partner as the fake stores it; many2one `parent_id` is an id or false. */
export type PartnerRecord = { id: number } & Record<string, string | number | boolean>;

const MODEL = 'res.partner';
const SELECTIONS: Record<string, readonly string[]> = {
  company_type: ['person', 'company'],
  type: ['contact', 'invoice', 'delivery', 'other'],
  autopost_bills: ['always', 'ask', 'never'],
};
/** Fields of res.partner the fake knows (plus `autopost_bills` unless the database lacks it). */
export const PARTNER_FIELDS = [
  'name', 'is_company', 'company_type', 'parent_id', 'function', 'email', 'phone', 'website', 'ref',
  'type', 'comment', 'city', 'active', 'autopost_bills',
] as const;

/** Options of one database's partner table. */
export interface PartnerTableOptions {
  /** Fields this database's res.partner lacks (e.g. `autopost_bills` before Odoo 18 or without Accounting). */
  unknownFields: readonly string[];
}

type Term = [string, string, unknown];

function matches(record: PartnerRecord, [field, op, value]: Term): boolean {
  const actual = record[field] ?? false;
  switch (op) {
    case '=': return actual === value;
    case '!=': return actual !== value;
    case 'in': return Array.isArray(value) && value.includes(actual);
    case 'not in': return Array.isArray(value) && !value.includes(actual);
    case '=ilike': return typeof actual === 'string' && typeof value === 'string' && actual.toLowerCase() === value.toLowerCase();
    case 'ilike': return typeof actual === 'string' && typeof value === 'string' && actual.toLowerCase().includes(value.toLowerCase());
    default: throw validationError(`Invalid leaf ${JSON.stringify([field, op, value])}`);
  }
}

/** One database's res.partner table. */
export class PartnerTable {
  private readonly rows = new Map<number, PartnerRecord>();
  private nextId = 100;

  constructor(private options: PartnerTableOptions) {}

  /** Changes the fields this database lacks. */
  setUnknownFields(fields: readonly string[]): void {
    this.options = { ...this.options, unknownFields: fields };
  }

  /** Every record, archived ones included (for assertions). */
  all(): PartnerRecord[] {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }

  /** Deletes a record as an Odoo user would (for tests of a lost partner). */
  remove(id: number): void {
    this.rows.delete(id);
  }

  /**
   * Empties the table and makes the next record get `nextId`: the database restored from a backup
   * older than our export, after which Odoo hands out the same ids again.
   */
  restoreBackup(nextId: number): void {
    this.rows.clear();
    this.nextId = nextId;
  }

  private checkVals(vals: unknown, uid: number): Record<string, WireValue> {
    if (typeof vals !== 'object' || vals === null || Array.isArray(vals)) throw validationError('Invalid values: expected a dictionary');
    const out = vals as Record<string, WireValue>;
    for (const [field, value] of Object.entries(out)) {
      if (!(PARTNER_FIELDS as readonly string[]).includes(field) || this.options.unknownFields.includes(field)) throw invalidField(field, MODEL);
      const allowed = SELECTIONS[field];
      if (allowed && value !== false && !allowed.includes(String(value))) throw wrongValue(MODEL, field, value);
      if (field === 'parent_id' && value !== false && !this.rows.has(Number(value))) throw missingRecord(MODEL, [Number(value)], uid);
    }
    return out;
  }

  private apply(record: PartnerRecord, vals: Record<string, WireValue>): void {
    for (const [field, value] of Object.entries(vals)) record[field] = value as string | number | boolean;
    if ('company_type' in vals) record.is_company = vals.company_type === 'company';
    else if ('is_company' in vals) record.company_type = vals.is_company ? 'company' : 'person';
    if ((record.type ?? 'contact') === 'contact' && !record.name) throw validationError('The operation cannot be completed: Contacts require a name');
  }

  /** create(vals) → id, or create([vals…]) → [id…]. */
  create(arg: unknown, uid: number): WireValue {
    const many = Array.isArray(arg);
    const ids = (many ? arg : [arg]).map((vals) => {
      const checked = this.checkVals(vals, uid);
      const record: PartnerRecord = { id: this.nextId, active: true, type: 'contact', is_company: false, company_type: 'person' };
      this.apply(record, checked);
      this.rows.set(this.nextId, record);
      return this.nextId++;
    });
    return many ? ids : (ids[0] as number);
  }

  /** write(ids, vals) → true; MissingError for an id that does not exist. */
  write(ids: unknown, vals: unknown, uid: number): WireValue {
    const list = (Array.isArray(ids) ? ids : [ids]).map(Number);
    const missing = list.filter((id) => !this.rows.has(id));
    if (missing.length > 0) throw missingRecord(MODEL, missing, uid);
    const checked = this.checkVals(vals, uid);
    // All or nothing, as in Odoo's transaction.
    const drafts = list.map((id) => {
      const draft = { ...(this.rows.get(id) as PartnerRecord) };
      this.apply(draft, checked);
      return draft;
    });
    for (const draft of drafts) this.rows.set(draft.id, draft);
    return true;
  }

  /** Ids matching `domain`, in id order; archived records only with context active_test=false. */
  search(domain: unknown, kwargs: Record<string, unknown>): number[] {
    const terms = (Array.isArray(domain) ? domain : []).filter((t): t is Term => Array.isArray(t));
    const activeTest = (kwargs.context as { active_test?: boolean } | undefined)?.active_test !== false;
    const hits = [...this.rows.values()]
      .filter((r) => (!activeTest || r.active !== false || terms.some(([f]) => f === 'active')) && terms.every((t) => matches(r, t)))
      .map((r) => r.id);
    const limit = typeof kwargs.limit === 'number' && kwargs.limit > 0 ? kwargs.limit : hits.length;
    return hits.slice(Number(kwargs.offset ?? 0), Number(kwargs.offset ?? 0) + limit);
  }

  /** read(ids, fields): many2one as `[id, name]` or false, unset fields false. */
  read(ids: readonly number[], fields: unknown): WireValue[] {
    const wanted = Array.isArray(fields) && fields.length > 0 ? (fields as string[]) : [...PARTNER_FIELDS];
    for (const field of wanted) if (!(PARTNER_FIELDS as readonly string[]).includes(field)) throw invalidField(field, MODEL);
    return ids.filter((id) => this.rows.has(id)).map((id) => {
      const record = this.rows.get(id) as PartnerRecord;
      const out: Record<string, WireValue> = { id };
      for (const field of wanted) {
        const value = record[field] ?? false;
        out[field] = field === 'parent_id' && value !== false ? [Number(value), String(this.rows.get(Number(value))?.name ?? '')] : value;
      }
      return out;
    });
  }

  /** Dispatches one execute_kw method on res.partner. */
  execute(method: string, args: unknown[], kwargs: Record<string, unknown>, uid: number): WireValue {
    switch (method) {
      case 'create': return this.create(args[0], uid);
      case 'write': return this.write(args[0], args[1], uid);
      case 'search': return this.search(args[0], kwargs);
      case 'search_count': return this.search(args[0], { ...kwargs, limit: 0 }).length;
      case 'read': return this.read((Array.isArray(args[0]) ? args[0] : [args[0]]).map(Number), args[1] ?? kwargs.fields);
      case 'search_read': return this.read(this.search(args[0], kwargs), args[1] ?? kwargs.fields);
      default: throw unknownMethod(MODEL, method) satisfies SimFault;
    }
  }
}
