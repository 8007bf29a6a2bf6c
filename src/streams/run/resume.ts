import { RunRequestError, type InputFormat, type RunRow } from '../../domain/index.js';

/**
 * The resume rule, in one place (DESIGN.md "Command line": `run --resume <run_id>` processes the
 * companies without a row and exports those not exported). What a resumed run needs besides its
 * recorded rows: nothing when its input was recorded whole; otherwise its input again, since the
 * companies not yet recorded would silently drop out — a file is read again from its absolute path,
 * the tenant's stored companies are listed again, a named pipe or standard input cannot be read
 * again and must be given again (companies already recorded keep their place, never doubled).
 */
export type ResumeInput =
  | { kind: 'recorded' }
  | { kind: 'given' }
  | { kind: 'file'; path: string; format: InputFormat | null }
  | { kind: 'stored'; staleDays: number | null };

/** How a recorded input is named in messages. */
export function describeRecordedInput(params: RunRow['params']): string {
  if (params.inputKind === 'stdin' || params.inputPath === '-') return 'standard input';
  if (params.inputKind === 'fifo') return `the named pipe ${String(params.inputPath)}`;
  return String(params.inputPath);
}

/**
 * What resuming `run` needs; `given`: the caller supplies the input again.
 * @throws {RunRequestError} when the input was recorded whole and is given again, or when it was not
 *   and cannot be read again (a FIFO, standard input) and is not given
 */
export function resumeInputOf(run: RunRow, given: boolean): ResumeInput {
  const { params } = run;
  if (params.inputRecorded === true) {
    if (given) throw new RunRequestError(`run ${run.runId} has its input recorded whole: a resume takes its input again only when it was stopped while its input was being read`);
    return { kind: 'recorded' };
  }
  if (given) return { kind: 'given' };
  const staleDays = typeof params.staleDays === 'number' ? params.staleDays : null;
  if (params.inputKind === 'stored') return { kind: 'stored', staleDays };
  if (params.inputKind === 'given' || (typeof params.inputPath !== 'string' && !('staleDays' in params))) {
    // A library caller's own companies: only the caller has them.
    throw new RunRequestError(`run ${run.runId} was stopped before its input was recorded whole: resume it with its companies again (companies already recorded keep their place and are not doubled)`);
  }
  // Before inputKind was recorded, a run without an input path was the tenant's stored companies.
  if (typeof params.inputPath !== 'string') return { kind: 'stored', staleDays };
  if (params.inputKind === 'stdin' || params.inputKind === 'fifo' || params.inputPath === '-') {
    throw new RunRequestError(
      `run ${run.runId} was stopped before its input was recorded whole, and its input (${describeRecordedInput(params)}) cannot be read again. ` +
        `Give the same input again: lead-enrich run --resume ${run.runId} --input <file|-> (companies already recorded keep their place and are not doubled)`,
    );
  }
  const format = params.inputFormat === 'csv' || params.inputFormat === 'json' || params.inputFormat === 'jsonl' ? params.inputFormat : null;
  return { kind: 'file', path: params.inputPath, format };
}
