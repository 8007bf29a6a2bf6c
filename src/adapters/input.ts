import type { InputCompany } from '../domain/input.js';
import type { TenantId } from '../domain/vendor.js';
import { csvRows } from './input/csv.js';
import { decodeUtf8 } from './input/decode.js';
import { InputError } from './input/error.js';
import { inputFormatOf, sniffFormat, type InputFormat } from './input/format.js';
import { jsonRows } from './input/json.js';
import { shorten, type MalformedRow, type ParsedRow } from './input/parsed.js';
import { rowToCompany } from './input/row.js';
import { openSource, type InputKind } from './input/source.js';
import { splitJsonArray, splitLines } from './input/split.js';

export { deriveCompanyId } from './input/companyIds.js';
export { InputError, isInputError } from './input/error.js';
export { inputFormatOf, parseInputFormat, INPUT_FORMATS, type InputFormat } from './input/format.js';
export type { MalformedRow } from './input/parsed.js';
export { normaliseHost } from './input/row.js';
export type { InputKind } from './input/source.js';

/** What reading the input yields, in file order: a row's company (with its line and id derivation), or a refused row. */
export type InputRecord = InputCompany | { malformed: MalformedRow };

export interface ReadCompaniesOptions {
  tenantId: TenantId;
  /** Default: from the extension (`.csv`, `.json`, `.jsonl` / `.ndjson`), else from the first character. */
  format?: InputFormat;
  /** Read size of a regular file, in bytes. Default 64 KiB. */
  highWaterMark?: number;
  /** Aborting it ends the input where it is (a FIFO or stdin waiting for data included). */
  signal?: AbortSignal;
}

/** An input opened once: what it is, its format, and its records. */
export interface OpenedInput {
  kind: InputKind;
  /** The absolute path, or `-` for standard input. */
  path: string;
  format: InputFormat;
  /** Iterate once, to the end or until `return()`; the input is closed then. */
  records: AsyncGenerator<InputRecord>;
  /** Closes the input without reading it (also fine after the records ended). */
  close(): void;
}

/**
 * Opens an input once (a file, a FIFO, or `-` for standard input; see {@link openSource}), settles
 * its format (sniffing the first character when neither `format` nor the extension names it) and
 * streams its companies: CSV with a header, a JSON array of objects, or JSON Lines, one record at a
 * time: memory holds one record, never the file nor the ids seen.
 * Columns/keys: `name`, `domain` or `website` (normalised to a bare host), optional `company_id`
 * (derived when absent, see {@link deriveCompanyId}: the probe-0 id, its key and check). A row
 * that does not parse, has the wrong number of fields or a bad company_id is yielded as
 * `malformed` with the line it starts on; reading goes on with the next row. Duplicate ids and
 * collisions of derived ids are settled when the rows are recorded (RunStore.recordRunInputs). The input must be UTF-8: a row holding a byte
 * that is not is refused with the byte's line and column (never stored as U+FFFD).
 * @throws {InputError} when the input cannot be opened or its extension is unknown; from the
 * iterator, when it cannot be read, a CSV has no header or a JSON document is not an array.
 */
export async function openInput(path: string, options: ReadCompaniesOptions): Promise<OpenedInput> {
  const declared = options.format ?? inputFormatOf(path);
  const source = await openSource(path, { ...(options.signal ? { signal: options.signal } : {}), ...(options.highWaterMark ? { highWaterMark: options.highWaterMark } : {}) });
  let chunks: AsyncIterable<string> = decodeUtf8(source.chunks);
  let format = declared;
  if (format === null) ({ format, chunks } = await sniffFormat(chunks));
  return { kind: source.kind, path: source.path, format, records: records(chunks, format, options.tenantId, source.close), close: source.close };
}

/** {@link openInput}'s records, as one async iterable (opened when iteration starts). */
export async function* readCompanies(path: string, options: ReadCompaniesOptions): AsyncGenerator<InputRecord> {
  yield* (await openInput(path, options)).records;
}

async function* records(chunks: AsyncIterable<string>, format: InputFormat, tenantId: TenantId, close: () => void): AsyncGenerator<InputRecord> {
  let rows: AsyncGenerator<ParsedRow>;
  if (format === 'csv') rows = csvRows(splitLines(chunks));
  else if (format === 'jsonl') rows = jsonRows(splitLines(chunks, { quotes: false }));
  else rows = jsonRows(splitJsonArray(chunks));
  try {
    for await (const row of rows) {
      if ('malformed' in row) {
        yield row;
        continue;
      }
      const result = rowToCompany(row.fields, row.line, tenantId);
      if ('company' in result) yield { company: result.company, line: row.line, derivation: result.derivation, raw: shorten(row.raw) };
      else yield { malformed: { line: row.line, reason: result.reason, raw: shorten(row.raw) } };
    }
  } catch (error) {
    if (error instanceof SyntaxError) throw new InputError(error.message, { cause: error });
    throw error;
  } finally {
    close();
  }
}
export { createInputOpener } from './input/opener.js';
