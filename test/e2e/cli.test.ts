/**
 * End to end through the built CLI as a child process (issue 6, item 8): the vendor simulator and
 * the fake Odoo run in this process, PostgreSQL is a fresh database of this file, and the child
 * gets its configuration only through its environment. Waits are event-driven: the child's stderr,
 * its exit, or a condition polled in the database.
 */
import { chmodSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, spawnCli } from './support/cli.js';
import { countRows, ids, inputIds, resultRows, runsOf, waitFor } from './support/queries.js';
import { companiesCsv, ODOO, partnerRefs, SHORT_TIMEOUTS, useDatabase, useWorld } from './support/world.js';

const db = useDatabase();
const world = useWorld(db.url);

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

describe('lead-enrich run', () => {
  it('with every vendor faulty exits 0 with one row per company, every one degraded, the run completed', async () => {
    const w = await world({
      seed: 3,
      profiles: {
        crawler: { fault: 'reset', probability: 0.3 },
        tavily: 'quota',
        openai: 'malformed',
        apify_linkedin: 'server_error',
        lusha: 'hang',
        zerobounce: { fault: 'rate_limit', retryAfterS: 30 },
      },
    });
    const lines = ['company_id,name,domain'];
    for (let i = 1; i <= 16; i++) lines.push(`${i},"Faulty ${i}",${i % 3 === 0 ? 'thin' : i % 5 === 0 ? 'missing' : 'rich'}-faulty-${i}.example`);
    const input = w.file('faulty.csv', `${lines.join('\n')}\n`);

    const r = await runCli(['run', '--tenant', '101', '--input', input], w.env(SHORT_TIMEOUTS));
    expect(r.code, r.stderr).toBe(0);
    const [run] = await runsOf(db.pool(), 101);
    expect(run?.status).toBe('completed');
    const rows = await resultRows(db.pool(), run!.runId);
    expect(rows.map((x) => x.companyId)).toEqual(ids(16));
    expect(rows.every((x) => x.status === 'degraded' && x.degradedReasons !== null)).toBe(true);
    const seen = new Set(rows.flatMap((x) => x.degradedReasons!.split(',')));
    for (const code of ['OPENAI_FAIL', 'APIFY_LINKEDIN_FAIL', 'CIRCUIT_OPEN:apify_linkedin', 'LUSHA_FAIL', 'TAVILY_FAIL', 'CRAWL_THIN', 'CRAWL_ERROR', 'ZEROBOUNCE_DEFER']) {
      expect(seen, code).toContain(code);
    }
    // Every company reached the export, whatever the vendors did.
    expect(rows.filter((x) => x.exportStatus === null)).toEqual([]);
    expect(r.stdout).toContain('Degradation reasons');
    expect(r.stdout).toMatch(/total\s+16\n/);
  }, 120_000);

  it('reports malformed rows with their line numbers on stderr, skips them and processes the rest', async () => {
    const w = await world();
    const csv = [
      'company_id,name,domain', // 1
      '1,"Good One",good-1.example', // 2
      'abc,"Bad Id",bad.example', // 3 company_id not an integer
      '3,"Too",many,fields', // 4 wrong number of fields
      '4,"Broken quote,broken.example', // 5 broken quoting
      '5,"Good Five",good-5.example', // 6
      '6,"Good Six",good-6.example', // 7
    ].join('\n');
    const input = w.file('malformed.csv', `${csv}\n`);
    const r = await runCli(['run', '--tenant', '102', '--input', input], w.env());
    expect(r.code, r.stderr).toBe(0);
    const skipped = [...r.stderr.matchAll(/malformed\.csv:(\d+): skipped malformed row/g)].map((m) => Number(m[1]));
    expect(skipped).toEqual([3, 4, 5]);
    const [run] = await runsOf(db.pool(), 102);
    expect(run?.status).toBe('completed');
    expect((await resultRows(db.pool(), run!.runId)).map((x) => x.companyId)).toEqual([1, 5, 6]);
    expect(r.stdout).toMatch(/malformed rows skipped\s+3/);
  }, 120_000);

  it('--dry-run writes nothing to Odoo and records every export as dry_run', async () => {
    const w = await world();
    const input = w.file('dry.csv', companiesCsv(8, 'dry'));
    const r = await runCli(['run', '--tenant', '103', '--input', input, '--dry-run'], w.env());
    expect(r.code, r.stderr).toBe(0);
    const counts = w.odoo.callCounts(ODOO.db);
    expect(counts['object.create'] ?? 0).toBe(0);
    expect(counts['object.write'] ?? 0).toBe(0);
    expect(w.odoo.database(ODOO.db).partners.all()).toEqual([]);
    const [run] = await runsOf(db.pool(), 103);
    const rows = await resultRows(db.pool(), run!.runId);
    expect(rows).toHaveLength(8);
    expect(rows.every((x) => x.exportStatus === 'dry_run')).toBe(true);
  }, 120_000);

  it('without --dry-run the same input creates one partner per company (the dry run is not vacuous)', async () => {
    const w = await world();
    const input = w.file('wet.csv', companiesCsv(8, 'wet'));
    const r = await runCli(['run', '--tenant', '104', '--input', input], w.env());
    expect(r.code, r.stderr).toBe(0);
    expect(w.odoo.callCounts(ODOO.db)['object.create'] ?? 0).toBeGreaterThanOrEqual(8);
    expect(partnerRefs(w, 104).sort()).toEqual(ids(8).map((i) => `lead-enrich:104:${i}`).sort());
    const [run] = await runsOf(db.pool(), 104);
    const rows = await resultRows(db.pool(), run!.runId);
    expect(rows.every((x) => x.exportStatus === 'exported')).toBe(true);
  }, 120_000);

  it('with ODOO_DB missing, the summary and stderr say the Odoo settings are incomplete, not that Odoo is unreachable', async () => {
    const w = await world();
    const input = w.file('nodb.csv', companiesCsv(3, 'nodb'));
    const r = await runCli(['run', '--tenant', '141', '--input', input], w.env({ ODOO_DB: '' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('disabled for this tenant during the run: Odoo settings incomplete (missing ODOO_DB)');
    expect(r.stderr).toMatch(/lead-enrich: run \d+: Odoo export disabled for tenant 141: Odoo settings incomplete \(missing ODOO_DB\)\n/);
    const said = [r.stdout, ...r.stderr.split('\n').filter((l) => l.startsWith('lead-enrich:'))].join('\n');
    expect(said).not.toContain('unreachable');
    const [run] = await runsOf(db.pool(), 141);
    expect(run?.odooExportDisabled).toBe(true);
    expect(w.odoo.callCounts(ODOO.db)['common.authenticate'] ?? 0).toBe(0);
  }, 120_000);
});

describe('interruption and resume', () => {
  const N = 30;

  /** Starts `run` for `tenantId` on N companies, two at a time, and returns once 3 have a result row. */
  async function runUntilThreeRows(tenantId: number, name: string) {
    const w = await world({ latencyMs: 40 });
    const input = w.file(`${name}.csv`, companiesCsv(N, name));
    const env = w.env({ RUN_CONCURRENCY: '2' });
    const child = spawnCli(['run', '--tenant', String(tenantId), '--input', input], env);
    const runId = await waitFor(async () => (await runsOf(db.pool(), tenantId))[0]?.runId, { what: 'the run row', abandon: child.exited });
    await waitFor(async () => ((await countRows(db.pool(), runId)) >= 3 ? true : undefined), { what: '3 result rows', abandon: child.exited });
    return { w, env, child, runId };
  }

  /** `run --resume` exits 0, completes the run and leaves every company with a row, all exported. */
  async function resumeToCompletion(runId: number, tenantId: number, env: NodeJS.ProcessEnv) {
    const resumed = await runCli(['run', '--resume', String(runId)], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await runsOf(db.pool(), tenantId))[0]?.status).toBe('completed');
    const rows = await resultRows(db.pool(), runId);
    expect(rows.map((x) => x.companyId)).toEqual(ids(N));
    expect(rows.filter((x) => x.exportStatus !== 'exported')).toEqual([]);
    // A company's stage rows are committed with its result row, so none was written twice.
    const repeated = await db.pool().query(
      `SELECT company_id, stage, event, count(*)::int AS n FROM run_event_logs WHERE run_id = $1
        GROUP BY company_id, stage, event HAVING count(*) > 1`,
      [runId],
    );
    expect(repeated.rows).toEqual([]);
  }

  it('SIGTERM: the child stops, the run is interrupted and says how to resume; the resume completes it without duplicates', async () => {
    const { w, env, child, runId } = await runUntilThreeRows(105, 'term');
    child.process.kill('SIGTERM');
    const first = await child.exited;
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain(`lead-enrich run --resume ${runId}`);
    expect((await runsOf(db.pool(), 105))[0]?.status).toBe('interrupted');
    const before = await countRows(db.pool(), runId);
    expect(before).toBeLessThan(N);

    const resumed = await runCli(['run', '--resume', String(runId)], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const runs = await runsOf(db.pool(), 105);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe('completed');
    const rows = await resultRows(db.pool(), runId);
    expect(rows.map((x) => x.companyId)).toEqual(await inputIds(db.pool(), runId));
    expect(rows.map((x) => x.companyId)).toEqual(ids(N));
    expect(rows.filter((x) => x.exportStatus === null)).toEqual([]);
    expect(partnerRefs(w, 105).sort()).toEqual(ids(N).map((i) => `lead-enrich:105:${i}`).sort());
  }, 180_000);

  it('SIGTERM twice: the child exits at once, the run is recorded interrupted (not left running), and the resume completes it', async () => {
    const { w, env, child, runId } = await runUntilThreeRows(116, 'term2');
    w.sim.setProfile('openai', 'hang'); // companies in flight now wait out the grace: time for the second signal
    child.process.kill('SIGTERM');
    await child.waitForStderr(/stopping intake/);
    child.process.kill('SIGTERM');
    const first = await child.exited;
    w.sim.setProfile('openai', 'ok');
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('again: exiting now');
    expect((await runsOf(db.pool(), 116))[0]?.status).toBe('interrupted');
    await resumeToCompletion(runId, 116, env);
    expect(partnerRefs(w, 116).sort()).toEqual(ids(N).map((i) => `lead-enrich:116:${i}`).sort());
  }, 180_000);

  it('SIGKILL during enrichment: the resume completes the run, one row per company, one partner per company', async () => {
    const { w, env, child, runId } = await runUntilThreeRows(106, 'kill');
    child.process.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    expect((await runsOf(db.pool(), 106))[0]?.status).toBe('running');
    expect(await countRows(db.pool(), runId)).toBeLessThan(N);

    await resumeToCompletion(runId, 106, env);
    expect(partnerRefs(w, 106).sort()).toEqual(ids(N).map((i) => `lead-enrich:106:${i}`).sort());
  }, 180_000);

  it('SIGKILL during the Odoo export: the resume exports the rest and creates no duplicate partner', async () => {
    const w = await world();
    // Slow Odoo: the export takes long enough to be killed in the middle.
    w.odoo.setBehaviour(ODOO.db, { delayMs: 40 });
    const input = w.file('killx.csv', companiesCsv(N, 'killx'));
    const env = w.env();
    const child = spawnCli(['run', '--tenant', '107', '--input', input], env);
    await waitFor(async () => (partnerRefs(w, 107).length >= 3 ? true : undefined), { what: '3 partners in Odoo', abandon: child.exited });
    child.process.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    const runId = (await runsOf(db.pool(), 107))[0]!.runId;
    expect(partnerRefs(w, 107).length).toBeLessThan(N);
    // The worst a SIGKILL can leave behind: partners written in Odoo, none of it recorded (export
    // outcomes still in the sink's buffer, the partner map not yet written). Only the ref remains.
    await db.pool().query('UPDATE company_enrichment_runs SET export_status = NULL, export_partner_id = NULL WHERE run_id = $1', [runId]);
    await db.pool().query('DELETE FROM odoo_partner_map WHERE tenant_id = $1', [107]);

    w.odoo.setBehaviour(ODOO.db, { delayMs: 0 });
    await resumeToCompletion(runId, 107, env);
    const refs = partnerRefs(w, 107);
    expect(refs).toHaveLength(N);
    expect(new Set(refs).size).toBe(N);
    // Contacts (child partners) are not duplicated either.
    const all = w.odoo.database(ODOO.db).partners.all().map((p) => String(p.ref));
    expect(all.length).toBeGreaterThan(N);
    expect(new Set(all).size).toBe(all.length);
  }, 180_000);
});

describe('resume after a kill while the input was being recorded', () => {
  /** The state such a kill leaves: a running run whose input is recorded in part (no inputRecorded flag). */
  async function halfRecordedRun(tenantId: number, params: Record<string, unknown>, recorded: number[]): Promise<number> {
    const { rows } = await db.pool().query<{ run_id: string }>('INSERT INTO enrichment_runs (tenant_id, params) VALUES ($1, $2) RETURNING run_id', [tenantId, JSON.stringify(params)]);
    const runId = Number(rows[0]!.run_id);
    for (const [position, companyId] of recorded.entries()) {
      await db.pool().query('INSERT INTO run_companies (run_id, tenant_id, company_id, position) VALUES ($1, $2, $3, $4)', [runId, tenantId, companyId, position]);
    }
    return runId;
  }

  it.each([
    ['--input <file>', 109, true],
    ['the tenant’s companies (no --input)', 110, false],
  ])('%s: the resume records the rest of the input and enriches every company once', async (_label, tenantId, withFile) => {
    const w = await world();
    const input = w.file(`recorded-${tenantId}.csv`, companiesCsv(6, `rec${tenantId}`));
    // A first run puts the tenant's companies in the database (and is not what is checked).
    expect((await runCli(['run', '--tenant', String(tenantId), '--input', input], w.env())).code).toBe(0);
    // Without --input a run takes the tenant's never-enriched companies: make them that again, as a
    // host system that owns the companies table would have them.
    if (!withFile) await db.pool().query('UPDATE companies SET last_enriched_at = NULL WHERE tenant_id = $1', [tenantId]);
    const runId = await halfRecordedRun(tenantId, { inputPath: withFile ? input : null, concurrency: 2, dryRun: false, staleDays: null }, [1, 2]);

    const resumed = await runCli(['run', '--resume', String(runId)], w.env());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await inputIds(db.pool(), runId)).toEqual(ids(6));
    expect((await resultRows(db.pool(), runId)).map((x) => x.companyId)).toEqual(ids(6));
    expect((await runsOf(db.pool(), tenantId)).find((r) => r.runId === runId)?.status).toBe('completed');
  }, 120_000);
});

describe('lead-enrich report and usage errors', () => {
  it('report --run prints the same summary as the run; an unknown run is a usage error (exit 2)', async () => {
    const w = await world({ profiles: { tavily: 'server_error', openai: { fault: 'malformed', probability: 0.5 } } });
    const input = w.file('report.csv', companiesCsv(10, 'rep').replace('3,"rep 3 Ltd",rep-3.example', '3,,'));
    const r = await runCli(['run', '--tenant', '108', '--input', input], w.env());
    expect(r.code, r.stderr).toBe(0);
    const runId = (await runsOf(db.pool(), 108))[0]!.runId;
    const report = await runCli(['report', '--run', String(runId)], w.env());
    expect(report.code, report.stderr).toBe(0);
    for (const title of ['Companies', 'Degradation reasons', 'Odoo export']) {
      expect(report.stdout).toContain(title);
    }
    const rows = await resultRows(db.pool(), runId);
    const degraded = rows.filter((x) => x.degradedReasons !== null).length;
    expect(degraded).toBeGreaterThan(0);
    for (const out of [r.stdout, report.stdout]) {
      expect(out).toMatch(/total\s+10\n/);
      expect(out).toMatch(new RegExp(`degraded\\s+${degraded}\\n`));
      expect(out).toMatch(/DATA_EMPTY:no_domain_name\s+1\n/);
    }
    // The run's summary is the report's: everything from the Companies section on is the same text.
    const body = (text: string) => text.slice(text.indexOf('Companies'));
    expect(body(report.stdout)).toBe(body(r.stdout));

    const missing = await runCli(['report', '--run', '999999'], w.env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('run 999999 does not exist');
  }, 120_000);

  it.each([
    [['run'], /--tenant/],
    [['run', '--tenant', 'x'], /--tenant expects an integer/],
    [['run', '--tenant', '1', '--input', '/nonexistent/companies.csv'], /no such file/],
    [['run', '--resume', '5', '--tenant', '1'], /--resume/],
    [['run', '--resume', '5', '--dry-run'], /--dry-run: the run remembers/],
  ])('bad usage %j exits 2', async (args, message) => {
    const w = await world();
    const r = await runCli(args, w.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  }, 60_000);

  it('an input that cannot be read at all (unknown format, CSV without a header) exits 2 and leaves no run behind', async () => {
    const w = await world();
    const txt = await runCli(['run', '--tenant', '131', '--input', w.file('companies.txt', 'name,domain\nA,a.example\n')], w.env());
    expect(txt.code, txt.stderr).toBe(2);
    expect(txt.stderr).toMatch(/unknown input format/);
    const headless = await runCli(['run', '--tenant', '131', '--input', w.file('headless.csv', 'Acme,acme.example\nBeta,beta.example\n')], w.env());
    expect(headless.code, headless.stderr).toBe(2);
    expect(headless.stderr).toMatch(/needs a header/);
    expect(await runsOf(db.pool(), 131)).toEqual([]);
  }, 60_000);
});

describe('lead-enrich demo (npm start)', () => {
  it('with DATABASE_URL unset runs on the embedded PostgreSQL, exits 0 and prints every section and reason code', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'lead-enrich-demo-'));
    chmodSync(dir, 0o755); // as root, the embedded PostgreSQL runs as the postgres user, who must traverse it
    try {
      const r = await runCli(['demo'], { LEAD_ENRICH_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' });
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      for (const section of ['Degradation reasons', 'Breaker transitions', 'Odoo export', 'Where the data is']) expect(r.stdout).toContain(section);
      const reasons = [
        'DATA_EMPTY:no_domain_name',
        'CRAWL_THIN',
        'CRAWL_ERROR',
        'TAVILY_FAIL',
        'OPENAI_FAIL',
        'APIFY_LINKEDIN_FAIL',
        'LUSHA_FAIL',
        'ZEROBOUNCE_DEFER',
        'DEADLINE_EXCEEDED',
        'CIRCUIT_OPEN:apify_linkedin',
        'BUDGET_EXHAUSTED:openai',
      ];
      for (const code of reasons) expect(r.stdout, code).toMatch(new RegExp(`\\n\\s+${code}\\s+\\d+\\n`));
      expect(r.stdout).toMatch(/halfOpen -> closed/);
      // Quotas at work (issue 14): OpenAI's rate makes calls wait; tenant 2's budget runs out.
      expect(r.stdout).toMatch(/rate limits: [1-9]\d* attempts waited \d+\.\ds for their turn \(.*openai [1-9]/);
      expect(r.stdout).toMatch(/budget: spent 2\.\d{4} of 2 USD, exhausted: [1-9]\d* companies had paid steps skipped \(BUDGET_EXHAUSTED\)/);
      expect(r.stdout).toMatch(/budget: none \(spent \d+\.\d{4} USD\)/);
      expect(r.stdout).toMatch(/exported_stripped\s+[1-9]\d*\n/);
      expect(r.stdout).toMatch(/disabled\s+[1-9]\d*\n/);
      expect(r.stdout).toContain(join(dir, 'data'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it.runIf(process.getuid?.() === 0)('as root from a directory the postgres user cannot enter (mktemp -d, /root), runs on the embedded PostgreSQL and exits 0', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'lead-enrich-demo-closed-')); // 0700, left as it is
    let relocated: string | null = null;
    try {
      const r = await runCli(['demo', '--companies', '3'], { LEAD_ENRICH_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' });
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      relocated = readlinkSync(join(dir, 'data', 'pg'));
      expect(r.stderr).not.toMatch(/EACCES|\n\s+at /);
      expect(r.stdout).toContain('Where the data is');
      expect(relocated).toMatch(/^\/var\/tmp\/lead-enrich-postgres\/[0-9a-f]{16}\/pg$/);
    } finally {
      relocated ??= lstatSync(join(dir, 'data', 'pg'), { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(join(dir, 'data', 'pg')) : null;
      rmSync(dir, { recursive: true, force: true });
      if (relocated) rmSync(dirname(relocated), { recursive: true, force: true });
    }
  }, 120_000);
});
