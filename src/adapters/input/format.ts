/**
 * Which format an input is in: `--format` when given, else the path's extension, else (standard
 * input, a path without extension such as a FIFO) the first character that is not blank:
 * `[` a JSON array, `{` JSON Lines, anything else CSV (whose header starts with a column name).
 * See docs/decisions/052-052-input-streams-and-formats.md.
 */
import { basename, extname } from 'node:path';
import { InputError } from './error.js';

import type { InputFormat } from '../../domain/input.js';

export type { InputFormat };

/** The formats `--format` accepts. */
export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'json', 'jsonl'];

/**
 * The format named by a path's extension, or null when the path has none (`-`, `companies`, a FIFO).
 * @throws {InputError} for an extension that is not `.csv`, `.json`, `.jsonl` or `.ndjson`.
 */
export function inputFormatOf(path: string): InputFormat | null {
  const ext = extname(basename(path)).toLowerCase();
  if (ext === '') return null;
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new InputError(`unknown input format for ${path}: expected .csv, .json, .jsonl or .ndjson (or give --format csv|json|jsonl)`);
}

/**
 * A `--format` value.
 * @throws {InputError} for anything but csv, json or jsonl.
 */
export function parseInputFormat(value: string): InputFormat {
  const format = value.trim().toLowerCase();
  if ((INPUT_FORMATS as readonly string[]).includes(format)) return format as InputFormat;
  throw new InputError(`--format expects csv, json or jsonl, got ${JSON.stringify(value)}`);
}

const FIRST_MARK = /[^\s\uFEFF]/;

/**
 * Reads decoded text until its first character that is not blank (nor a byte-order mark) and names
 * the format it opens; the chunks are handed on whole, those read included. An input with no such
 * character is CSV (and then refused as empty).
 */
export async function sniffFormat(chunks: AsyncIterable<string>): Promise<{ format: InputFormat; chunks: AsyncGenerator<string> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const seen: string[] = [];
  let format: InputFormat = 'csv';
  let ended = false;
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    seen.push(next.value);
    const mark = FIRST_MARK.exec(next.value)?.[0];
    if (mark !== undefined) {
      format = mark === '[' ? 'json' : mark === '{' ? 'jsonl' : 'csv';
      break;
    }
  }
  async function* replay(): AsyncGenerator<string> {
    try {
      yield* seen.splice(0);
      while (!ended) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.(undefined);
    }
  }
  return { format, chunks: replay() };
}
