import type { Company } from './company.js';
import type { TenantId } from './vendor.js';

/**
 * A run's input, as the run reaches it (src/adapters/input implements it): a file, a named pipe or
 * standard input, opened exactly once, its head read before any run exists, its companies streamed.
 * See docs/decisions/input-streams-and-formats.md.
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

/** An opened input whose head was read: what it is, and its companies (iterate once). */
export interface CompanyInput {
  kind: InputKind;
  /** The absolute path, or `-` for standard input. */
  path: string;
  format: InputFormat;
  companies: AsyncIterable<Company>;
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
  /** Told about every malformed row, which is then skipped. */
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
