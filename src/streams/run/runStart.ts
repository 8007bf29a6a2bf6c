import {
  RunRequestError,
  isInputError,
  type Company,
  type CompanyInput,
  type InputCompany,
  type InputFormat,
  type InputOpener,
  type MalformedRow,
  type RunParams,
  type RunRow,
  type RunStore,
} from '../../domain/index.js';
import { resumeInputOf } from './resume.js';

/**
 * The start of a run (the run machine's `startRun` actor): what to run, from the request — a new
 * run's input opened and its head read before its row exists, or a resumed run's row and, by the
 * resume rule (resume.ts), its input again when it was not recorded whole — then the run row.
 */

/** Where a run's companies come from. */
export type RunSource =
  | { kind: 'companies'; companies: AsyncIterable<Company> | Iterable<Company> }
  | { kind: 'input'; path: string; format?: InputFormat | null }
  | { kind: 'stored'; staleDays: number | null };

/** What a run records as its input: a caller's or the tenant's companies, or an input's rows. */
export type RunCompanies = AsyncIterable<Company | InputCompany> | Iterable<Company | InputCompany>;

/** What is asked of the start. */
export interface StartRequest {
  /** A new run of this tenant; absent when resuming. */
  tenantId?: number;
  resumeRunId?: number;
  /** A new run's companies; a resumed run's input again (only when it was stopped while recording it). */
  source?: RunSource;
  /** A new run's settings, recorded in its params. */
  dryRun: boolean;
  concurrency: number | undefined;
  /** Recorded in the new run's params as they are. */
  params: RunParams;
  onMalformed?: (row: MalformedRow) => void;
}

/** What the start settled: the run, its settings (a resume keeps its own) and the companies to record. */
export interface StartedRun {
  runId: number;
  tenantId: number;
  dryRun: boolean;
  concurrency: number | undefined;
  /** The run's status before this start (resume), or null for a new run. */
  previousStatus: RunRow['status'] | null;
  /** Companies to record before enriching (an input's with their lines); none when the input is recorded whole. */
  companies: RunCompanies | null;
  input: CompanyInput | null;
}

/** What the start needs. */
export interface StartDeps {
  store: Pick<RunStore, 'getRun' | 'createRun' | 'tenantCompanies'>;
  inputs: InputOpener;
  /** RUN_BUDGET_USD, kept in a new run's params (its budget, whichever worker spends it). Default none. */
  runBudgetUsd?: number | null;
}

/** Opens an input; an input that cannot be read at all is a {@link RunRequestError}. */
async function open(deps: StartDeps, path: string, options: { tenantId: number; format: InputFormat | null; signal: AbortSignal; onMalformed?: (row: MalformedRow) => void }): Promise<CompanyInput | null> {
  try {
    return await deps.inputs.open(path, { tenantId: options.tenantId, format: options.format, signal: options.signal, ...(options.onMalformed ? { onMalformed: options.onMalformed } : {}) });
  } catch (error) {
    if (isInputError(error)) throw new RunRequestError(`--input ${path === '-' ? '<stdin>' : path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The companies of a source, or null when the signal aborted before an input's head was read. */
async function companiesOf(deps: StartDeps, source: RunSource, tenantId: number, request: StartRequest, signal: AbortSignal): Promise<{ companies: RunCompanies; input: CompanyInput | null } | null> {
  if (source.kind === 'companies') return { companies: source.companies, input: null };
  if (source.kind === 'stored') return { companies: deps.store.tenantCompanies(tenantId, { staleDays: source.staleDays }), input: null };
  const input = await open(deps, source.path, { tenantId, format: source.format ?? null, signal, ...(request.onMalformed ? { onMalformed: request.onMalformed } : {}) });
  return input ? { companies: input.companies, input } : null;
}

/**
 * Settles what to run and creates (or finds) its row. Resolves null when `signal` aborted before
 * anything was created (a wait for a FIFO's writer, say).
 * @throws {RunRequestError} when the run cannot start as asked (nothing written)
 */
export async function startRunRow(deps: StartDeps, request: StartRequest, signal: AbortSignal): Promise<StartedRun | null> {
  if (request.resumeRunId !== undefined) {
    const run = await deps.store.getRun(request.resumeRunId);
    if (!run) throw new RunRequestError(`run ${request.resumeRunId} does not exist`);
    const need = resumeInputOf(run, request.source !== undefined);
    const concurrency = request.concurrency ?? (typeof run.params.concurrency === 'number' ? run.params.concurrency : undefined);
    const base = { runId: run.runId, tenantId: run.tenantId, dryRun: run.params.dryRun === true, concurrency, previousStatus: run.status };
    if (need.kind === 'recorded') return { ...base, companies: null, input: null };
    const source: RunSource = need.kind === 'given' ? (request.source as RunSource) : need.kind === 'file' ? { kind: 'input', path: need.path, format: need.format } : need;
    const got = await companiesOf(deps, source, run.tenantId, request, signal);
    return got ? { ...base, ...got } : null;
  }
  const tenantId = request.tenantId as number;
  const got = await companiesOf(deps, request.source as RunSource, tenantId, request, signal);
  if (got === null) return null;
  const kind = request.source?.kind ?? 'stored';
  const inputParams = got.input
    ? { inputPath: got.input.path, inputKind: got.input.kind, inputFormat: got.input.format }
    : { inputPath: null, inputKind: kind === 'companies' ? 'given' : 'stored' };
  const staleDays = request.source?.kind === 'stored' ? request.source.staleDays : null;
  const params: RunParams = { ...inputParams, concurrency: request.concurrency, dryRun: request.dryRun, staleDays, budgetUsd: deps.runBudgetUsd ?? null, ...request.params };
  try {
    const runId = await deps.store.createRun(tenantId, params);
    return { runId, tenantId, dryRun: request.dryRun, concurrency: request.concurrency, previousStatus: null, ...got };
  } catch (error) {
    got.input?.close();
    throw error;
  }
}
