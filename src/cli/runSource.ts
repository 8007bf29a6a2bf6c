/**
 * What `lead-enrich run` works on: the tenant, the companies (the input, the tenant's stored
 * companies, or none for a resume whose input is recorded) and what the run row records of the
 * input. Issue 11, item 4: the input is recorded by its absolute path, and a resume of a run whose
 * input could not be read whole says what to do when that input cannot be read again.
 */
import { resolve } from 'node:path';
import type { InputFormat } from '../adapters/input.js';
import type { Company } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import type { RunPlan } from './commands/run.js';
import { UsageError } from './context.js';
import { describeInput, inputReadableAgain, openRunInput, type RunInput } from './runInput.js';

/** What a run works on: its tenant, its companies (none: a resume whose input is recorded), the input's params. */
export interface RunSource {
  tenantId: number;
  plan: RunPlan;
  companies?: AsyncIterable<Company>;
  input: RunInput | null;
}

/**
 * The companies of a resume. A run whose input was recorded whole needs none. One stopped while
 * its input was being read records it again (companies already recorded keep their place): its
 * file is read again from its absolute path, or `--input` gives it again; a FIFO or standard
 * input cannot be read again, so without `--input` the resume stops with what to do (exit 2).
 */
async function resumeSource(runtime: Runtime, plan: RunPlan, signal: AbortSignal, counter: { malformed: number }): Promise<RunSource | null> {
  const runId = plan.resumeRunId as number;
  const run = await runtime.runs.getRun(runId);
  if (!run) throw new UsageError(`run ${runId} does not exist`);
  if (run.status === 'completed') process.stderr.write(`lead-enrich: run ${run.runId} is already completed; nothing to resume\n`);
  const resumed = { ...plan, dryRun: run.params.dryRun === true, concurrency: plan.concurrency ?? (typeof run.params.concurrency === 'number' ? run.params.concurrency : undefined) };
  const recorded = run.params.inputRecorded === true;
  if (recorded && plan.input !== null) throw new UsageError(`run ${runId} has its input recorded whole: --resume takes --input only for a run stopped while its input was being read`);
  if (recorded) return { tenantId: run.tenantId, plan: resumed, input: null };
  const storedFormat = typeof run.params.inputFormat === 'string' ? (run.params.inputFormat as InputFormat) : null;
  let path = plan.input;
  if (path === null && typeof run.params.inputPath === 'string') {
    if (!inputReadableAgain(run.params)) {
      throw new UsageError(
        `run ${runId} was stopped before its input was recorded whole, and its input (${describeInput(run.params)}) cannot be read again. ` +
          `Give the same input again: lead-enrich run --resume ${runId} --input <file|-> (companies already recorded keep their place and are not doubled)`,
      );
    }
    // Stored absolute since issue 11; a run recorded before that stored the path as typed.
    path = resolve(run.params.inputPath);
  }
  if (path === null) {
    const staleDays = typeof run.params.staleDays === 'number' ? run.params.staleDays : null;
    return { tenantId: run.tenantId, plan: resumed, companies: runtime.runs.tenantCompanies(run.tenantId, { staleDays }), input: null };
  }
  const input = await openRunInput(path, { tenantId: run.tenantId, format: plan.format ?? (plan.input === null ? storedFormat : null), signal, counter });
  return input ? { tenantId: run.tenantId, plan: resumed, companies: input.companies, input } : null;
}

/** What a run works on (see {@link RunSource}); null when a signal came before anything was created. */
export async function runSource(runtime: Runtime, plan: RunPlan, signal: AbortSignal, counter: { malformed: number }): Promise<RunSource | null> {
  if (plan.resumeRunId !== null) return resumeSource(runtime, plan, signal, counter);
  const tenantId = plan.tenantId as number;
  if (plan.input === null) return { tenantId, plan, companies: runtime.runs.tenantCompanies(tenantId, { staleDays: plan.staleDays }), input: null };
  const input = await openRunInput(plan.input, { tenantId, format: plan.format, signal, counter });
  return input ? { tenantId, plan, companies: input.companies, input } : null;
}
