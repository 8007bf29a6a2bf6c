import { createHash } from 'node:crypto';
import type { TenantId } from '../../domain/vendor.js';

/** Largest id the input accepts (ids must survive a round trip through JSON and JavaScript numbers). */
export const MAX_COMPANY_ID = Number.MAX_SAFE_INTEGER;

/** Probes tried before a derived id is given up on (never reached in practice: see deriveCompanyId). */
const MAX_PROBES = 64;

/**
 * The stable id of a row without `company_id`: the first 31 bits of
 * SHA-256(`<tenantId>\0<key>`) (with `#<probe>` appended to the key for probe > 0), or 1 when those
 * bits are all zero, so always in 1..2^31-1 (fits a PostgreSQL `integer`). Also returns a 32-bit
 * check value from other bits of the digest, used to tell a duplicate row (same key) from a hash
 * collision (different key, same id) without keeping the keys in memory.
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

/**
 * An open-addressing hash table from id to (line, check) on typed arrays: 16 bytes a slot at
 * most half full, so ~32-64 bytes per id. A `Map` boxes ids above 2^30 and costs ~80 bytes.
 */
class IdTable {
  private keys = new Float64Array(1024);
  private lines = new Int32Array(1024);
  private checks = new Int32Array(1024);
  private size = 0;

  private slot(id: number): number {
    const mask = this.keys.length - 1;
    let i = (Math.imul(id | 0, 0x9e3779b1) ^ Math.floor(id / 0x100000000)) & mask;
    while (this.keys[i] !== 0 && this.keys[i] !== id) i = (i + 1) & mask;
    return i;
  }

  /** The line `id` was first seen at and its check value, or undefined. */
  get(id: number): { line: number; check: number } | undefined {
    const i = this.slot(id);
    return this.keys[i] === 0 ? undefined : { line: this.lines[i] as number, check: this.checks[i] as number };
  }

  set(id: number, line: number, check: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const i = this.slot(id);
    if (this.keys[i] === 0) this.size++;
    this.keys[i] = id;
    this.lines[i] = line;
    this.checks[i] = check;
  }

  private grow(): void {
    const { keys, lines, checks } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.lines = new Int32Array(keys.length * 2);
    this.checks = new Int32Array(keys.length * 2);
    this.size = 0;
    keys.forEach((id, i) => {
      if (id !== 0) this.set(id, lines[i] as number, checks[i] as number);
    });
  }
}

/** Check value stored for explicit ids (derived checks are made to differ from it). */
const EXPLICIT = 0;

/**
 * Ids seen in one input file, to refuse duplicates and resolve collisions of derived ids. Memory is
 * O(rows) but small (see IdTable): ids, lines and checks, never the rows themselves.
 */
export class CompanyIdRegistry {
  private readonly table = new IdTable();
  /** Derived ids that had to be probed past a collision, for reporting. */
  collisions = 0;

  /**
   * Claims an explicit id for the row at `line`.
   * @returns the id, or the reason the row is refused (the id was already used in this file).
   */
  claimExplicit(id: number, line: number): number | { reason: string } {
    const first = this.table.get(id);
    if (first !== undefined) return { reason: `duplicate company_id ${id} (first seen at line ${first.line})` };
    this.table.set(id, line, EXPLICIT);
    return id;
  }

  /**
   * Claims the derived id of `key` for the row at `line`. When the id is taken by another company
   * (a hash collision, ~9 expected among 200k rows at 31 bits) the next probe is tried, so the
   * first row in file order keeps the plain hash and the result is the same for the same file.
   * @returns the id, or the reason the row is refused: the same company (same key) is already in the file.
   */
  claimDerived(tenantId: TenantId, key: string, line: number, what: string): number | { reason: string } {
    const base = deriveCompanyId(tenantId, key);
    const check = base.check | 0 || 1;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = probe === 0 ? base.id : deriveCompanyId(tenantId, key, probe).id;
      const first = this.table.get(id);
      if (first === undefined) {
        this.table.set(id, line, check);
        if (probe > 0) this.collisions++;
        return id;
      }
      if (first.check === check) return { reason: `duplicate company: same ${what} as line ${first.line}` };
    }
    return { reason: `no free company_id derived for this row after ${MAX_PROBES} probes; give it an explicit company_id` };
  }
}
