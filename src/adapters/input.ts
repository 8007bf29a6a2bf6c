import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Company } from '../domain/company.js';
import type { TenantId } from '../domain/vendor.js';
import { CompanyIdRegistry } from './input/companyIds.js';
import { rowToCompany, type RowFields } from './input/row.js';
import { splitJsonArray, splitLines, type RawRecord } from './input/split.js';

export { deriveCompanyId } from './input/companyIds.js';
export { normaliseHost } from './input/row.js';

/** A row that was reported and skipped: its 1-based starting line, why, and (shortened) what it said. */
export interface MalformedRow {
  line: number;
  reason: string;
  /** The row's text, cut to 200 characters; absent when the row could not be delimited. */
  raw?: string;
}

/** What reading the input yields, in file order. */
export type InputRecord = { company: Company } | { malformed: MalformedRow };

/** Input formats, chosen from the extension unless given. */
export type InputFormat = 'csv' | 'json' | 'jsonl';

export interface ReadCompaniesOptions {
  tenantId: TenantId;
  /** Default: from the extension (`.csv`, `.json`, `.jsonl` / `.ndjson`). */
  format?: InputFormat;
  /** Read size, in bytes. Default 64 KiB. */
  highWaterMark?: number;
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

/**
 * The format of an input path from its extension.
 * @throws {InputError} for any other extension.
 */
export function inputFormatOf(path: string): InputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new InputError(`unknown input format for ${path}: expected .csv, .json, .jsonl or .ndjson`);
}

type ParsedRow = { line: number; fields: RowFields; raw: string } | { malformed: MalformedRow };

const shorten = (raw: string): string => (raw.length > 200 ? `${raw.slice(0, 197)}...` : raw);
const KNOWN_COLUMNS = ['name', 'domain', 'website', 'company_id'];

const CSV_OPTIONS = { relax_column_count: true, record_delimiter: '\n' } as const;
/** Records parsed per csv-parse call: one call per record costs ~5x more than a batch. */
const CSV_BATCH = 512;

function parseCsvRecord(text: string): string[] | string {
  try {
    const rows = parse(text, CSV_OPTIONS) as string[][];
    if (rows.length !== 1) return 'unparseable CSV: more than one record on the line';
    return rows[0] as string[];
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'CSV_ERROR';
    return `unparseable CSV (${code})`;
  }
}

/**
 * Parses records already delimited by the splitter, a batch per csv-parse call; when the batch
 * fails (a record that does not parse) each record is parsed alone so that only it is refused.
 */
function parseCsvBatch(batch: { line: number; text: string }[]): (string[] | string)[] {
  try {
    const rows = parse(batch.map((r) => r.text).join('\n'), CSV_OPTIONS) as string[][];
    if (rows.length === batch.length) return rows;
  } catch {
    // fall through: find the bad records one by one
  }
  return batch.map((r) => parseCsvRecord(r.text));
}

function toRow(header: string[], record: { line: number; text: string }, fields: string[] | string): ParsedRow {
  if (typeof fields === 'string') return { malformed: { line: record.line, reason: fields, raw: shorten(record.text) } };
  if (fields.length !== header.length) {
    return { malformed: { line: record.line, reason: `expected ${header.length} fields, got ${fields.length}`, raw: shorten(record.text) } };
  }
  const row: Record<string, string> = {};
  header.forEach((column, i) => {
    if (KNOWN_COLUMNS.includes(column) && !(column in row)) row[column] = fields[i] as string;
  });
  return { line: record.line, fields: row, raw: record.text };
}

function readHeader(record: { line: number; text: string }): string[] {
  const fields = parseCsvRecord(record.text);
  if (typeof fields === 'string') throw new InputError(`CSV header cannot be read at line ${record.line}: ${fields}`);
  const header = fields.map((f) => f.trim().toLowerCase());
  if (!header.some((c) => c === 'name' || c === 'domain' || c === 'website')) {
    throw new InputError(`CSV input needs a header naming its columns (name, domain or website, optional company_id); line ${record.line} is ${JSON.stringify(record.text.slice(0, 80))}`);
  }
  return header;
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/**
 * A CSV record that does not parse. When it spans several lines, the likely cause is a stray quote
 * on its first line that swallowed the lines after it (up to the next quote, or the end of the
 * file): only the first line is refused, the lines after it are split and read again on their own.
 */
async function* refused(header: string[], record: { line: number; text: string }, reason: string): AsyncGenerator<ParsedRow> {
  const cut = record.text.indexOf('\n');
  if (cut < 0) {
    yield { malformed: { line: record.line, reason, raw: shorten(record.text) } };
    return;
  }
  yield { malformed: { line: record.line, reason: `${reason} (a stray quote? the lines after it are read on their own)`, raw: shorten(record.text.slice(0, cut)) } };
  for await (const sub of splitLines(once(record.text.slice(cut + 1)))) {
    const line = record.line + sub.line;
    if ('error' in sub) {
      if (sub.text !== undefined) yield* refused(header, { line, text: sub.text }, sub.error);
      else yield { malformed: { line, reason: sub.error } };
    } else if (sub.text.trim().length > 0) {
      const fields = parseCsvRecord(sub.text);
      if (typeof fields === 'string') yield* refused(header, { line, text: sub.text }, fields);
      else yield toRow(header, { line, text: sub.text }, fields);
    }
  }
}

async function* csvRows(raw: AsyncIterable<RawRecord>): AsyncGenerator<ParsedRow> {
  let header: string[] | null = null;
  let batch: { line: number; text: string }[] = [];
  async function* flush(h: string[]): AsyncGenerator<ParsedRow> {
    const records = batch;
    batch = [];
    const parsed = parseCsvBatch(records);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as { line: number; text: string };
      const fields = parsed[i] as string[] | string;
      if (typeof fields === 'string') yield* refused(h, record, fields);
      else yield toRow(h, record, fields);
    }
  }
  for await (const record of raw) {
    if ('error' in record) {
      if (header === null) throw new InputError(`CSV header cannot be read at line ${record.line}: ${record.error}`);
      yield* flush(header);
      if (record.text !== undefined) yield* refused(header, { line: record.line, text: record.text }, record.error);
      else yield { malformed: { line: record.line, reason: record.error } };
      continue;
    }
    if (record.text.trim().length === 0) continue;
    if (header === null) {
      header = readHeader(record);
      continue;
    }
    batch.push(record);
    if (batch.length >= CSV_BATCH) yield* flush(header);
  }
  if (header === null) throw new InputError('CSV input is empty: a header line is required');
  yield* flush(header);
}

async function* jsonRows(raw: AsyncIterable<RawRecord>): AsyncGenerator<ParsedRow> {
  for await (const record of raw) {
    if ('error' in record) {
      yield { malformed: { line: record.line, reason: record.error, ...(record.text ? { raw: shorten(record.text) } : {}) } };
      continue;
    }
    if (record.text.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(record.text);
    } catch {
      yield { malformed: { line: record.line, reason: 'unparseable JSON', raw: shorten(record.text) } };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { malformed: { line: record.line, reason: 'not a JSON object', raw: shorten(record.text) } };
      continue;
    }
    yield { line: record.line, fields: value as RowFields, raw: record.text };
  }
}

/**
 * Streams the companies of an input file (CSV with a header, a JSON array of objects, or JSON
 * Lines), one record at a time: memory holds one record and the ids seen so far, never the file.
 * Columns/keys: `name`, `domain` or `website` (normalised to a bare host), optional `company_id`
 * (derived when absent, see {@link deriveCompanyId}). A row that does not parse, has the wrong
 * number of fields, a bad or duplicate company_id is yielded as `malformed` with the line it
 * starts on; reading goes on with the next row.
 * @throws {InputError} (from the iterator) when the file cannot be read at all, the format is
 * unknown, a CSV has no header or a JSON file is not an array.
 */
export async function* readCompanies(path: string, options: ReadCompaniesOptions): AsyncGenerator<InputRecord> {
  const format = options.format ?? inputFormatOf(path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: options.highWaterMark ?? 64 * 1024 });
  const ids = new CompanyIdRegistry();
  const chunks = (async function* () {
    try {
      for await (const chunk of stream) yield chunk as string;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new InputError(`cannot read input ${path}${code ? ` (${code})` : ''}`, { cause: error });
    }
  })();
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
      const result = rowToCompany(row.fields, row.line, options.tenantId, ids);
      if ('company' in result) yield result;
      else yield { malformed: { line: row.line, reason: result.reason, raw: shorten(row.raw) } };
    }
  } catch (error) {
    if (error instanceof SyntaxError) throw new InputError(error.message, { cause: error });
    throw error;
  } finally {
    stream.destroy();
  }
}
