import { describe, expect, it } from 'vitest';
import { createMachine, fromPromise, setup, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { machinesMarkdown, machineToJson, machineToMermaid, mermaidId } from '../../src/cli/machinesExport.js';
import { runMachine } from '../../src/machines/run.machine.js';

/** A small machine with what the run machine lacks: parallel regions, always, numeric after, onDone of a compound, inline guard. */
const adHoc = setup({ actors: { load: fromPromise(async () => 1) }, guards: { ready: () => true } }).createMachine({
  id: 'door',
  initial: 'closed',
  states: {
    closed: {
      initial: 'locked',
      states: {
        locked: { on: { 'door.unlock': { target: 'unlocked', guard: 'ready' } } },
        unlocked: { after: { 1500: 'done' }, on: { 'door.lock': 'locked' } },
        done: { type: 'final' },
      },
      onDone: 'checking',
    },
    checking: { always: [{ target: 'open', guard: ({ context }) => context === undefined }, { target: 'broken' }] },
    open: {
      type: 'parallel',
      states: {
        light: { initial: 'on', states: { on: { on: { 'light.toggle': 'off' } }, off: {} } },
        fan: { initial: 'idle', invoke: { id: 'load', src: 'load', onDone: '.spinning', onError: '#door.broken' }, states: { idle: {}, spinning: {} } },
      },
    },
    broken: { type: 'final' },
  },
});

/** Arrows expected from the StateNode API (not the definition the exporter reads). */
function expectedArrows(node: AnyStateNode): string[] {
  const out: string[] = [];
  for (const child of Object.values(node.states)) {
    const all = [...child.transitions.values()].flat().concat(child.always ?? []);
    for (const t of all) for (const target of t.target ?? [child]) out.push(`${mermaidId(child.id)} --> ${mermaidId(target.id)}`);
    out.push(...expectedArrows(child));
  }
  return out;
}

const arrows = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => / --> /.test(l) && !l.includes('[*]'))
    .map((l) => l.split(' : ')[0] as string);

describe.each([
  ['run', runMachine as AnyStateMachine],
  ['ad hoc', adHoc as AnyStateMachine],
])('mermaid export of the %s machine', (_name, machine) => {
  const text = machineToMermaid(machine);

  it('declares every state once and draws one arrow per transition target', () => {
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    const ids = (n: AnyStateNode): string[] => Object.values(n.states).flatMap((c) => [c.id, ...ids(c)]);
    for (const id of ids(machine.root)) {
      expect(text.match(new RegExp(`state "[^"]+" as ${mermaidId(id)}$`, 'gm'))).toHaveLength(1);
    }
    expect(arrows(text).sort()).toEqual(expectedArrows(machine.root).sort());
  });

  it('opens every composite block it closes', () => {
    expect(text.match(/\{$/gm)?.length ?? 0).toBe(text.match(/^\s*\}$/gm)?.length ?? 0);
  });
});

describe('mermaid labels', () => {
  const run = machineToMermaid(runMachine);
  const door = machineToMermaid(adHoc);

  it('labels events, guards, invoke done/error and after', () => {
    expect(run).toContain('run_starting --> run_finalising : done startRun [interrupted]');
    expect(run).toContain('run_starting --> run_failed : error startRun');
    expect(run).toContain('run_enriching_draining --> run_enriching_draining : after drainGrace');
    expect(run).toContain('run_finalising --> run_completed : done finalise [outcomeIs(completed)]');
    expect(run).toContain('run_enriching --> run_exporting : run.enrich.completed');
  });

  it('draws initial and final states, nesting, parallel regions, always and numeric delays', () => {
    expect(run).toMatch(/^ {2}\[\*\] --> run_starting$/m);
    expect(run).toMatch(/^ {4}\[\*\] --> run_enriching_running$/m);
    for (const s of ['completed', 'interrupted', 'failed']) expect(run).toContain(`run_${s} --> [*]`);
    expect(door).toContain('door_closed_locked --> door_closed_unlocked : door.unlock [ready]');
    expect(door).toContain('door_closed_unlocked --> door_closed_done : after 1500ms');
    expect(door).toMatch(/^ {4}door_closed_done --> \[\*\]$/m);
    expect(door).toContain('door_closed --> door_checking : done');
    expect(door).toMatch(/door_checking --> door_open : always \[[^\]]+\]/);
    expect(door).toContain('door_checking --> door_broken : always');
    expect(door).toContain('door_open_fan --> door_open_fan_spinning : done load');
    expect(door).toContain('door_open_fan --> door_broken : error load');
    expect(door).toMatch(/state door_open \{\n(.*\n)*? {4}--\n/);
  });
});

describe('JSON export', () => {
  it('is plain JSON with ids, initial states, transitions and descriptions', () => {
    const json = machineToJson(runMachine) as { id: string; initial: { target: string[] }; states: Record<string, { description: string; states: Record<string, unknown> }> };
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.id).toBe('run');
    expect(json.initial.target).toEqual(['#run.starting']);
    expect(Object.keys(json.states)).toEqual(['starting', 'enriching', 'exporting', 'finalising', 'completed', 'interrupted', 'failed']);
    for (const state of Object.values(json.states)) expect(state.description.length).toBeGreaterThan(10);
    expect(Object.keys(json.states.enriching?.states ?? {})).toEqual(['running', 'draining']);
  });

  it('keeps eventless transitions, which the xstate definition leaves out', () => {
    const json = machineToJson(adHoc) as { states: Record<string, { always?: { target: string[] }[] }> };
    expect(json.states.checking?.always?.map((t) => t.target)).toEqual([['#door.open'], ['#door.broken']]);
  });

  it('builds a Markdown page with one mermaid block per machine', () => {
    const md = machinesMarkdown({ run: runMachine, door: adHoc as AnyStateMachine, plain: createMachine({ id: 'plain', initial: 'a', states: { a: {} } }) });
    expect(md.match(/```mermaid\n/g)).toHaveLength(3);
    expect(md).toContain('## run\n\nOne run of a tenant');
    expect(md).toContain(machineToMermaid(adHoc));
  });
});
