import { notUtf8, shorten, type ParsedRow } from './parsed.js';
import type { RowFields } from './row.js';
import type { RawRecord } from './split.js';

/** JSON rows from records delimited by the splitter (array elements or lines): each an object, or a refusal. */
export async function* jsonRows(raw: AsyncIterable<RawRecord>): AsyncGenerator<ParsedRow> {
  for await (const record of raw) {
    if ('error' in record) {
      yield { malformed: { line: record.line, reason: record.error, ...(record.text ? { raw: shorten(record.text) } : {}) } };
      continue;
    }
    if (record.text.trim().length === 0) continue;
    const encoding = notUtf8(record);
    if (encoding) {
      yield encoding;
      continue;
    }
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

