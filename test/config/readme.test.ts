import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../../src/config/variables.js';

describe('README configuration table', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('<!-- config-table:start'), readme.indexOf('<!-- config-table:end'));

  it.each(VARIABLES.map((v) => [v.name, v] as const))('documents %s with its default', (name, spec) => {
    const row = table.split('\n').find((line) => line.startsWith(`| ${name} |`));
    expect(row, `README has no row for ${name}`).toBeDefined();
    const shown = spec.default === '' || spec.default === undefined ? '(empty)' : `\`${spec.default}\``;
    expect(row).toContain(`| ${shown} |`);
  });

  it('lists no variable the loader does not know', () => {
    const names = [...table.matchAll(/^\| ([A-Z_]+) \|/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual(VARIABLES.map((v) => v.name).sort());
  });
});
