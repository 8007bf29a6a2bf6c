/**
 * UTF-8 decoding of run input that keeps track of bytes that are not UTF-8. A plain decoder turns
 * them into U+FFFD, indistinguishable from a real U+FFFD, and a Latin-1 "Café" would be stored and
 * exported as "Caf�". Here each such byte 0xNN becomes the lone surrogate U+DCNN (as Python's
 * `surrogateescape`): valid UTF-8 never decodes to a lone surrogate, and every byte that matters to
 * the splitters (quotes, commas, brackets, newlines) is ASCII, so records are delimited exactly as
 * before and the row holding the byte can be refused with its line and column.
 */
import { isUtf8 } from 'node:buffer';

/** A lone surrogate standing for a byte that is not UTF-8 (in `u` mode a valid surrogate pair never matches). */
const ESCAPED = /[\uDC80-\uDCFF]/u;
const ESCAPED_ALL = /[\uDC80-\uDCFF]/gu;

const isContinuation = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf;

/** Length of the well-formed UTF-8 sequence starting at `i` (its lead byte ≥ 0x80), or 0 when it is not one. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  const b1 = bytes[i + 1];
  if (b >= 0xc2 && b <= 0xdf) return isContinuation(b1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    // E0: no overlong forms; ED: no UTF-16 surrogates.
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return b1 !== undefined && b1 >= lo && b1 <= hi && isContinuation(bytes[i + 2]) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    // F0: no overlong forms; F4: nothing above U+10FFFF.
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return b1 !== undefined && b1 >= lo && b1 <= hi && isContinuation(bytes[i + 2]) && isContinuation(bytes[i + 3]) ? 4 : 0;
  }
  return 0;
}

/** Decodes bytes that are not all UTF-8: well-formed runs as UTF-8, every other byte as U+DC80–U+DCFF. */
function decodeEscaping(bytes: Buffer): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    const length = b < 0x80 ? 1 : sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b);
    i += 1;
    run = i;
  }
  return out + bytes.toString('utf8', run);
}

/** Where the last sequence of `bytes` would end if it is cut off by the chunk's end: its start, else the length. */
function completeEnd(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if (b < 0x80) return bytes.length;
    if (b >= 0xc0) {
      const needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/**
 * Decodes a byte stream as UTF-8, a sequence cut by a chunk boundary being joined first. Bytes that
 * are not UTF-8 become U+DC80–U+DCFF (see {@link firstBadByte}); the fast path is Node's decoder.
 */
export async function* decodeUtf8(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let carry: Buffer | null = null;
  for await (const chunk of chunks) {
    const bytes: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const end = completeEnd(bytes);
    carry = end < bytes.length ? Buffer.from(bytes.subarray(end)) : null;
    const head = bytes.subarray(0, end);
    if (head.length > 0) yield isUtf8(head) ? head.toString('utf8') : decodeEscaping(head);
  }
  if (carry) yield decodeEscaping(carry);
}

/** The first byte of `text` that was not UTF-8, with its line and 1-based column (in characters). */
export interface BadByte {
  byte: number;
  line: number;
  column: number;
}

/**
 * The first byte that was not UTF-8 in a record decoded by {@link decodeUtf8}, or null.
 * @param line the line the record starts on.
 * @param column the column its text starts at on that line.
 */
export function firstBadByte(text: string, line: number, column = 1): BadByte | null {
  const at = text.search(ESCAPED);
  if (at < 0) return null;
  const before = text.slice(0, at);
  const lineStart = before.lastIndexOf('\n') + 1;
  let newlines = 0;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) newlines++;
  const offset = newlines === 0 ? column - 1 : 0;
  return { byte: text.charCodeAt(at) - 0xdc00, line: line + newlines, column: offset + [...before.slice(lineStart)].length + 1 };
}

/** The reason a row holding `bad` is refused. */
export function badByteReason(bad: BadByte): string {
  return `not UTF-8: byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')} at line ${bad.line}, column ${bad.column} (save the input as UTF-8)`;
}

/** `text` for display: each byte that was not UTF-8 shown as U+FFFD. */
export function visible(text: string): string {
  return text.replace(ESCAPED_ALL, '\uFFFD');
}
