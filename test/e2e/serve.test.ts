/**
 * The operators' window end to end (issue 15): a real run through the built CLI against the
 * simulators and a fresh database, then `lead-enrich serve` as a child process, its pages in
 * headless Chromium (Debian's chromium with playwright-core; without /usr/bin/chromium those tests
 * skip and say so), its /metrics parsed by parse-prometheus-text-format and checked against the
 * database, and the token rules. `worker --metrics-port` is scraped while it works a queued run.
 * Screenshots of every page go to test-output/serve/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../support/prometheus.js';
import { ROOT, childEnv, ensureBuilt, runCli, spawnCli, type CliChild } from './support/cli.js';
import { runsOf, waitFor } from './support/queries.js';
import { companiesCsv, useDatabase, useWorld } from './support/world.js';

const db = useDatabase();
const world = useWorld(() => db.url());

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`serve.test.ts: ${CHROMIUM} is missing (apt-get install chromium): the browser tests are skipped; the others run`);
const SHOTS = join(ROOT, 'test-output', 'serve');

const TENANT = 151;
const SCRIPT_NAME = '<script>alert(1)</script>';
const TOKEN = 'e2e-window-token-7f3a9c1d2b';
/** A breaker opened by the run stays open for the whole file. */
const RUN_ENV = { CB_COOL_OFF_S: '3600', CB_ERROR_THRESHOLD: '2', RUN_CONCURRENCY: '2' };

let env: Record<string, string> = {};
let runId = 0;
let serve: CliChild | null = null;
let base = '';
let browser: Browser | null = null;
const dialogs: string[] = [];

const q = async <T extends Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<T[]> => (await db.pool().query<T>(sql, values)).rows;

/** `serve` on a free port; resolves with the child and its address once it listens. */
async function startServe(args: string[], extra: Record<string, string> = {}): Promise<{ child: CliChild; url: string }> {
  const child = spawnCli(['serve', '--port', '0', ...args], { ...env, ...extra });
  const m = await child.waitForStderr(/lead-enrich serve: (http:\/\/\S+)\/runs/);
  return { child, url: m[1]!.replace('0.0.0.0', '127.0.0.1') };
}

async function stop(child: CliChild): Promise<number | null> {
  child.process.kill('SIGTERM');
  return (await child.exited).code;
}

async function page(path: string, shot?: string): Promise<Page> {
  const p = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const res = await p.goto(`${base}${path}`);
  expect(res?.status()).toBe(200);
  if (shot) await p.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
  return p;
}

beforeAll(async () => {
  await ensureBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const w = await world({ seed: 5, profiles: { apify_linkedin: 'server_error' } });
  env = w.env(RUN_ENV);
  const lines = ['company_id,name,domain', `1,"${SCRIPT_NAME}",script-1.example`];
  for (let i = 2; i <= 10; i++) lines.push(`${i},"Window ${i} Ltd",${i % 4 === 0 ? 'thin' : 'rich'}-window-${i}.example`);
  const input = w.file('window.csv', `${lines.join('\n')}\n`);
  const r = await runCli(['run', '--tenant', String(TENANT), '--input', input], env);
  expect(r.code, r.stderr).toBe(0);
  runId = (await runsOf(db.pool(), TENANT))[0]!.runId;
  const started = await startServe([]);
  serve = started.child;
  base = started.url;
  if (HAS_CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless'] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await stop(serve)).toBe(0);
});

describe('lead-enrich serve, in Chromium', () => {
  it.skipIf(!HAS_CHROMIUM)('the runs list shows the run: tenant, status, progress', async () => {
    const p = await page('/runs', 'runs');
    const row = p.locator(`#runs tr[data-run="${runId}"]`);
    await expect(row.count()).resolves.toBe(1);
    const text = await row.innerText();
    expect(text).toContain(String(TENANT));
    expect(text).toContain('completed');
    expect(text).toContain('10/10');
    // The filters: another tenant has no run.
    await p.fill('input[name=tenant]', '9999');
    await p.click('button[type=submit]');
    await p.waitForURL(/tenant=9999/);
    await expect(p.locator(`#runs tr[data-run="${runId}"]`).count()).resolves.toBe(0);
    await p.close();
  });

  it.skipIf(!HAS_CHROMIUM)("the run page's histogram has a bar per reason with the database's counts", async () => {
    const expected = await q<{ reason: string; n: number }>(
      `SELECT reason, count(*)::int AS n FROM company_enrichment_runs, unnest(reasons) AS reason WHERE run_id = $1 GROUP BY reason`,
      [runId],
    );
    expect(expected.length).toBeGreaterThan(1);
    const p = await page(`/runs/${runId}`, 'run');
    const bars = await p.$$eval('#reasons-chart g.bar', (gs) =>
      gs.map((g) => ({ reason: g.getAttribute('data-reason'), n: Number(g.getAttribute('data-count')), width: Number(g.querySelector('rect')?.getAttribute('width')), label: g.querySelector('text')?.textContent })),
    );
    expect(bars.map((b) => ({ reason: b.reason, n: b.n })).sort((a, b) => a.reason!.localeCompare(b.reason!))).toEqual(
      expected.map((e) => ({ reason: e.reason, n: e.n })).sort((a, b) => a.reason.localeCompare(b.reason)),
    );
    for (const b of bars) {
      expect(b.label).toBe(b.reason);
      expect(b.width).toBeGreaterThan(0);
    }
    // The longest bar is the most frequent reason.
    const widest = bars.reduce((a, b) => (b.width > a.width ? b : a));
    expect(widest.n).toBe(Math.max(...bars.map((b) => b.n)));
    // A bar opens the companies with its reason.
    const reason = 'CIRCUIT_OPEN:apify_linkedin';
    const withIt = expected.find((e) => e.reason === reason)?.n;
    expect(withIt).toBeGreaterThan(0);
    await p.click(`#reasons-chart g.bar[data-reason="${reason}"] a`);
    await p.waitForURL(/reason=CIRCUIT_OPEN/);
    await expect(p.locator('#companies tbody tr[data-company]').count()).resolves.toBe(withIt);
    await p.close();
  });

  it.skipIf(!HAS_CHROMIUM)("a company's provenance opens with every field's step and source, and its contacts with their e-mail status", async () => {
    const p = await page(`/runs/${runId}`);
    await p.click('#companies tr[data-company="2"] a');
    await p.waitForURL(new RegExp(`/runs/${runId}/companies/2$`));
    await p.screenshot({ path: join(SHOTS, 'company.png'), fullPage: true });
    const [row] = await q<{ provenance: { field: string; step: string; source: string }[] }>('SELECT provenance FROM company_enrichment_runs WHERE run_id = $1 AND company_id = 2', [runId]);
    expect(row!.provenance.length).toBeGreaterThan(0);
    const shown = await p.$$eval('#provenance tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
    expect(shown).toEqual(row!.provenance.map((x) => [x.field, x.step, x.source]));
    const contacts = await q<{ email: string | null; email_status: string }>('SELECT email, email_status FROM contacts WHERE tenant_id = $1 AND company_id = 2 ORDER BY contact_id', [TENANT]);
    const shownContacts = await p.$$eval('#contacts tbody tr', (trs) => trs.map((tr) => [tr.children[2]?.textContent, tr.children[3]?.querySelector('.badge')?.textContent]));
    expect(shownContacts).toEqual(contacts.length ? contacts.map((c) => [c.email ?? '', c.email_status]) : [[undefined, undefined]]);
    await p.close();
  });

  it.skipIf(!HAS_CHROMIUM)('the breaker the run opened is shown open, and stays so when the page refreshes itself', async () => {
    const [last] = await q<{ to_state: string }>(`SELECT to_state FROM breaker_transitions WHERE tenant_id = $1 AND vendor = 'apify_linkedin' ORDER BY at DESC, id DESC LIMIT 1`, [TENANT]);
    expect(last?.to_state).toBe('open');
    const p = await page('/breakers', 'breakers');
    const row = p.locator(`#breakers tr[data-tenant="${TENANT}"][data-vendor="apify_linkedin"]`);
    await expect(row.getAttribute('data-state')).resolves.toBe('open');
    const before = await p.textContent('#refreshed');
    await expect.poll(() => p.textContent('#refreshed'), { timeout: 20_000, interval: 200 }).not.toBe(before);
    await expect(p.locator(`#breakers tr[data-tenant="${TENANT}"][data-vendor="apify_linkedin"]`).getAttribute('data-state')).resolves.toBe('open');
    expect(await row.innerText()).toMatch(/open/);
    await p.close();
  });

  it.skipIf(!HAS_CHROMIUM)('the company called <script> is text, on the run page and on its own, and runs nothing', async () => {
    const p = await page(`/runs/${runId}`);
    await expect(p.locator('#companies tr[data-company="1"] td.name').textContent()).resolves.toBe(SCRIPT_NAME);
    await p.click('#companies tr[data-company="1"] a');
    await p.waitForURL(/companies\/1$/);
    await expect(p.locator('dd.name').textContent()).resolves.toBe(SCRIPT_NAME);
    await p.screenshot({ path: join(SHOTS, 'script-company.png'), fullPage: true });
    expect(await p.$$eval('script', (ss) => ss.map((s) => s.getAttribute('src')))).toEqual(['/assets/window.js']);
    expect(dialogs).toEqual([]);
    await p.close();
  });

  it.skipIf(!HAS_CHROMIUM)('the queue page lists the jobs per run and the workers seen lately', async () => {
    const p = await page('/queue', 'queue');
    await expect(p.locator('#queue').count()).resolves.toBe(1);
    await expect(p.locator('#workers').count()).resolves.toBe(1);
    await p.close();
  });
});

describe('lead-enrich serve over HTTP', () => {
  it('/metrics, parsed, has the numbers of the run as the database has them', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const s = scrape(text);
    const [c] = await q<{ done: number; degraded: number }>(
      `SELECT count(*)::int AS done, count(*) FILTER (WHERE cardinality(reasons) > 0)::int AS degraded FROM company_enrichment_runs WHERE tenant_id = $1`,
      [TENANT],
    );
    expect(c!.done).toBe(10);
    expect(s.value('lead_enrich_recorded_companies_done', { tenant: String(TENANT) })).toBe(c!.done);
    expect(s.value('lead_enrich_recorded_companies_degraded', { tenant: String(TENANT) })).toBe(c!.degraded);
    const usage = await q<{ vendor: string; calls: string; errors: string; retries: string }>('SELECT vendor, calls, errors, retries FROM run_vendor_usage WHERE run_id = $1', [runId]);
    expect(usage.length).toBeGreaterThan(2);
    for (const u of usage) {
      expect(s.value('lead_enrich_recorded_vendor_calls', { tenant: String(TENANT), vendor: u.vendor }), u.vendor).toBe(Number(u.calls));
      expect(s.value('lead_enrich_recorded_vendor_errors', { tenant: String(TENANT), vendor: u.vendor }), u.vendor).toBe(Number(u.errors));
      expect(s.value('lead_enrich_recorded_vendor_retries', { tenant: String(TENANT), vendor: u.vendor }), u.vendor).toBe(Number(u.retries));
    }
    expect(s.value('lead_enrich_breaker_state', { tenant: String(TENANT), vendor: 'apify_linkedin', state: 'open' })).toBe(1);
    expect(s.value('lead_enrich_breaker_state', { tenant: String(TENANT), vendor: 'apify_linkedin', state: 'closed' })).toBe(0);
    const [crawl] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM run_event_logs WHERE stage = 'crawl' AND duration_ms IS NOT NULL`);
    expect(s.histogram('lead_enrich_recorded_stage_duration_seconds', { stage: 'crawl' })?.count).toBe(crawl!.n);
    expect(s.value('lead_enrich_runs', { status: 'completed' })).toBeGreaterThanOrEqual(1);
    // No company name, domain or run id in a label.
    expect(text).not.toContain('alert(1)');
    expect(text).not.toContain('window-');
    expect(text).not.toMatch(/\b(run|run_id|company)="/);
  });

  it('/healthz is ok; an unknown run is 404; a bad parameter is 400 with what is wrong', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const unknown = await fetch(`${base}/runs/999999`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('run 999999 does not exist');
    const bad = await fetch(`${base}/runs?status=nope`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('status expects one of running, completed, interrupted, failed');
  });
});

describe('the token rules', () => {
  it('another host than loopback without SERVE_TOKEN: exit 2 before anything listens, saying why', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--host 0.0.0.0 is not a loopback address: set SERVE_TOKEN');
  });

  it('with SERVE_TOKEN on 0.0.0.0: 401 without it, the pages with it, and the token in no output', async () => {
    const { child, url } = await startServe(['--host', '0.0.0.0'], { SERVE_TOKEN: TOKEN, LOG_LEVEL: 'debug' });
    try {
      for (const path of ['/runs', `/runs/${runId}`, '/breakers', '/queue', '/metrics']) {
        expect((await fetch(`${url}${path}`)).status, path).toBe(401);
        expect((await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong' } })).status, path).toBe(401);
        const ok = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(ok.status, path).toBe(200);
        expect(await ok.text()).not.toContain(TOKEN);
      }
      const viaQuery = await fetch(`${url}/runs?token=${TOKEN}`, { redirect: 'manual' });
      expect(viaQuery.status).toBe(303);
      expect(viaQuery.headers.get('location')).toBe('/runs');
      const cookie = viaQuery.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).not.toContain(TOKEN);
      expect((await fetch(`${url}/runs`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
    }
    expect(child.stderr()).toContain('window request'); // requests were logged (debug)...
    expect(child.stderr()).not.toContain(TOKEN); // ...without the token
    expect(child.stdout()).not.toContain(TOKEN);
  });
});

describe('lead-enrich worker --metrics-port', () => {
  it("serves /metrics and /healthz while it works: its counters are the run's", async () => {
    const w = await world({ seed: 9 });
    const workerEnv = w.env({ FLEET_POLL_MS: '100', RUN_CONCURRENCY: '2' });
    const input = w.file('worker.csv', companiesCsv(6, 'metered'));
    const queued = await runCli(['run', '--tenant', '152', '--input', input, '--enqueue-only'], workerEnv);
    expect(queued.code, queued.stderr).toBe(0);
    const queuedRun = Number(queued.stdout.trim());
    const worker = spawnCli(['worker', '--metrics-port', '0'], workerEnv);
    try {
      const m = await worker.waitForStderr(/metrics on (http:\/\/\S+)\/metrics/);
      const url = m[1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await waitFor(async () => ((await runsOf(db.pool(), 152))[0]?.status === 'completed' ? true : undefined), { what: 'the queued run completed', timeoutMs: 90_000, abandon: worker.exited });
      const s = scrape(await (await fetch(`${url}/metrics`)).text());
      const [c] = await q<{ done: number; degraded: number }>(
        `SELECT count(*)::int AS done, count(*) FILTER (WHERE cardinality(reasons) > 0)::int AS degraded FROM company_enrichment_runs WHERE run_id = $1`,
        [queuedRun],
      );
      expect(c!.done).toBe(6);
      expect(s.value('lead_enrich_companies_done_total', { tenant: '152' })).toBe(6);
      expect(s.value('lead_enrich_companies_degraded_total', { tenant: '152' }) ?? 0).toBe(c!.degraded);
      const crawls = s.samples('lead_enrich_vendor_calls_total').filter((x) => x.labels.vendor === 'crawler' && x.labels.tenant === '152');
      expect(crawls.reduce((n, x) => n + x.value, 0)).toBeGreaterThanOrEqual(6);
      expect(s.histogram('lead_enrich_stage_duration_seconds', { stage: 'crawl' })?.count).toBe(6);
      expect(s.value('lead_enrich_sink_backlog')).toBeGreaterThanOrEqual(0);
      expect((await fetch(`${url}/runs`)).status).toBe(404); // metrics only
    } finally {
      expect(await stop(worker)).toBe(0);
    }
  }, 120_000);
});

describe('npm start (the demo)', () => {
  // util-linux's script(1) gives the demo a terminal; Ctrl-C is typed into it.
  const SCRIPT = '/usr/bin/script';
  it.skipIf(!existsSync(SCRIPT))('on a terminal, ends by serving the window over its two runs until Ctrl-C, then exits 0', async () => {
    const command = `exec ${JSON.stringify(process.execPath)} bin/lead-enrich.js demo --companies 3 --port 0`;
    const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], { cwd: ROOT, env: childEnv({ DATABASE_URL: db.url(), LEAD_ENRICH_DATA_DIR: join(ROOT, 'test-output', 'demo-data'), LOG_LEVEL: 'silent' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const url = await waitFor(async () => /The operators' window: (http:\/\/\S+)\/runs/.exec(out)?.[1], { what: "the demo's window", timeoutMs: 180_000, abandon: exited });
      const ids = /runs: (\d+), (\d+)/.exec(out)!.slice(1).map(Number);
      const body = await (await fetch(`${url}/runs`)).text();
      for (const id of ids) expect(body).toContain(`data-run="${id}"`);
      expect((await fetch(`${url}/runs/${ids[1]}`)).status).toBe(200);
      child.stdin.write('\x03');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 240_000);
});
