import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deriveCompanyId, inputFormatOf, isInputError, normaliseHost, readCompanies, type InputRecord } from '../../../src/adapters/input.js';
import { companyKey } from '../../../src/adapters/input/companyIds.js';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import type { InputCompany, MalformedRow } from '../../../src/domain/index.js';
import { recordInput, type RecordedRecord } from '../../support/recordInput.js';

const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function file(ext: string, content: string): string {
  const path = join(dir, `input-${fileNo++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string, tenantId = 7, highWaterMark?: number): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const r of readCompanies(path, { tenantId, ...(highWaterMark ? { highWaterMark } : {}) })) out.push(r);
  return out;
}
const companies = (rs: (InputRecord | RecordedRecord)[]) => rs.flatMap((r) => ('company' in r ? [r.company] : []));
const malformed = (rs: (InputRecord | RecordedRecord)[]) => rs.flatMap((r) => ('malformed' in r ? [r.malformed] : []));

// Duplicates and collisions are settled when the input is recorded (in PostgreSQL): these read and record.
const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
afterAll(() => pool.end());
const recordAll = async (path: string, tenantId = 7): Promise<RecordedRecord[]> => (await recordInput(pool, path, tenantId)).records;

describe('CSV input', () => {
  it('reads a header with BOM, quoted commas and newlines, CRLF, and normalises websites', async () => {
    const csv = '\ufeffName,Website,company_id\r\nAcme,https://WWW.Acme.com:8443/about?x=1,10\r\n"Beta, Inc","http://beta.io",11\r\n"Gamma\nGroup",gamma.de/,12\r\nDelta,,13\r\n';
    for (const hwm of [undefined, 3]) {
      const rs = await readAll(file('csv', csv), 7, hwm);
      expect(malformed(rs)).toEqual([]);
      expect(companies(rs)).toEqual([
        { companyId: 10, tenantId: 7, name: 'Acme', domain: 'acme.com' },
        { companyId: 11, tenantId: 7, name: 'Beta, Inc', domain: 'beta.io' },
        { companyId: 12, tenantId: 7, name: 'Gamma\nGroup', domain: 'gamma.de' },
        { companyId: 13, tenantId: 7, name: 'Delta', domain: null },
      ]);
    }
  });

  it('reports malformed rows with the line they start on and goes on with the rest', async () => {
    const csv = [
      'name,domain,company_id', // 1
      'A,a.com,1', // 2
      '"multi', // 3
      'line",b.com,x2', // 4  company_id not an integer (record starts at 3)
      'C,c.com', // 5  wrong number of fields
      'D,"d"x.com,4', // 6  does not parse
      'E,e.com,1', // 7  duplicate id
      ',,', // 8  neither name nor domain: still a company
      '', // 9  blank: ignored
      ',,', // 10 another empty company, distinct id
      'F,f.com,2.5', // 11 not an integer
      'G,g.com,', // 12 derived id
      'G2,G.com,', // 13 same domain, no id: duplicate company
      'H,h.com,6',
    ].join('\n');
    const rs = await recordAll(file('csv', csv));
    expect(malformed(rs).map((m) => [m.line, m.reason.split(' ')[0]])).toEqual([
      [3, 'company_id'],
      [5, 'expected'],
      [6, 'unparseable'],
      [7, 'duplicate'],
      [11, 'company_id'],
      [13, 'duplicate'],
    ]);
    expect(malformed(rs)[3]?.reason).toContain('line 2');
    expect(malformed(rs)[2]?.raw).toBe('D,"d"x.com,4');
    const cs = companies(rs);
    expect(cs.map((c) => c.name)).toEqual(['A', null, null, 'G', 'H']);
    expect(cs[1]?.companyId).not.toBe(cs[2]?.companyId);
    expect(cs[3]?.companyId).toBe(deriveCompanyId(7, 'd:g.com').id);
  });

  it('an unclosed quote at the end is reported at the line it opens; the lines after it are still read', async () => {
    const rs = await readAll(file('csv', 'name,domain\nA,a.com\n"B,b.com\nC,c.com\n'));
    expect(companies(rs).map((c) => c.name)).toEqual(['A', 'C']);
    expect(malformed(rs)).toMatchObject([{ line: 3, reason: expect.stringContaining('quote not closed'), raw: '"B,b.com' }]);
  });

  it('a stray quote does not swallow the rows after it: only its own line is refused', async () => {
    const csv = ['company_id,name,domain', '1,"One",one.com', '2,"Two,two.com', '3,"Three",three.com', '4,Fo"ur,four.com', '5,"Five",five.com', '6,"Six",six.com'].join('\n');
    for (const hwm of [undefined, 5]) {
      const rs = await readAll(file('csv', `${csv}\n`), 7, hwm);
      expect(malformed(rs).map((m) => m.line)).toEqual([3, 5]);
      expect(companies(rs).map((c) => c.companyId)).toEqual([1, 3, 5, 6]);
    }
  });

  it('refuses a CSV without header, an empty CSV, a missing file and an unknown extension', async () => {
    await expect(readAll(file('csv', 'Acme,acme.com,1\n'))).rejects.toSatisfy(isInputError);
    await expect(readAll(file('csv', '\n\n'))).rejects.toSatisfy(isInputError);
    await expect(readAll(join(dir, 'missing.csv'))).rejects.toSatisfy(isInputError);
    expect(() => inputFormatOf('companies.xlsx')).toThrow(/unknown input format/);
    expect(inputFormatOf('a.NDJSON')).toBe('jsonl');
  });
});

describe('JSON input', () => {
  it('streams a JSON array, with line numbers per element and bad elements skipped', async () => {
    const json = `[
  {"name": "A, [x]", "domain": "A.com", "company_id": 1},
  {"name": "B \\"quoted\\" }", "website": "https://www.b.org/", "company_id": "2"},
  42,
  {"name": "C", "company_id": 3.5},
  {"name": "D",
   "domain": "d.net"},
  {"name": 5}
]
`;
    for (const hwm of [undefined, 5]) {
      const rs = await readAll(file('json', json), 3, hwm);
      expect(companies(rs).map((c) => [c.name, c.domain])).toEqual([
        ['A, [x]', 'a.com'],
        ['B "quoted" }', 'b.org'],
        ['D', 'd.net'],
      ]);
      expect(malformed(rs).map((m) => m.line)).toEqual([4, 5, 8]);
    }
  });

  it('refuses a document that is not an array and reports an unclosed array', async () => {
    await expect(readAll(file('json', '{"name": "A"}'))).rejects.toSatisfy(isInputError);
    const rs = await readAll(file('json', '[{"name": "A"},\n{"name": "B"'));
    expect(companies(rs).map((c) => c.name)).toEqual(['A']);
    expect(malformed(rs)).toMatchObject([{ line: 2 }]);
  });

  it('reads JSON Lines with line numbers', async () => {
    const rs = await readAll(file('jsonl', '{"name":"A","domain":"a.com"}\n\n{oops\n{"domain":"https://b.com"}\n'));
    expect(companies(rs).map((c) => c.domain)).toEqual(['a.com', 'b.com']);
    expect(malformed(rs)).toMatchObject([{ line: 3, reason: 'unparseable JSON' }]);
  });
});

describe('stable ids', () => {
  it('derives the same ids for the same tenant and input, different ones for another tenant', async () => {
    const path = file('csv', 'name,domain\nA,a.com\nB,\n,\n');
    const first = companies(await readAll(path, 1)).map((c) => c.companyId);
    expect(companies(await readAll(path, 1)).map((c) => c.companyId)).toEqual(first);
    expect(companies(await readAll(path, 2)).map((c) => c.companyId)).not.toEqual(first);
  });

  it('keeps derived ids in 1..2^31-1 and normaliseHost idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.string(), (tenant, key) => {
        const { id } = deriveCompanyId(tenant, key);
        return Number.isInteger(id) && id >= 1 && id <= 0x7fffffff;
      }),
    );
    fc.assert(
      fc.property(fc.webUrl(), (url) => {
        const host = normaliseHost(url);
        return host === null || (normaliseHost(host) === host && !host.includes('/') && !host.startsWith('www.'));
      }),
    );
  });

  it('resolves a real collision of derived ids between different companies by probing', async () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const name = `n${i}`;
      const { id } = deriveCompanyId(9, companyKey(null, name, 0));
      const other = seen.get(id);
      if (other) pair = [other, name];
      else seen.set(id, name);
    }
    const rs = await recordAll(file('csv', `name\n${pair[0]}\n${pair[1]}\n${pair[1].toUpperCase()}\n`), 9);
    const [a, b] = companies(rs);
    expect([a?.name, b?.name]).toEqual(pair);
    expect(a?.companyId).toBe(deriveCompanyId(9, `n:${pair[0]}`).id);
    expect(b?.companyId).toBe(deriveCompanyId(9, `n:${pair[1]}`, 1).id);
    expect(b?.companyId).not.toBe(a?.companyId);
    // The same company again (names compare case-insensitively) is a duplicate, even past the probe.
    expect(malformed(rs)).toMatchObject([{ line: 4, reason: expect.stringContaining('duplicate company') }]);
  });

  it('the reader keeps no ids: it yields duplicates too, each with its line and how its id came about', async () => {
    const rs = await readAll(file('csv', 'name,domain,company_id\nA,a.com,5\nB,b.com,5\nC,c.com,\nC2,C.com,\n'));
    expect(malformed(rs)).toEqual([]);
    const key = 'd:c.com';
    const { id, check } = deriveCompanyId(7, key);
    expect(rs.map((r) => ('company' in r ? [r.company.companyId, r.line, r.derivation] : r))).toEqual([
      [5, 2, { kind: 'explicit' }],
      [5, 3, { kind: 'explicit' }],
      [id, 4, { kind: 'derived', key, check: check | 0 }],
      [id, 5, { kind: 'derived', key, check: check | 0 }],
    ]);
    expect(rs[1]).toMatchObject({ raw: 'B,b.com,5' });
  });

  it('recording tells a duplicate from a collision', async () => {
    const store = createRunStore(pool);
    const runId = await store.createRun(1, {});
    const derived = (domain: string, line: number): InputCompany => {
      const { id, check } = deriveCompanyId(1, `d:${domain}`);
      return { company: { companyId: id, tenantId: 1, name: null, domain }, line, derivation: { kind: 'derived', key: `d:${domain}`, check: check | 0 } };
    };
    const explicit = (companyId: number, line: number): InputCompany => ({ company: { companyId, tenantId: 1, name: null, domain: null }, line, derivation: { kind: 'explicit' } });
    const refused: MalformedRow[] = [];
    const record = (rows: InputCompany[]): Promise<number> => store.recordRunInputs(runId, rows, { batchSize: 2, onRefused: (row) => refused.push(row) });
    const first = deriveCompanyId(1, 'd:a.com').id;
    // An explicit id that takes a derived id's place pushes the derived one to its next probe.
    const taken = deriveCompanyId(1, 'd:b.com').id;
    expect(await record([derived('a.com', 2), derived('a.com', 3), explicit(first, 5), explicit(taken, 6), derived('b.com', 7)])).toBe(3);
    expect(refused).toEqual([
      { line: 3, reason: expect.stringMatching(/duplicate company: same domain a.com as line 2/) },
      { line: 5, reason: `duplicate company_id ${String(first)} (first seen at line 2)` },
    ]);
    const { rows } = await pool.query('SELECT company_id, input_line FROM run_companies WHERE run_id = $1 ORDER BY position', [runId]);
    expect(rows.map((r) => [Number(r.company_id), r.input_line])).toEqual([
      [first, 2],
      [taken, 6],
      [deriveCompanyId(1, 'd:b.com', 1).id, 7],
    ]);
  });
});
