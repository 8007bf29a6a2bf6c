import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * Exporters of XState v5 machines for `lead-enrich machines`: JSON for the Stately editor and
 * Mermaid `stateDiagram-v2` text for docs/machines.md. Both walk the machine's state nodes
 * (`machine.root`), so they work for any machine.
 */

/** The parts of a transition the exporters read (xstate's TransitionDefinition, loosely). */
interface TransitionDef {
  eventType: string;
  target?: readonly { id: string }[] | undefined;
  guard?: unknown;
}

/** Adds each state's eventless (`always`) transitions, which xstate's definition leaves out. */
function withAlways(node: AnyStateNode, json: Record<string, unknown>): Record<string, unknown> {
  const states = json.states as Record<string, Record<string, unknown>> | undefined;
  for (const [key, child] of Object.entries(node.states)) {
    if (states?.[key]) states[key] = withAlways(child, states[key]);
  }
  if (!node.always?.length) return json;
  const always = node.always.map((t) => ({ target: t.target?.map((n) => `#${n.id}`), guard: guardLabel(t.guard) ?? undefined }));
  return { ...json, always };
}

/**
 * The machine's definition as plain JSON (what `machine.toJSON()` gives, functions dropped, plus
 * `always` transitions): state ids, types, initial states, transitions with event types, guards
 * and targets, invokes, delays and descriptions. For the Stately editor's import, or for review.
 */
export function machineToJson(machine: AnyStateMachine): unknown {
  return withAlways(machine.root, JSON.parse(JSON.stringify(machine.root.definition)) as Record<string, unknown>);
}

/** A Mermaid-safe identifier for a state id (`run.enriching.draining` → `run_enriching_draining`). */
export function mermaidId(stateId: string): string {
  return stateId.replace(/[^A-Za-z0-9_]/g, '_');
}

function guardLabel(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    // xstate's higher-order guards (`and`, `or`, `not`) are functions carrying their operands.
    const operands = (guard as { guards?: unknown[] }).guards;
    if (Array.isArray(operands) && ['and', 'or', 'not'].includes(guard.name)) {
      const parts = operands.map((g) => {
        const label = guardLabel(g) ?? 'guard';
        return / /.test(label) ? `(${label})` : label;
      });
      return guard.name === 'not' ? `not ${parts[0] ?? 'guard'}` : parts.join(` ${guard.name} `);
    }
    return guard.name || 'guard';
  }
  if (typeof guard === 'object' && 'type' in guard) {
    const { type, params } = guard as { type: string; params?: unknown };
    if (params && typeof params === 'object') return `${type}(${Object.values(params as Record<string, unknown>).map(String).join(', ')})`;
    return type;
  }
  return 'guard';
}

/**
 * A transition's label: the event type, or `always`, `after <delay>` (`ms` appended to numbers),
 * `done <invoke id>` / `error <invoke id>` for invoked actors, `done` for a compound state's onDone;
 * then the guard in brackets.
 */
export function transitionLabel(t: TransitionDef): string {
  const e = t.eventType;
  let label: string;
  if (e === '' || e === undefined) label = 'always';
  else if (e.startsWith('xstate.after.')) {
    const delay = e.slice('xstate.after.'.length).split('.')[0] ?? '';
    label = `after ${/^\d+$/.test(delay) ? `${delay}ms` : delay}`;
  } else if (e.startsWith('xstate.done.actor.')) label = `done ${e.slice('xstate.done.actor.'.length)}`;
  else if (e.startsWith('xstate.error.actor.')) label = `error ${e.slice('xstate.error.actor.'.length)}`;
  else if (e.startsWith('xstate.done.state.')) label = 'done';
  else label = e;
  const guard = guardLabel(t.guard);
  return guard ? `${label} [${guard}]` : label;
}

function renderNode(node: AnyStateNode, indent: string, out: string[]): void {
  const children = Object.values(node.states).filter((c) => c.type !== 'history');
  const initial = node.initial?.target[0];
  if (initial !== undefined && node.type === 'compound') out.push(`${indent}[*] --> ${mermaidId(initial.id)}`);
  children.forEach((child, i) => {
    const id = mermaidId(child.id);
    if (node.type === 'parallel' && i > 0) out.push(`${indent}--`);
    out.push(`${indent}state "${child.key}" as ${id}`);
    if (Object.keys(child.states).length > 0) {
      out.push(`${indent}state ${id} {`);
      renderNode(child, `${indent}  `, out);
      out.push(`${indent}}`);
    }
    if (child.type === 'final') out.push(`${indent}${id} --> [*]`);
  });
  for (const child of children) {
    const transitions: TransitionDef[] = [...child.transitions.values()].flat().concat(child.always ?? []);
    for (const t of transitions) {
      const targets = t.target && t.target.length > 0 ? t.target.map((n) => n.id) : [child.id];
      for (const target of targets) out.push(`${indent}${mermaidId(child.id)} --> ${mermaidId(target)} : ${transitionLabel(t)}`);
    }
  }
}

/**
 * The machine as a Mermaid `stateDiagram-v2`: nested states as composite states, `[*] -->` the
 * initial state of every compound state, `--> [*]` from final states, one arrow per transition
 * target (a targetless transition is drawn as a self-loop) labelled by {@link transitionLabel}.
 * Transitions are drawn inside the block of the state that declares them.
 */
export function machineToMermaid(machine: AnyStateMachine): string {
  const out = ['stateDiagram-v2'];
  renderNode(machine.root, '  ', out);
  return `${out.join('\n')}\n`;
}

/**
 * A Markdown page with one section per machine: its description and its Mermaid diagram (for
 * docs/machines.md; a test compares the committed file with this output).
 */
export function machinesMarkdown(machines: Record<string, AnyStateMachine>): string {
  const sections = Object.entries(machines).map(([name, machine]) => {
    const description = machine.root.description ? `${machine.root.description}\n\n` : '';
    return `## ${name}\n\n${description}\`\`\`mermaid\n${machineToMermaid(machine)}\`\`\`\n`;
  });
  return `# Machines\n\nGenerated by \`lead-enrich machines --format mermaid\`; do not edit by hand.\n\n${sections.join('\n')}`;
}
