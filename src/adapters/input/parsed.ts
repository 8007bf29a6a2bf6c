import { badByteReason, firstBadByte, visible } from './decode.js';
import type { RowFields } from './row.js';

import type { MalformedRow } from '../../domain/input.js';

export type { MalformedRow };

/** A record parsed into fields (not yet validated), or refused. */
export type ParsedRow = { line: number; fields: RowFields; raw: string } | { malformed: MalformedRow };

/** A record's text for a report: cut to 200 characters, bytes that were not UTF-8 shown as U+FFFD. */
export const shorten = (raw: string): string => visible(raw.length > 200 ? `${raw.slice(0, 197)}...` : raw);

/** The refusal of a record that holds a byte that is not UTF-8 (with its line and column), or null. */
export function notUtf8(record: { line: number; column?: number; text: string }): ParsedRow | null {
  const bad = firstBadByte(record.text, record.line, record.column);
  return bad ? { malformed: { line: record.line, reason: badByteReason(bad), raw: shorten(record.text) } } : null;
}
