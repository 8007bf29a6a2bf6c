/**
 * The input of `lead-enrich run` through the built CLI (issue 11, items 3 and 4): a named pipe and
 * standard input are read once, as streams; SIGTERM works while the input is awaited and while it
 * is read; the run records its input by absolute path, and a resume says what it needs when its
 * input cannot be read again. Waits are event-driven (the child's stderr, its exit, the database).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, spawnCli, type CliChild, type CliExit } from './support/cli.js';
import { inputIds, resultRows, runsOf, waitFor } from './support/queries.js';
import { companiesCsv, useDatabase, useWorld } from './support/world.js';

const db = useDatabase();
const world = useWorld(db.url);

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** Processes a test started; each is killed after the test (a child that hangs fails the test, not the suite). */
const started: ChildProcess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function spawnTracked(...args: Parameters<typeof spawnCli>): CliChild {
  const child = spawnCli(...args);
  started.push(child.process);
  return child;
}

/** The child's exit, or a failure (with its stderr) when it has not exited within `ms`. */
async function exitWithin(child: CliChild, ms = 60_000): Promise<CliExit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the child did not exit within ${ms} ms; stderr:\n${child.stderr().slice(-2000)}`)), ms);
  });
  try {
    return await Promise.race([child.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function mkfifo(dir: string, name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

/** A writer process on the FIFO (`cat > fifo`): it blocks in its own open, never in this process. */
function fifoWriter(path: string): ChildProcess & { stdin: NonNullable<ChildProcess['stdin']> } {
  const writer = spawn('sh', ['-c', 'exec cat > "$1"', 'sh', path], { stdio: ['pipe', 'ignore', 'ignore'] });
  writer.stdin.on('error', () => undefined);
  started.push(writer);
  return writer as ChildProcess & { stdin: NonNullable<ChildProcess['stdin']> };
}

async function paramsOf(runId: number): Promise<Record<string, unknown>> {
  const { rows } = await db.pool().query<{ params: Record<string, unknown> }>('SELECT params FROM enrichment_runs WHERE run_id = $1', [runId]);
  return rows[0]?.params ?? {};
}

describe('a named pipe or standard input as --input', () => {
  it('a FIFO is opened once and read as a stream: the run completes with every company', async () => {
    const w = await world();
    const fifo = mkfifo(w.dir, 'companies.csv');
    const child = spawnTracked(['run', '--tenant', '201', '--input', fifo], w.env());
    await child.waitForStderr(/waiting for a writer/);
    fifoWriter(fifo).stdin.end(companiesCsv(6, 'fifo'));
    const r = await exitWithin(child);
    expect(r.code, r.stderr).toBe(0);
    const [run] = await runsOf(db.pool(), 201);
    expect(run?.status).toBe('completed');
    expect((await resultRows(db.pool(), run!.runId)).map((x) => x.companyId)).toEqual(ids(6));
    expect(await paramsOf(run!.runId)).toMatchObject({ inputPath: fifo, inputKind: 'fifo', inputFormat: 'csv', inputRecorded: true });
  }, 120_000);

  it('SIGTERM while waiting for the FIFO writer: exit 130 at once, no run row', async () => {
    const w = await world();
    const fifo = mkfifo(w.dir, 'nobody-writes');
    const child = spawnTracked(['run', '--tenant', '202', '--input', fifo], w.env());
    await child.waitForStderr(/waiting for a writer/);
    child.process.kill('SIGTERM');
    const r = await exitWithin(child);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted before the run started; nothing was recorded');
    expect(await runsOf(db.pool(), 202)).toEqual([]);
  }, 120_000);

  it('SIGTERM while the FIFO is read (its writer silent): the run ends interrupted; a resume says the pipe cannot be read again, and completes with the input given again', async () => {
    const w = await world();
    const fifo = mkfifo(w.dir, 'slow.csv');
    const child = spawnTracked(['run', '--tenant', '203', '--input', fifo], w.env());
    await child.waitForStderr(/waiting for a writer/);
    const writer = fifoWriter(fifo);
    writer.stdin.write(companiesCsv(6, 'slow').split('\n').slice(0, 4).join('\n') + '\n'); // the header and 3 rows, then silence
    const runId = await waitFor(async () => (await runsOf(db.pool(), 203))[0]?.runId, { what: 'the run row', abandon: child.exited });
    child.process.kill('SIGTERM');
    const first = await exitWithin(child);
    expect(first.code, first.stderr).toBe(130);
    expect((await runsOf(db.pool(), 203))[0]?.status).toBe('interrupted');

    const again = await runCli(['run', '--resume', String(runId)], w.env());
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toContain(`its input (the named pipe ${fifo}) cannot be read again`);
    expect(again.stderr).toContain(`lead-enrich run --resume ${runId} --input <file|->`);

    const given = await runCli(['run', '--resume', String(runId), '--input', '-'], w.env(), { stdin: companiesCsv(6, 'slow') });
    expect(given.code, given.stderr).toBe(0);
    expect((await runsOf(db.pool(), 203))[0]?.status).toBe('completed');
    expect(await inputIds(db.pool(), runId)).toEqual(ids(6));
    expect((await resultRows(db.pool(), runId)).map((x) => x.companyId)).toEqual(ids(6));
  }, 180_000);

  it('SIGTERM twice while the FIFO is read: the child exits with 130 and the run is not left running', async () => {
    const w = await world();
    const fifo = mkfifo(w.dir, 'twice.csv');
    const child = spawnTracked(['run', '--tenant', '204', '--input', fifo], w.env());
    await child.waitForStderr(/waiting for a writer/);
    fifoWriter(fifo).stdin.write('company_id,name,domain\n1,"One",one.example\n');
    await waitFor(async () => (await runsOf(db.pool(), 204))[0]?.runId, { what: 'the run row', abandon: child.exited });
    child.process.kill('SIGTERM');
    await child.waitForStderr(/stopping intake/);
    if (child.process.exitCode === null) child.process.kill('SIGTERM');
    const r = await exitWithin(child);
    expect(r.code, r.stderr).toBe(130);
    expect((await runsOf(db.pool(), 204))[0]?.status).toBe('interrupted');
  }, 120_000);

  it('--input - reads standard input; without an extension the format is sniffed (a JSON array here)', async () => {
    const w = await world();
    const json = JSON.stringify(ids(4).map((i) => ({ company_id: i, name: `stdin ${i}`, domain: `stdin-${i}.example` })));
    const r = await runCli(['run', '--tenant', '205', '--input', '-'], w.env(), { stdin: `\n  ${json}\n` });
    expect(r.code, r.stderr).toBe(0);
    const [run] = await runsOf(db.pool(), 205);
    expect((await resultRows(db.pool(), run!.runId)).map((x) => x.companyId)).toEqual(ids(4));
    expect(await paramsOf(run!.runId)).toMatchObject({ inputPath: '-', inputKind: 'stdin', inputFormat: 'json' });
    const bad = await runCli(['run', '--tenant', '205', '--input', '-', '--format', 'xml'], w.env(), { stdin: json });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format expects csv, json or jsonl/);
  }, 120_000);
});

describe('the input path is recorded absolute', () => {
  it('a run given a relative path records it absolute, so a resume from another directory reads that file, not one of the same name', async () => {
    const w = await world();
    const here = join(w.dir, 'here');
    const elsewhere = join(w.dir, 'elsewhere');
    mkdirSync(here);
    mkdirSync(elsewhere);
    writeFileSync(join(here, 'companies.csv'), companiesCsv(5, 'abs'));
    // A file of the same name in the other directory, with other companies.
    writeFileSync(join(elsewhere, 'companies.csv'), 'company_id,name,domain\n91,"Decoy",decoy.example\n');

    const first = await runCli(['run', '--tenant', '206', '--input', 'companies.csv'], w.env(), { cwd: here });
    expect(first.code, first.stderr).toBe(0);
    const [done] = await runsOf(db.pool(), 206);
    const params = await paramsOf(done!.runId);
    expect(params).toMatchObject({ inputPath: join(here, 'companies.csv'), inputKind: 'file' });

    // The state a kill while recording leaves: the same params, two companies recorded, no inputRecorded flag.
    const { inputRecorded: _recorded, ...half } = params;
    const { rows } = await db.pool().query<{ run_id: string }>('INSERT INTO enrichment_runs (tenant_id, params) VALUES ($1, $2) RETURNING run_id', [206, JSON.stringify(half)]);
    const runId = Number(rows[0]!.run_id);
    for (const id of [1, 2]) await db.pool().query('INSERT INTO run_companies (run_id, tenant_id, company_id, position) VALUES ($1, 206, $2, $3)', [runId, id, id - 1]);

    const resumed = await runCli(['run', '--resume', String(runId)], w.env(), { cwd: elsewhere });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await inputIds(db.pool(), runId)).toEqual(ids(5));
    expect((await resultRows(db.pool(), runId)).map((x) => x.companyId)).toEqual(ids(5));
  }, 120_000);
});
