import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveCompanyId } from '../../../src/adapters/input.js';
import { companyKey } from '../../../src/adapters/input/companyIds.js';
import type { InputCompany } from '../../../src/domain/index.js';
import { recordInput } from '../../support/recordInput.js';
import { sinkOnTestDatabase } from '../../support/sinkFixture.js';

const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-run-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function file(content: string): string {
  const path = join(dir, `input-${fileNo++}.csv`);
  writeFileSync(path, content);
  return path;
}

/** Two names whose derived ids collide for `tenantId`. */
function collidingNames(tenantId: number): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const name = `n${i}`;
    const { id } = deriveCompanyId(tenantId, companyKey(null, name, 0));
    const other = seen.get(id);
    if (other) return [other, name];
    seen.set(id, name);
  }
}

/** The rows of `rows` up to the `count`-th; asking for the next one aborts `stop` (an interrupt while recording). */
function stopAfter(count: number, stop: AbortController): (rows: AsyncIterable<InputCompany>) => AsyncIterable<InputCompany> {
  return async function* (rows) {
    let n = 0;
    for await (const row of rows) {
      if (n++ === count) stop.abort();
      yield row;
    }
  };
}

describe('recording an input settles duplicates and collisions in the database (real PostgreSQL)', () => {
  const { pool } = sinkOnTestDatabase();
  const rowsOf = async (runId: number): Promise<[number, number | null][]> =>
    (await pool.query('SELECT company_id, input_line FROM run_companies WHERE run_id = $1 ORDER BY position', [runId])).rows.map((r) => [Number(r.company_id), r.input_line]);

  it('a resume recording the same file again reports no duplicates and changes no ids', async () => {
    const tenantId = 6101;
    const [a, b] = collidingNames(tenantId);
    const lines = ['name,domain,company_id'];
    for (let i = 0; i < 30; i++) {
      if (i === 3) lines.push(`${a},,`); // line 5: keeps the plain hash
      else if (i === 20) lines.push(`${b},,`); // line 22: its collision, probed past in the second session
      else if (i % 7 === 0) lines.push(`,,`); // neither name nor domain: a distinct company per line
      else if (i % 5 === 0) lines.push(`Given ${i},given-${i}.example,${900_000 + i}`);
      else lines.push(`Derived ${i},derived-${i}.example,`);
    }
    const path = file(`${lines.join('\n')}\n`);
    const whole = await recordInput(pool, path, tenantId, { batchSize: 4 });
    expect(whole.refused).toEqual([]);
    const expected = await rowsOf(whole.runId);
    expect(expected).toHaveLength(30);
    expect(expected[3]).toEqual([deriveCompanyId(tenantId, `n:${a}`).id, 5]);
    expect(expected[20]).toEqual([deriveCompanyId(tenantId, `n:${b}`, 1).id, 22]);

    // Interrupted after 13 rows (12 written, in batches of 4), then resumed: the file is read and recorded again whole.
    const stop = new AbortController();
    const first = await recordInput(pool, path, tenantId, { batchSize: 4, signal: stop.signal, rows: stopAfter(13, stop) });
    const recordedFirst = await rowsOf(first.runId);
    expect(recordedFirst).toEqual(expected.slice(0, 12));
    const resumed = await recordInput(pool, path, tenantId, { runId: first.runId, batchSize: 4 });
    expect(resumed.refused).toEqual([]);
    expect(await rowsOf(first.runId)).toEqual(expected);
    // Once more, with another batch size: nothing recorded, nothing refused, the same ids.
    const again = await recordInput(pool, path, tenantId, { runId: first.runId, batchSize: 7 });
    expect(again.refused).toEqual([]);
    expect(await rowsOf(first.runId)).toEqual(expected);
  });

  it('a resume reports the file’s real duplicates as the first reading did, with the same lines and texts', async () => {
    const tenantId = 6102;
    const path = file('name,domain,company_id\nA,a.example,1\nB,b.example,\nA again,a.example,1\nB again,B.example,\nC,c.example,\n');
    const whole = await recordInput(pool, path, tenantId, { batchSize: 2 });
    const expected = [
      { line: 4, reason: 'duplicate company_id 1 (first seen at line 2)', raw: 'A again,a.example,1' },
      { line: 5, reason: 'duplicate company: same domain b.example as line 3', raw: 'B again,B.example,' },
    ];
    expect(whole.refused).toEqual(expected);
    const ids = await rowsOf(whole.runId);
    const stop = new AbortController();
    const first = await recordInput(pool, path, tenantId, { batchSize: 2, signal: stop.signal, rows: stopAfter(3, stop) });
    expect(first.refused).toEqual([]); // its batch of two (lines 2 and 3) was written; line 4 was dropped by the interrupt
    const resumed = await recordInput(pool, path, tenantId, { runId: first.runId, batchSize: 2 });
    expect(resumed.refused).toEqual(expected);
    expect(await rowsOf(first.runId)).toEqual(ids);
  });

  it('a duplicate never touches the companies row; only recorded rows reach it', async () => {
    const tenantId = 6103;
    // Duplicates in the same batch as their first row (lines 3, 5) and in a later one (lines 7, 8).
    const path = file('name,domain,company_id\nFirst,first.example,7\nSecond,second.example,7\nG,g.example,\nG2,G.example,\nH,h.example,\nThird,,7\nG3,www.g.example,\n');
    const { records, refused } = await recordInput(pool, path, tenantId, { batchSize: 5 });
    expect(refused.map((r) => r.line)).toEqual([3, 5, 7, 8]);
    expect(records.filter((r) => 'company' in r)).toHaveLength(3);
    const { rows } = await pool.query('SELECT company_id, name, domain FROM companies WHERE tenant_id = $1 ORDER BY name', [tenantId]);
    expect(rows.map((r) => [Number(r.company_id), r.name, r.domain])).toEqual([
      [7, 'First', 'first.example'],
      [deriveCompanyId(tenantId, 'd:g.example').id, 'G', 'g.example'],
      [deriveCompanyId(tenantId, 'd:h.example').id, 'H', 'h.example'],
    ]);
  });
});
