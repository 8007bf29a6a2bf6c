import { assign, fromCallback, fromPromise, sendTo, setup, type ActorRefFrom } from 'xstate';
import type { TenantId } from '../domain/vendor.js';

/**
 * The lifecycle of one run (issue 6): starting → enriching → exporting → finalising → completed,
 * or interrupted (after `run.interrupt.requested` the current phase drains, then the run is
 * finalised as interrupted) or failed (a fatal infrastructure error in any phase). The machine
 * decides only; the runner supplies the phases as actors with `.provide({ actors })`.
 */

/** How a run ended, as stored in enrichment_runs.status. */
export type RunOutcome = 'completed' | 'interrupted' | 'failed';

/** What the runner passes in. */
export interface RunMachineInput {
  /** The run's tenant when known before it starts (a resume learns it from `startRun`). */
  tenantId: TenantId | null;
  /** Resume this run instead of starting a new one. Default null. */
  resumeRunId?: number | null;
  /** Time a draining phase gets before it is told to abort in-flight work, in milliseconds. */
  drainGraceMs: number;
}

/** The machine's output when it reaches a final state. */
export interface RunMachineOutput {
  runId: number | null;
  status: RunOutcome;
  /** The fatal error's message, when status is failed. */
  error: string | null;
}

/** The run id an error of the `startRun` actor carries (`{ runId }`), when its row was created. */
export function runIdOf(error: unknown): number | null {
  const runId = (error as { runId?: unknown } | null)?.runId;
  return typeof runId === 'number' && Number.isInteger(runId) ? runId : null;
}

export interface RunContext {
  tenantId: TenantId | null;
  resumeRunId: number | null;
  drainGraceMs: number;
  runId: number | null;
  /** Set once an interrupt was requested; the run then ends interrupted (unless it fails). */
  interrupted: boolean;
  outcome: RunOutcome | null;
  error: string | null;
  /** Companies the enrich phase reports as processed. */
  enriched: number;
}

/** Events the machine accepts: from the runner, and from the phase actors (sendBack). */
export type RunEvent =
  | { type: 'run.interrupt.requested' }
  /** A second request to stop: in-flight work is aborted at once, without the grace. */
  | { type: 'run.abort.requested' }
  | { type: 'run.enrich.completed'; processed: number }
  | { type: 'run.export.completed' }
  | { type: 'run.fatal'; error: string };

/** Sent to a running phase actor: stop taking new work, finish what is in flight, then report completed. */
export type PhaseCommand = { type: 'run.drain' } | { type: 'run.abort' };

/** Input of the phase actors (`enrich`, `export`). */
export interface PhaseInput {
  runId: number;
  tenantId: TenantId;
}

/** Input of `finalise`: the run and the status to record. */
export interface FinaliseInput {
  runId: number;
  status: RunOutcome;
  error: string | null;
}

const notProvided = (name: string) => () => {
  throw new Error(`run machine: actor '${name}' was not provided`);
};

/** The run-lifecycle machine; provide `startRun`, `enrich`, `export` and `finalise` before use. */
export const runMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunMachineInput,
    output: {} as RunMachineOutput,
  },
  actors: {
    /**
     * Creates (or reopens, when resuming) the enrichment_runs row; resolves to its id and tenant, or
     * to a null id when stopped before anything was created.
     */
    startRun: fromPromise<{ runId: number | null; tenantId: TenantId | null }, { tenantId: TenantId | null; resumeRunId: number | null }>(notProvided('startRun')),
    /** Streams the companies through enrichment; reports `run.enrich.completed` or `run.fatal`. */
    enrich: fromCallback<PhaseCommand, PhaseInput>(notProvided('enrich')),
    /** Exports the run's companies to Odoo; reports `run.export.completed` or `run.fatal`. */
    export: fromCallback<PhaseCommand, PhaseInput>(notProvided('export')),
    /** Flushes the sink, aggregates stage percentiles and writes the run's status and counts. */
    finalise: fromPromise<void, FinaliseInput>(notProvided('finalise')),
  },
  actions: {
    markInterrupted: assign({ interrupted: true }),
    recordStarted: assign(({ context }, params: { runId: number | null; tenantId: TenantId | null }) => ({ runId: params.runId, tenantId: params.tenantId ?? context.tenantId })),
    recordFatal: assign(({ event }) => ({ error: event.type === 'run.fatal' ? event.error : 'fatal error', outcome: 'failed' as const })),
    settleOutcome: assign(({ context }) => ({ outcome: context.outcome ?? (context.interrupted ? 'interrupted' : 'completed') })),
    drainEnrich: sendTo('enrich', { type: 'run.drain' } satisfies PhaseCommand),
    abortEnrich: sendTo('enrich', { type: 'run.abort' } satisfies PhaseCommand),
    drainExport: sendTo('export', { type: 'run.drain' } satisfies PhaseCommand),
    abortExport: sendTo('export', { type: 'run.abort' } satisfies PhaseCommand),
  },
  guards: {
    interrupted: ({ context }) => context.interrupted,
    /** `startRun` was stopped before it created anything (no row to finalise). */
    nothingStarted: (_, params: { runId: number | null }) => params.runId === null,
    outcomeIs: ({ context }, params: { outcome: RunOutcome }) => context.outcome === params.outcome,
  },
  delays: {
    drainGrace: ({ context }) => context.drainGraceMs,
  },
}).createMachine({
  id: 'run',
  description: 'One run of a tenant: enrich the input, export to Odoo, finalise; interruptible and resumable.',
  initial: 'starting',
  context: ({ input }) => ({
    tenantId: input.tenantId,
    resumeRunId: input.resumeRunId ?? null,
    drainGraceMs: input.drainGraceMs,
    runId: null,
    interrupted: false,
    outcome: null,
    error: null,
    enriched: 0,
  }),
  output: ({ context }) => ({ runId: context.runId, status: context.outcome ?? 'failed', error: context.error }),
  states: {
    starting: {
      description: 'Creating the enrichment_runs row (or reopening it to resume). An interrupt now skips straight to finalising.',
      invoke: {
        id: 'startRun',
        src: 'startRun',
        input: ({ context }) => ({ tenantId: context.tenantId, resumeRunId: context.resumeRunId }),
        onDone: [
          { guard: { type: 'nothingStarted', params: ({ event }) => ({ runId: event.output.runId }) }, target: 'interrupted', actions: ['markInterrupted', 'settleOutcome'] },
          { guard: 'interrupted', target: 'finalising', actions: { type: 'recordStarted', params: ({ event }) => event.output } },
          { target: 'enriching', actions: { type: 'recordStarted', params: ({ event }) => event.output } },
        ],
        onError: {
          target: 'failed',
          actions: assign({
            outcome: 'failed',
            error: ({ event }) => String((event.error as Error)?.message ?? event.error),
            // The run's row may exist already (its input failed to record): the error names it.
            runId: ({ event, context }) => runIdOf(event.error) ?? context.runId,
          }),
        },
      },
      on: { 'run.interrupt.requested': { actions: 'markInterrupted' }, 'run.abort.requested': { actions: 'markInterrupted' } },
    },
    enriching: {
      description: 'Companies stream from the input through one enrichment actor each, at RUN_CONCURRENCY, into the sink.',
      invoke: { id: 'enrich', src: 'enrich', input: ({ context }) => ({ runId: context.runId as number, tenantId: context.tenantId as TenantId }) },
      initial: 'running',
      states: {
        running: {
          description: 'Taking new companies from the input.',
          on: {
            'run.interrupt.requested': { target: 'draining', actions: ['markInterrupted', 'drainEnrich'] },
            'run.abort.requested': { target: 'draining', actions: ['markInterrupted', 'drainEnrich', 'abortEnrich'] },
          },
        },
        draining: {
          description: 'Interrupted: intake stopped, in-flight companies finish; after the grace (or at a second request) they are told to end with what they have.',
          after: { drainGrace: { actions: 'abortEnrich' } },
          on: { 'run.abort.requested': { actions: 'abortEnrich' } },
        },
      },
      on: {
        'run.enrich.completed': [
          { guard: 'interrupted', target: 'finalising', actions: assign({ enriched: ({ event }) => event.processed }) },
          { target: 'exporting', actions: assign({ enriched: ({ event }) => event.processed }) },
        ],
        'run.fatal': { target: 'finalising', actions: 'recordFatal' },
      },
    },
    exporting: {
      description: "Exporting the run's companies to each tenant's Odoo; Odoo failures never fail the run.",
      invoke: { id: 'export', src: 'export', input: ({ context }) => ({ runId: context.runId as number, tenantId: context.tenantId as TenantId }) },
      initial: 'running',
      states: {
        running: {
          description: 'Writing partners to Odoo.',
          on: {
            'run.interrupt.requested': { target: 'draining', actions: ['markInterrupted', 'drainExport'] },
            'run.abort.requested': { target: 'draining', actions: ['markInterrupted', 'drainExport', 'abortExport'] },
          },
        },
        draining: {
          description: 'Interrupted: no new writes start, writes in flight finish; after the grace (or at a second request) they are aborted.',
          after: { drainGrace: { actions: 'abortExport' } },
          on: { 'run.abort.requested': { actions: 'abortExport' } },
        },
      },
      on: {
        'run.export.completed': { target: 'finalising' },
        'run.fatal': { target: 'finalising', actions: 'recordFatal' },
      },
    },
    finalising: {
      description: 'Flushing the sink, aggregating stage percentiles, writing the status, counts and degraded flag.',
      entry: 'settleOutcome',
      invoke: {
        id: 'finalise',
        src: 'finalise',
        input: ({ context }) => ({ runId: context.runId as number, status: context.outcome as RunOutcome, error: context.error }),
        onDone: [
          { guard: { type: 'outcomeIs', params: { outcome: 'completed' } }, target: 'completed' },
          { guard: { type: 'outcomeIs', params: { outcome: 'interrupted' } }, target: 'interrupted' },
          { target: 'failed' },
        ],
        onError: { target: 'failed', actions: assign({ outcome: 'failed', error: ({ event }) => String((event.error as Error)?.message ?? event.error) }) },
      },
    },
    completed: { type: 'final', description: 'Every company has a row; the export ran; the run is recorded completed.' },
    interrupted: { type: 'final', description: 'Stopped on request; `lead-enrich run --resume <run_id>` processes the companies without a row.' },
    failed: { type: 'final', description: 'A fatal infrastructure error (database, input) ended the run; exit code 1.' },
  },
});

/** A started run actor. */
export type RunActor = ActorRefFrom<typeof runMachine>;
