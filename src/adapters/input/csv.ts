/**
 * CSV rows from records delimited by the splitter: the header, then one parsed row (or refusal) per
 * record. csv-parse parses {@link CSV_BATCH} records per call, falling back to one at a time to
 * single out a bad one; a stray quote that swallowed lines refuses only its own line.
 */
import { parse } from 'csv-parse/sync';
import { badByteReason, firstBadByte } from './decode.js';
import { InputError } from './error.js';
import { notUtf8, shorten, type ParsedRow } from './parsed.js';
import { splitLines, type RawRecord } from './split.js';

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
  const encoding = notUtf8(record);
  if (encoding) return encoding;
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
  const bad = firstBadByte(record.text, record.line);
  if (bad) throw new InputError(`CSV header cannot be read: ${badByteReason(bad)}`);
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

/**
 * Parses delimited CSV records: the first non-blank one is the header; each later one becomes a row
 * or a refusal (does not parse, wrong field count, a byte that is not UTF-8), in order.
 * @throws {InputError} when there is no header, or it cannot be read.
 */
export async function* csvRows(raw: AsyncIterable<RawRecord>): AsyncGenerator<ParsedRow> {
  let header: string[] | null = null;
  let batch: { line: number; text: string }[] = [];
  let first = true;
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
    // The first row goes out alone: a reader waiting on a stream (a FIFO, stdin) learns at once
    // that the input is readable, not after 512 rows.
    if (batch.length >= (first ? 1 : CSV_BATCH)) {
      first = false;
      yield* flush(header);
    }
  }
  if (header === null) throw new InputError('CSV input is empty: a header line is required');
  yield* flush(header);
}

