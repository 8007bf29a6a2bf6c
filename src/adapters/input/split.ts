/**
 * Streaming record splitters for run input: they cut a stream of text chunks into the raw text of
 * one record at a time, with the 1-based line each record starts on, without ever holding more than
 * one record (plus one chunk) in memory. Parsing a record is the caller's business; splitting only
 * has to know where records end, so that one broken record cannot swallow the rest of the file.
 */

/**
 * One record's raw text, or a record the splitter itself had to give up on. `column` is the
 * 1-based column its text starts at on `line` when that is not 1 (a JSON element after `[` or `,`).
 */
export type RawRecord = { line: number; column?: number; text: string } | { line: number; error: string; text?: string };

/** The chunks with a leading byte-order mark removed from the first non-empty one. */
async function* withoutBom(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let first = true;
  for await (const chunk of chunks) {
    if (first && chunk.length > 0) {
      first = false;
      yield chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
    } else yield chunk;
  }
}

/** Longest record accepted, in characters (1 MiB). Longer means a runaway quote or a broken file. */
export const MAX_RECORD_CHARS = 1 << 20;

const QUOTE = 34;
const NEWLINE = 10;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/**
 * Splits CSV (or, with `quotes: false`, JSON Lines) into records at newlines outside double quotes.
 * A leading byte-order mark is dropped; CRLF line ends are accepted. A record longer than
 * {@link MAX_RECORD_CHARS} is reported as an error and skipped up to the next newline.
 * @param chunks decoded text chunks, e.g. `fs.createReadStream(path, { encoding: 'utf8' })`.
 * @param options.quotes whether `"` opens a quoted field in which newlines do not end the record. Default true.
 */
export async function* splitLines(chunks: AsyncIterable<string>, options: { quotes?: boolean } = {}): AsyncGenerator<RawRecord> {
  const quotes = options.quotes ?? true;
  let carry = '';
  let inQuotes = false;
  let overflow = false;
  let line = 1;
  let startLine = 1;
  for await (const chunk of withoutBom(chunks)) {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === QUOTE && quotes && !overflow) inQuotes = !inQuotes;
      else if (c === NEWLINE) {
        if (overflow) {
          // Resynchronise on the next raw newline, whatever the quote state was.
          overflow = false;
          inQuotes = false;
          from = i + 1;
          line++;
          startLine = line;
        } else if (!inQuotes) {
          const text = carry + chunk.slice(from, i);
          carry = '';
          from = i + 1;
          yield { line: startLine, text: stripCr(text) };
          line++;
          startLine = line;
        } else line++;
      }
    }
    if (!overflow) {
      carry += chunk.slice(from);
      if (carry.length > MAX_RECORD_CHARS) {
        yield { line: startLine, error: `record longer than ${MAX_RECORD_CHARS} characters (unclosed quote?)` };
        carry = '';
        overflow = true;
      }
    }
  }
  if (!overflow && carry.length > 0) {
    const text = stripCr(carry);
    if (inQuotes) yield { line: startLine, error: 'quote not closed before the end of the file', text };
    else yield { line: startLine, text };
  }
}

/**
 * Splits a JSON document whose top level is an array into the raw text of each element.
 * Strings, escapes and nesting are tracked so that commas and brackets inside elements do not split.
 * An element that cannot be delimited (empty, or cut off by the end of the file) is reported as an error.
 * @throws {SyntaxError} when the document does not start with `[` or has content after the closing `]`.
 */
export async function* splitJsonArray(chunks: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  let state: 'before' | 'inside' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let startLine = 1;
  let element = '';
  let overflow = false;
  let started = false;
  // Absolute character positions, for the column an element starts at.
  let base = 0;
  let lineStart = 0;
  let startColumn = 1;
  const finish = (): RawRecord => {
    const text = element.trim();
    element = '';
    if (!started) startLine = line;
    started = false;
    if (overflow) {
      overflow = false;
      return { line: startLine, error: `element longer than ${MAX_RECORD_CHARS} characters` };
    }
    if (text.length === 0) return { line: startLine, error: 'empty array element' };
    return startColumn === 1 ? { line: startLine, text } : { line: startLine, column: startColumn, text };
  };
  for await (const chunk of withoutBom(chunks)) {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === NEWLINE) {
        line++;
        lineStart = base + i + 1;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      const blank = c === 32 || c === NEWLINE || c === 13 || c === 9;
      if (state === 'before') {
        if (c === OPEN_BRACKET) {
          state = 'inside';
          from = i + 1;
        } else if (!blank) throw new SyntaxError(`JSON input must be an array of objects (line ${line})`);
        continue;
      }
      if (state === 'after') {
        if (!blank) throw new SyntaxError(`unexpected content after the JSON array (line ${line})`);
        continue;
      }
      const separator = depth === 0 && (c === COMMA || c === CLOSE_BRACKET);
      if (!started && !blank && !separator) {
        started = true;
        startLine = line;
        startColumn = base + i - lineStart + 1;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && depth > 0) depth--;
      else if (separator) {
        if (!overflow) element += chunk.slice(from, i);
        from = i + 1;
        const closing = c === CLOSE_BRACKET;
        const empty = element.trim().length === 0 && !overflow;
        // `[]` and a trailing `[... ,]` close without an element; anything else is one element.
        if (!(closing && empty)) yield finish();
        else {
          element = '';
          started = false;
        }
        if (closing) state = 'after';
        continue;
      }
    }
    if (state === 'inside' && !overflow) {
      element += chunk.slice(from);
      if (element.length > MAX_RECORD_CHARS) {
        overflow = true;
        element = '';
      }
    }
    base += chunk.length;
  }
  if (state === 'before') return;
  if (state === 'inside') yield { line: startLine, error: 'JSON array not closed before the end of the file' };
}
