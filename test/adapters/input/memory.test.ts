import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { readCompanies } from '../../../src/adapters/input.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 200_000;
const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-input-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function generate(path: string, row: (i: number) => string, head = '', tail = ''): Promise<void> {
  const out = createWriteStream(path);
  out.write(head);
  for (let i = 0; i < ROWS; i++) {
    if (!out.write(row(i))) await once(out, 'drain');
  }
  out.end(tail);
  await once(out, 'finish');
}

const filler = 'x'.repeat(90);

/** Heap plus ArrayBuffer memory (typed arrays live outside the JS heap). */
function retained(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function peakRetained(path: string): Promise<{ count: number; peak: number; bytes: number }> {
  gc();
  const base = retained();
  let peak = 0;
  let count = 0;
  for await (const record of readCompanies(path, { tenantId: 1 })) {
    if ('company' in record) count++;
    if (count % 25_000 === 0) {
      gc();
      peak = Math.max(peak, retained() - base);
    }
  }
  return { count, peak, bytes: statSync(path).size };
}

describe('input streaming', () => {
  it('reads 200k CSV rows with retained memory far below the file size', async () => {
    const path = join(dir, 'big.csv');
    await generate(path, (i) => `"Company ${i}, ${filler}",c${i}.example.com,${i + 1}\n`, 'name,domain,company_id\n');
    const { count, peak, bytes } = await peakRetained(path);
    expect(count).toBe(ROWS);
    // Holding the file (or the rows) would retain at least its size; the reader keeps no ids (they are settled when recorded).
    expect(peak).toBeLessThan(bytes / 2);
    expect(peak).toBeLessThan(20 * 1024 * 1024);
  });

  it('reads a 200k-element JSON array the same way', async () => {
    const path = join(dir, 'big.json');
    await generate(path, (i) => `${i === 0 ? '' : ','}\n{"name":"Company ${i} ${filler}","domain":"c${i}.example.com"}`, '[', '\n]\n');
    const { count, peak, bytes } = await peakRetained(path);
    expect(count).toBe(ROWS);
    expect(peak).toBeLessThan(bytes / 2);
  });
});
