/**
 * The input of `lead-enrich run`: a file, a named pipe or standard input, opened exactly once. Its
 * head (a CSV header, the opening of a JSON array, the first record) is read before any run is
 * created, so that an input that cannot be read at all is a usage error that leaves no run behind;
 * the companies then come from the same open stream. See docs/decisions/input-streams-and-formats.md.
 */
import { stat } from 'node:fs/promises';
import { isInputError, openInput, type InputFormat, type InputKind, type InputRecord } from '../adapters/input.js';
import type { Company } from '../domain/index.js';
import { UsageError } from './context.js';

/** An opened input: what to record on the run row, and its companies (iterate once). */
export interface RunInput {
  kind: InputKind;
  /** Absolute path, or `-` for standard input. */
  path: string;
  format: InputFormat;
  companies: AsyncIterable<Company>;
  /** Closes the input when its companies will not be read after all. */
  close(): void;
  /** The run parameters that say what the input was (`inputPath` absolute, `inputKind`, `inputFormat`). */
  params: { inputPath: string; inputKind: InputKind; inputFormat: InputFormat };
}

/** What the run row says about its input (enrichment_runs.params), as far as a resume needs it. */
export interface RecordedInput {
  inputPath?: unknown;
  inputKind?: unknown;
  inputFormat?: unknown;
}

/** Whether a run's input can be read again: a file can; a FIFO or standard input was consumed. */
export function inputReadableAgain(params: RecordedInput): boolean {
  return params.inputKind !== 'stdin' && params.inputKind !== 'fifo' && params.inputPath !== '-';
}

/** How the run's input is named in messages. */
export function describeInput(params: RecordedInput): string {
  if (params.inputKind === 'stdin' || params.inputPath === '-') return 'standard input';
  if (params.inputKind === 'fifo') return `the named pipe ${String(params.inputPath)}`;
  return String(params.inputPath);
}

async function tellWhatWeWaitFor(path: string, out: NodeJS.WritableStream): Promise<void> {
  if (path === '-') {
    if (process.stdin.isTTY) out.write('lead-enrich: reading companies from standard input (end with Ctrl-D)\n');
    return;
  }
  const stats = await stat(path).catch(() => null);
  if (stats?.isFIFO()) out.write(`lead-enrich: reading companies from the named pipe ${path} (waiting for a writer)\n`);
}

/** The companies of `records`, `first` included; each malformed row is counted and reported on `out`. */
async function* companiesOf(label: string, first: IteratorResult<InputRecord>, records: AsyncGenerator<InputRecord>, counter: { malformed: number }, out: NodeJS.WritableStream): AsyncGenerator<Company> {
  const report = (record: InputRecord): Company | null => {
    if ('company' in record) return record.company;
    counter.malformed += 1;
    out.write(`lead-enrich: ${label}:${record.malformed.line}: skipped malformed row: ${record.malformed.reason}\n`);
    return null;
  };
  try {
    if (first.done) return;
    const company = report(first.value);
    if (company) yield company;
    for await (const record of records) {
      const next = report(record);
      if (next) yield next;
    }
  } finally {
    await records.return(undefined);
  }
}

/**
 * Opens the input once and reads its head.
 * @param path as given to `--input` (`-` for standard input); messages name it so.
 * @param options.signal the first SIGINT/SIGTERM: it ends a wait for a FIFO's writer or for stdin.
 * @returns null when the signal came before the head was read (nothing may be created then).
 * @throws {UsageError} when the input cannot be opened or read at all (exit 2).
 */
export async function openRunInput(
  path: string,
  options: { tenantId: number; format: InputFormat | null; signal: AbortSignal; counter: { malformed: number }; out?: NodeJS.WritableStream },
): Promise<RunInput | null> {
  const out = options.out ?? process.stderr;
  const label = path === '-' ? '<stdin>' : path;
  try {
    await tellWhatWeWaitFor(path, out);
    const input = await openInput(path, { tenantId: options.tenantId, signal: options.signal, ...(options.format ? { format: options.format } : {}) });
    const first = await input.records.next();
    if (options.signal.aborted) {
      input.close();
      return null;
    }
    return {
      kind: input.kind,
      path: input.path,
      format: input.format,
      companies: companiesOf(label, first, input.records, options.counter, out),
      close: input.close,
      params: { inputPath: input.path, inputKind: input.kind, inputFormat: input.format },
    };
  } catch (error) {
    if (options.signal.aborted) return null;
    if (isInputError(error)) throw new UsageError(`--input ${label}: ${error.message}`);
    throw error;
  }
}
