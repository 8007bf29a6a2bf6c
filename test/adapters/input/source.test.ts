/**
 * Opening run input once (issue 11, item 3): a FIFO opens without waiting for a writer and an abort
 * ends a read that waits; a path without a known extension gets its format from its first character.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inputFormatOf, isInputError, openInput, type InputRecord } from '../../../src/adapters/input.js';

const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-input-src-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(records: AsyncIterable<InputRecord>): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}
const names = (rs: InputRecord[]) => rs.flatMap((r) => ('company' in r ? [r.company.name] : []));

describe('the format of an input', () => {
  it('without an extension: [ is a JSON array, { JSON Lines, anything else CSV (after blanks and a BOM)', async () => {
    const cases: [string, string, string][] = [
      ['array', '\ufeff\n  [{"name": "A"}, {"name": "B"}]\n', 'json'],
      ['lines', '\n{"name": "A"}\n{"name": "B"}\n', 'jsonl'],
      ['table', 'name,domain\nA,a.example\nB,b.example\n', 'csv'],
    ];
    for (const [name, text, format] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const input = await openInput(path, { tenantId: 1 });
      expect([input.kind, input.path, input.format]).toEqual(['file', path, format]);
      expect(names(await all(input.records))).toEqual(['A', 'B']);
    }
  });

  it('an explicit format wins over the first character; an unknown extension is refused', async () => {
    const path = join(dir, 'odd.txt');
    writeFileSync(path, '{"name": "A"}\n');
    expect(() => inputFormatOf(path)).toThrow(/unknown input format/);
    await expect(openInput(path, { tenantId: 1 })).rejects.toSatisfy(isInputError);
    const input = await openInput(path, { tenantId: 1, format: 'jsonl' });
    expect(names(await all(input.records))).toEqual(['A']);
    expect(inputFormatOf(join(dir, 'no-extension'))).toBeNull();
  });

  it('a directory is refused with a clear error', async () => {
    await expect(openInput(dir, { tenantId: 1, format: 'csv' })).rejects.toThrow(/not a regular file or a named pipe/);
  });
});

describe('a named pipe', () => {
  it('opens at once without a writer, and an abort ends the wait for one', async () => {
    const fifo = join(dir, 'waiting.csv');
    execFileSync('mkfifo', [fifo]);
    const stop = new AbortController();
    const input = await openInput(fifo, { tenantId: 1, signal: stop.signal });
    expect([input.kind, input.format]).toEqual(['fifo', 'csv']);
    const pending = all(input.records);
    setImmediate(() => stop.abort());
    // The CSV never got its header: an aborted read ends the input, which is then empty.
    await expect(pending).rejects.toThrow(/CSV input is empty/);
  });

  it('is read once, as a stream, from a writer that comes later', async () => {
    const fifo = join(dir, 'written');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'exec cat > "$1"', 'sh', fifo], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      writer.stdin.end('name,domain\nA,a.example\nB,b.example\n');
      const input = await openInput(fifo, { tenantId: 1 });
      expect([input.kind, input.format]).toEqual(['fifo', 'csv']);
      expect(names(await all(input.records))).toEqual(['A', 'B']);
    } finally {
      writer.kill();
    }
  });
});
