/**
 * Input that is not what it claims (issue 11, item 9): bytes that are not UTF-8 and control
 * characters in a domain make their row malformed, reported with where they are; the rest is read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isInputError, readCompanies, type InputRecord } from '../../../src/adapters/input.js';
import { decodeUtf8 } from '../../../src/adapters/input/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-input-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function file(ext: string, content: Buffer | string): string {
  const path = join(dir, `input-${fileNo++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string, highWaterMark?: number): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const r of readCompanies(path, { tenantId: 7, ...(highWaterMark ? { highWaterMark } : {}) })) out.push(r);
  return out;
}
const companies = (rs: InputRecord[]) => rs.flatMap((r) => ('company' in r ? [r.company] : []));
const malformed = (rs: InputRecord[]) => rs.flatMap((r) => ('malformed' in r ? [r.malformed] : []));

describe('input that is not UTF-8', () => {
  it('a Latin-1 CSV: each row with a non-UTF-8 byte is refused with its line and column, the rest is read', async () => {
    const csv = Buffer.from('name,domain\nCafé Müller,cafe.example\nPlain,plain.example\n"Two\nlines é",two.example\nZoë,zoe.example\n', 'latin1');
    for (const hwm of [undefined, 3]) {
      const rs = await readAll(file('csv', csv), hwm);
      expect(companies(rs).map((c) => c.name)).toEqual(['Plain']);
      expect(malformed(rs)).toEqual([
        { line: 2, reason: expect.stringContaining('not UTF-8: byte 0xE9 at line 2, column 4'), raw: 'Caf\uFFFD M\uFFFDller,cafe.example' },
        { line: 4, reason: expect.stringContaining('byte 0xE9 at line 5, column 7'), raw: '"Two\nlines \uFFFD",two.example' },
        { line: 6, reason: expect.stringContaining('byte 0xEB at line 6, column 3'), raw: 'Zo\uFFFD,zoe.example' },
      ]);
    }
  });

  it('the same file in UTF-8 is read whole, multi-byte characters cut by every chunk boundary included', async () => {
    const csv = 'name,domain\nCafé Müller,cafe.example\n"Two\nlines é",two.example\nZoë 😀,zoe.example\n';
    for (const hwm of [undefined, 1, 2, 3]) {
      const rs = await readAll(file('csv', csv), hwm);
      expect(malformed(rs)).toEqual([]);
      expect(companies(rs).map((c) => c.name)).toEqual(['Café Müller', 'Two\nlines é', 'Zoë 😀']);
    }
  });

  it('a real U+FFFD in UTF-8 input is kept: only bytes that are not UTF-8 are refused', async () => {
    const rs = await readAll(file('csv', 'name,domain\nOdd \uFFFD Name,odd.example\n'));
    expect(companies(rs).map((c) => c.name)).toEqual(['Odd \uFFFD Name']);
  });

  it('a JSON array and JSON Lines with Latin-1 bytes: the element or line holding one is refused, the rest read', async () => {
    const json = Buffer.from('[\n  {"name": "Plain", "domain": "plain.example"},\n  {"name": "Caf\xe9",\n   "domain": "cafe.example"},\n  {"name": "Last", "domain": "last.example"}\n]\n', 'latin1');
    for (const hwm of [undefined, 4]) {
      const rs = await readAll(file('json', json), hwm);
      expect(companies(rs).map((c) => c.name)).toEqual(['Plain', 'Last']);
      expect(malformed(rs)).toMatchObject([{ line: 3, reason: expect.stringContaining('byte 0xE9 at line 3, column 16'), raw: expect.stringContaining('Caf\uFFFD') }]);
    }
    const jsonl = Buffer.from('{"name":"A","domain":"a.example"}\n{"name":"B\xe9","domain":"b.example"}\n', 'latin1');
    const rs = await readAll(file('jsonl', jsonl));
    expect(companies(rs).map((c) => c.name)).toEqual(['A']);
    expect(malformed(rs)).toMatchObject([{ line: 2, reason: expect.stringContaining('line 2, column 11') }]);
  });

  it('a CSV header that is not UTF-8 (a UTF-16 file, say) makes the input unreadable, with where', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,domain\nA,a.example\n', 'utf16le')]);
    const error = await readAll(file('csv', utf16)).catch((e: unknown) => e);
    expect(error).toSatisfy(isInputError);
    expect((error as Error).message).toMatch(/CSV header cannot be read: not UTF-8: byte 0xFF at line 1, column 1/);
  });

  it('decodes overlong forms, surrogates and truncated sequences as bad bytes, one each, keeping the ASCII after them', async () => {
    const bytes = [0xc0, 0xaf, 0x41, 0xed, 0xa0, 0x80, 0x42, 0xe2, 0x82, 0x43, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82];
    let text = '';
    for await (const chunk of decodeUtf8((async function* () {
      for (const b of bytes) yield Buffer.from([b]);
    })())) text += chunk;
    const shown = [...text].map((c) => (c.charCodeAt(0) >= 0xdc80 && c.charCodeAt(0) <= 0xdcff ? (c.charCodeAt(0) - 0xdc00).toString(16) : c));
    expect(shown).toEqual(['c0', 'af', 'A', 'ed', 'a0', '80', 'B', 'e2', '82', 'C', 'f4', '90', '80', '80', 'e2', '82']);
  });

  it('decodes any valid UTF-8, cut anywhere, exactly as one decode of the whole', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), fc.array(fc.nat(), { maxLength: 6 }), async (text, cuts) => {
        const bytes = Buffer.from(text, 'utf8');
        const bounds = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
        const pieces = bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
        let decoded = '';
        for await (const chunk of decodeUtf8((async function* () {
          yield* pieces;
        })())) decoded += chunk;
        return decoded === bytes.toString('utf8');
      }),
    );
  });
});

describe('control characters in a domain', () => {
  it('a NUL (or a tab) inside a domain or website makes the row malformed instead of joining its halves', async () => {
    const csv = 'name,domain,website\nA,a\u0000b.example,\nB,,"https://x\u0000y.example/"\nC,c\td.example,\nD,d.example,\n';
    const rs = await readAll(file('csv', csv));
    expect(companies(rs).map((c) => [c.name, c.domain])).toEqual([['D', 'd.example']]);
    expect(malformed(rs)).toEqual([
      expect.objectContaining({ line: 2, reason: expect.stringMatching(/^domain holds a control character \(U\+0000\)/) }),
      expect.objectContaining({ line: 3, reason: expect.stringMatching(/^website holds a control character \(U\+0000\)/) }),
      expect.objectContaining({ line: 4, reason: expect.stringMatching(/^domain holds a control character \(U\+0009\)/) }),
    ]);
    const json = await readAll(file('json', JSON.stringify([{ name: 'A', domain: 'a\u0000b.example' }, { name: 'E', domain: 'e.example' }])));
    expect(companies(json).map((c) => c.domain)).toEqual(['e.example']);
    expect(malformed(json)).toMatchObject([{ line: 1, reason: expect.stringContaining('U+0000') }]);
  });
});
