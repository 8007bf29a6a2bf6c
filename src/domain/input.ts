import type { Company } from './company.js';
import type { TenantId } from './vendor.js';

/**
 * A run's input, as the run reaches it (src/adapters/input implements it): a file, a named pipe or
 * standard input, opened exactly once, its head read before any run exists, its companies streamed.
 * See docs/decisions/052-052-input-streams-and-formats.md.
 */

/** Input formats: CSV with a header, a JSON array of objects, JSON Lines. */
export type InputFormat = 'csv' | 'json' | 'jsonl';

/** What the input is: a regular file can be read again, a FIFO or standard input cannot. */
export type InputKind = 'file' | 'fifo' | 'stdin';

/** A row that was reported and skipped: its 1-based starting line, why, and (shortened) what it said. */
export interface MalformedRow {
  line: number;
  reason: string;
  /** The row's text, cut to 200 characters; absent when the row could not be delimited. */
  raw?: string;
}

/**
 * How the reader came to a row's company id: given in the row, or derived from its key (the
 * probe-0 id, see deriveCompanyId in src/adapters/input/companyIds.ts). Duplicates and collisions
 * are settled when the row is recorded, against the ids the run already holds
 * (docs/decisions/058-058-duplicate-ids-in-the-database.md).
 */
export type IdDerivation =
  | { kind: 'explicit' }
  /** `key`: the derivation key (`d:<domain>`, `n:<name>`, `l:<line>`); `check`: a 32-bit value from other bits of the digest, told apart from another key's without keeping the keys. */
  | { kind: 'derived'; key: string; check: number };

/** A company read from one input row: its line and how its id came about, for recording to settle duplicates and collisions. */
export interface InputCompany {
  /** Its `companyId` is the explicit id, or the derived id at probe 0 (recording may probe further). */
  company: Company;
  /** The 1-based line the row starts on. */
  line: number;
  derivation: IdDerivation;
  /** The row's text, shortened as in {@link MalformedRow}, for the report when recording refuses it. */
  raw?: string;
}

/** An opened input whose head was read: what it is, and its companies (iterate once). */
export interface CompanyInput {
  kind: InputKind;
  /** The absolute path, or `-` for standard input. */
  path: string;
  format: InputFormat;
  /** Its rows' companies, in file order; duplicates are refused when they are recorded. */
  companies: AsyncIterable<InputCompany>;
  /** Closes the input when its companies will not be read after all. */
  close(): void;
}

/** Options of {@link InputOpener.open}. */
export interface OpenInputOptions {
  tenantId: TenantId;
  /** Default: from the extension, else from the first character. */
  format?: InputFormat | null;
  /** Ends a wait for a FIFO's writer or for stdin, and the reading. */
  signal?: AbortSignal;
  /** Told about every malformed row the reader refuses, which is then skipped (duplicates are refused by recording). */
  onMalformed?: (row: MalformedRow) => void;
}

/** Opens run inputs. */
export interface InputOpener {
  /**
   * Opens `path` (`-`: standard input) once and reads its head (a CSV header, the opening of a JSON
   * array, the first record). Resolves null when `signal` aborted before the head was read.
   * @throws {InputError} when the input cannot be opened or read at all
   */
  open(path: string, options: OpenInputOptions): Promise<CompanyInput | null>;
}

const INPUT_ERROR = Symbol.for('lead-enrich.InputError');

/** The input as a whole cannot be read: unknown format, missing file, no CSV header, not a JSON array. */
export class InputError extends Error {
  readonly [INPUT_ERROR] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** Type guard for {@link InputError} (the CLI maps it to exit code 2). */
export function isInputError(value: unknown): value is InputError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[INPUT_ERROR] === true;
}

const RUN_REQUEST_ERROR = Symbol.for('lead-enrich.RunRequestError');

/**
 * A run that cannot start as asked, before anything was written: a run to resume that does not
 * exist, an input that cannot be read at all, a resume whose input cannot be read again (the CLI
 * maps it to exit code 2).
 */
export class RunRequestError extends Error {
  readonly [RUN_REQUEST_ERROR] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunRequestError';
  }
}

/** Type guard for {@link RunRequestError}. */
export function isRunRequestError(value: unknown): value is RunRequestError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RUN_REQUEST_ERROR] === true;
}
