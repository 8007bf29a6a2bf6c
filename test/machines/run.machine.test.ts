import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback, fromPromise, type AnyEventObject, type SnapshotFrom, type StateValue } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { runMachine, type FinaliseInput, type PhaseCommand, type PhaseInput, type RunEvent, type RunOutcome } from '../../src/machines/run.machine.js';

const GRACE = 5_000;
const input = { tenantId: 4, drainGraceMs: GRACE };

/**
 * Every event the machine can meet, with the payloads the graph traversal should use; the
 * xstate.done/error events of invoked actors are not in RunEvent, hence the cast.
 */
const EVENTS = [
  { type: 'run.interrupt.requested' },
  { type: 'run.abort.requested' },
  { type: 'run.enrich.completed', processed: 3 },
  { type: 'run.export.completed' },
  { type: 'run.fatal', error: 'database gone' },
  { type: 'xstate.done.actor.startRun', output: { runId: 42, tenantId: 4 } },
  { type: 'xstate.done.actor.startRun', output: { runId: null, tenantId: 4 } },
  { type: 'xstate.error.actor.startRun', error: new Error('cannot create run') },
  { type: 'xstate.done.actor.finalise', output: undefined },
  { type: 'xstate.error.actor.finalise', error: new Error('cannot finalise') },
] as AnyEventObject[] as RunEvent[];

// ---- The reference: the lifecycle as a plain table, written independently of the machine. ----
interface Ref {
  at: string;
  interrupted: boolean;
  outcome: RunOutcome | null;
}
const toFinalise = (r: Ref, outcome?: RunOutcome): Ref => ({ ...r, at: 'finalising', outcome: outcome ?? r.outcome ?? (r.interrupted ? 'interrupted' : 'completed') });

function reference(r: Ref, event: AnyEventObject): Ref {
  const { type } = event;
  const phase = r.at.split('.')[0];
  if (type.startsWith('xstate.after.')) return r;
  switch (r.at) {
    case 'starting':
      if (type === 'run.interrupt.requested' || type === 'run.abort.requested') return { ...r, interrupted: true };
      // Stopped before anything was created: nothing to finalise.
      if (type === 'xstate.done.actor.startRun' && (event.output as { runId: number | null }).runId === null) return { ...r, at: 'interrupted', interrupted: true, outcome: 'interrupted' };
      if (type === 'xstate.done.actor.startRun') return r.interrupted ? toFinalise(r) : { ...r, at: 'enriching.running' };
      if (type === 'xstate.error.actor.startRun') return { ...r, at: 'failed', outcome: 'failed' };
      return r;
    case 'enriching.running':
    case 'exporting.running':
      if (type === 'run.interrupt.requested' || type === 'run.abort.requested') return { ...r, at: `${phase}.draining`, interrupted: true };
      break;
    case 'finalising':
      if (type === 'xstate.done.actor.finalise') return { ...r, at: r.outcome as string };
      if (type === 'xstate.error.actor.finalise') return { ...r, at: 'failed', outcome: 'failed' };
      return r;
    default:
      if (!r.at.includes('.')) return r; // final states
  }
  if (type === 'run.fatal') return toFinalise(r, 'failed');
  if (type === 'run.enrich.completed' && phase === 'enriching') return r.interrupted ? toFinalise(r) : { ...r, at: 'exporting.running' };
  if (type === 'run.export.completed' && phase === 'exporting') return toFinalise(r);
  return r;
}

/** The phase actor invoked by a state ('enriching.draining' → 'enrich'). */
const actorOf = (at: string): string => ({ enriching: 'enrich', exporting: 'export' })[at.split('.')[0] as string] ?? '';

function flat(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value)[0] as [string, StateValue];
  return `${k}.${flat(v)}`;
}

// ---- The harness: the real machine with stub actors the test drives. ----
function harness() {
  const log: string[] = [];
  const ctl: {
    startRun?: { resolve: (v: { runId: number | null; tenantId: number | null }) => void; reject: (e: unknown) => void };
    finalise?: { resolve: () => void; reject: (e: unknown) => void; input: FinaliseInput };
    phases: Record<string, { sendBack: (e: AnyEventObject) => void; commands: PhaseCommand['type'][]; stopped: boolean }>;
  } = { phases: {} };
  const phase = (name: string) =>
    fromCallback<PhaseCommand, PhaseInput>(({ sendBack, receive, input }) => {
      const entry = { sendBack, commands: [] as PhaseCommand['type'][], stopped: false };
      ctl.phases[name] = entry;
      log.push(`${name}(${input.runId})`);
      receive((cmd) => entry.commands.push(cmd.type));
      return () => {
        entry.stopped = true;
      };
    });
  const machine = runMachine.provide({
    actors: {
      startRun: fromPromise(() => new Promise<{ runId: number | null; tenantId: number | null }>((resolve, reject) => (ctl.startRun = { resolve, reject }))),
      enrich: phase('enrich'),
      export: phase('export'),
      finalise: fromPromise<void, FinaliseInput>(
        ({ input: fin }) => new Promise<void>((resolve, reject) => (ctl.finalise = { resolve, reject, input: fin })),
      ),
    },
  });
  const actor = createActor(machine, { input });
  return { actor, ctl, log };
}

async function drive(h: ReturnType<typeof harness>, event: AnyEventObject, at: string): Promise<void> {
  const { actor, ctl } = h;
  const current = ctl.phases[actorOf(at)];
  switch (event.type) {
    case 'xstate.done.actor.startRun':
      ctl.startRun?.resolve({ tenantId: 4, ...(event.output as { runId: number | null }) });
      break;
    case 'xstate.error.actor.startRun':
      ctl.startRun?.reject(event.error);
      break;
    case 'xstate.done.actor.finalise':
      ctl.finalise?.resolve();
      break;
    case 'xstate.error.actor.finalise':
      ctl.finalise?.reject(event.error);
      break;
    case 'run.enrich.completed':
    case 'run.export.completed':
    case 'run.fatal':
      current?.sendBack(event);
      break;
    default:
      if (event.type.startsWith('xstate.after.')) await vi.advanceTimersByTimeAsync(GRACE);
      else actor.send(event as never);
  }
  await vi.advanceTimersByTimeAsync(0);
}

type Path = { steps: { event: AnyEventObject; state: SnapshotFrom<typeof runMachine> }[] };

async function checkPath(path: Path): Promise<void> {
  const h = harness();
  h.actor.start();
  let ref: Ref = { at: 'starting', interrupted: false, outcome: null };
  for (const step of path.steps.slice(1)) {
    const before = ref;
    ref = reference(ref, step.event);
    await drive(h, step.event, before.at);
    const snap = h.actor.getSnapshot();
    expect(flat(snap.value), `${before.at} --${step.event.type}-->`).toBe(ref.at);
    expect(flat(snap.value)).toBe(flat(step.state.value));
    const sub = ref.at.split('.')[1];
    const phaseCtl = h.ctl.phases[actorOf(ref.at)];
    if (sub === 'draining') expect(phaseCtl?.commands[0]).toBe('run.drain');
    if (sub === 'draining' && (step.event.type.startsWith('xstate.after.') || step.event.type === 'run.abort.requested')) expect(phaseCtl?.commands).toContain('run.abort');
    if (before.at !== ref.at && before.at.includes('.') && !ref.at.startsWith(before.at.split('.')[0] as string)) {
      expect(h.ctl.phases[actorOf(before.at)]?.stopped, 'a phase left is stopped').toBe(true);
    }
    if (ref.at === 'finalising') expect(h.ctl.finalise?.input.status).toBe(ref.outcome);
    if (snap.status === 'done') expect(snap.output?.status).toBe(ref.at === 'failed' ? 'failed' : ref.outcome);
  }
  h.actor.stop();
}

describe('run machine (model-based)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const shortest = getShortestPaths(runMachine, { events: EVENTS, input });
  const simple = getSimplePaths(runMachine, { events: EVENTS, input });

  it('reaches every state and every final outcome', () => {
    const values = new Set(shortest.map((p) => flat(p.state.value)));
    for (const v of ['starting', 'enriching.running', 'enriching.draining', 'exporting.running', 'exporting.draining', 'finalising', 'completed', 'interrupted', 'failed']) {
      expect(values).toContain(v);
    }
    expect(simple.length).toBeGreaterThan(shortest.length);
  });

  it.each(shortest.map((p, i) => [i, p.steps.map((s) => s.event.type).join(' → '), p] as const))('shortest path %i: %s', async (_i, _name, path) => {
    await checkPath(path as Path);
  });

  it.each(simple.map((p, i) => [i, p.steps.map((s) => s.event.type).join(' → '), p] as const))('simple path %i: %s', async (_i, _name, path) => {
    await checkPath(path as Path);
  });
});

describe('run machine (property)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('any sequence of events: follows the reference, finalises at most once, stops every phase it leaves, never leaves a final state', async () => {
    const events = [...(EVENTS as AnyEventObject[]), { type: 'xstate.after.drainGrace' }];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...events), { maxLength: 14 }), async (sequence) => {
        const h = harness();
        h.actor.start();
        let ref: Ref = { at: 'starting', interrupted: false, outcome: null };
        const finalisations = new Set<unknown>();
        for (const event of sequence) {
          const before = ref;
          ref = reference(ref, event);
          await drive(h, event, before.at);
          const snap = h.actor.getSnapshot();
          expect(flat(snap.value), `${before.at} --${event.type}-->`).toBe(ref.at);
          if (h.ctl.finalise) finalisations.add(h.ctl.finalise);
          expect(finalisations.size).toBeLessThanOrEqual(1);
          const left = before.at.includes('.') && !ref.at.startsWith(before.at.split('.')[0] as string);
          if (left) expect(h.ctl.phases[actorOf(before.at)]?.stopped, 'a phase left is stopped').toBe(true);
          if (['completed', 'interrupted', 'failed'].includes(before.at)) expect(ref.at).toBe(before.at);
          if (snap.status === 'done') expect(snap.output?.status).toBe(ref.at === 'failed' ? 'failed' : ref.outcome);
        }
        h.actor.stop();
      }),
      { numRuns: 150 },
    );
  });
});

describe('run machine (examples)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the run id to the phases and ends completed with the run id', async () => {
    const h = harness();
    h.actor.start();
    await drive(h, { type: 'xstate.done.actor.startRun', output: { runId: 7 } }, 'starting');
    await drive(h, { type: 'run.enrich.completed', processed: 2 }, 'enriching.running');
    await drive(h, { type: 'run.export.completed' }, 'exporting.running');
    await drive(h, { type: 'xstate.done.actor.finalise' }, 'finalising');
    expect(h.log).toEqual(['enrich(7)', 'export(7)']);
    expect(h.actor.getSnapshot().output).toEqual({ runId: 7, status: 'completed', error: null });
    expect(h.actor.getSnapshot().context.enriched).toBe(2);
  });

  it('records the fatal error and finalises the run as failed', async () => {
    const h = harness();
    h.actor.start();
    await drive(h, { type: 'xstate.done.actor.startRun', output: { runId: 8 } }, 'starting');
    await drive(h, { type: 'run.fatal', error: 'sink: connection refused' }, 'enriching.running');
    expect(h.ctl.finalise?.input).toEqual({ runId: 8, status: 'failed', error: 'sink: connection refused' });
    await drive(h, { type: 'xstate.done.actor.finalise' }, 'finalising');
    expect(h.actor.getSnapshot().output).toEqual({ runId: 8, status: 'failed', error: 'sink: connection refused' });
  });

  it('a start that fails after creating the row names the run in its output; one that fails before, none', async () => {
    const created = harness();
    created.actor.start();
    await drive(created, { type: 'xstate.error.actor.startRun', error: Object.assign(new Error('CSV input is empty'), { runId: 12 }) }, 'starting');
    expect(created.actor.getSnapshot().output).toEqual({ runId: 12, status: 'failed', error: 'CSV input is empty' });
    const early = harness();
    early.actor.start();
    await drive(early, { type: 'xstate.error.actor.startRun', error: new Error('database gone') }, 'starting');
    expect(early.actor.getSnapshot().output).toEqual({ runId: null, status: 'failed', error: 'database gone' });
  });

  it('does not abort a draining phase before the grace has elapsed', async () => {
    const h = harness();
    h.actor.start();
    await drive(h, { type: 'xstate.done.actor.startRun', output: { runId: 9 } }, 'starting');
    h.actor.send({ type: 'run.interrupt.requested' });
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect(h.ctl.phases.enrich?.commands).toEqual(['run.drain']);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.ctl.phases.enrich?.commands).toEqual(['run.drain', 'run.abort']);
  });
});
