/** docs/machines.md against the machines, and `lead-enrich machines` through the CLI's main(). */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { and, not, or, setup, type AnyStateNode } from 'xstate';
import { main } from '../../src/cli/main.js';
import { MACHINES } from '../../src/cli/commands/machines.js';
import { machineToMermaid, machinesMarkdown } from '../../src/cli/machinesExport.js';

/** Runs the CLI with stdout and stderr captured. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => (into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true);
  vi.spyOn(process.stdout, 'write').mockImplementation(capture(out) as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture(err) as typeof process.stderr.write);
  try {
    const code = await main(['node', 'lead-enrich', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

interface JsonNode {
  id: string;
  description?: string;
  states?: Record<string, JsonNode>;
}

/** Every state id below a state node, depth first. */
const stateIds = (node: AnyStateNode): string[] => Object.values(node.states).flatMap((c) => [c.id, ...stateIds(c)]);
const jsonIds = (node: JsonNode): string[] => Object.values(node.states ?? {}).flatMap((c) => [c.id, ...jsonIds(c)]);

describe('docs/machines.md', () => {
  it('is what the machines generate (regenerate: lead-enrich machines --format mermaid > docs/machines.md)', () => {
    const committed = readFileSync(new URL('../../docs/machines.md', import.meta.url), 'utf8');
    expect(committed).toBe(machinesMarkdown(MACHINES));
  });

  it('holds the breaker, enrichment and run machines, each state drawn', () => {
    const committed = readFileSync(new URL('../../docs/machines.md', import.meta.url), 'utf8');
    expect([...committed.matchAll(/^## (\w+)$/gm)].map((m) => m[1])).toEqual(['breaker', 'enrichment', 'run']);
    for (const machine of Object.values(MACHINES)) {
      for (const id of stateIds(machine.root)) expect(committed).toContain(`as ${id.replace(/[^A-Za-z0-9_]/g, '_')}\n`);
    }
  });
});

describe('lead-enrich machines', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--format json prints valid JSON with one entry per machine and every state, described', async () => {
    const { code, stdout } = await cli('machines', '--format', 'json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as Record<string, JsonNode>;
    expect(Object.keys(json)).toEqual(Object.keys(MACHINES));
    for (const [name, machine] of Object.entries(MACHINES)) {
      const entry = json[name] as JsonNode;
      expect(entry.id).toBe(machine.id);
      expect(jsonIds(entry).sort()).toEqual(stateIds(machine.root).sort());
      const described = (n: JsonNode): boolean => Object.values(n.states ?? {}).every((c) => (c.description ?? '').length > 0 && described(c));
      expect(described(entry), `${name}: every state has a description`).toBe(true);
    }
  });

  it('prints docs/machines.md by default (mermaid)', async () => {
    const { code, stdout } = await cli('machines');
    expect(code).toBe(0);
    expect(stdout).toBe(readFileSync(new URL('../../docs/machines.md', import.meta.url), 'utf8'));
  });

  it('refuses another format with exit code 2', async () => {
    const { code, stdout, stderr } = await cli('machines', '--format', 'svg');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--format expects mermaid or json');
  });
});

describe('guard labels of higher-order guards', () => {
  it('names the operands of and, or and not, nested in brackets', () => {
    const m = setup({ guards: { a: () => true, b: () => true, c: () => false } }).createMachine({
      id: 'g',
      initial: 'x',
      states: {
        x: { description: 'x', on: { 'g.go': [{ guard: and(['a', or(['b', not('c')])]), target: 'y' }, { guard: not('a'), target: 'y' }] } },
        y: { description: 'y' },
      },
    });
    const text = machineToMermaid(m);
    expect(text).toContain('g_x --> g_y : g.go [a and (b or (not c))]');
    expect(text).toContain('g_x --> g_y : g.go [not a]');
  });
});
