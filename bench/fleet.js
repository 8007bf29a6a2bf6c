// The fleet (issue 13 item 6): throughput of 1, 2 and 4 `lead-enrich worker` processes on one
// PostgreSQL against simulators that answer in BENCH_FLEET_LATENCY ms (200), as companies/s of
// enrichment and as a ratio to N × one worker (target >= 0.9 N); and the Apify requests of an
// outage (Apify down throughout) at 1 worker of concurrency 6 and 3 workers of 2 (target: equal).
// Usage: npm run build && node bench/fleet.js
// Knobs: BENCH_FLEET_COMPANIES (600), BENCH_FLEET_CONCURRENCY (16 per worker), BENCH_FLEET_WORKERS (1,2,4),
// BENCH_FLEET_LATENCY (200), BENCH_FLEET_OUTAGE (1; 0 leaves the outage out), DATABASE_URL (a server: a fresh database is created and dropped; unset:
// the embedded PostgreSQL in a temporary directory).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openBenchDatabase } from './database.js';
import { startSimulator } from '../dist/sim/index.js';

const env = process.env;
const COMPANIES = Number(env.BENCH_FLEET_COMPANIES ?? 600);
const CONCURRENCY = Number(env.BENCH_FLEET_CONCURRENCY ?? 16);
const WORKERS = (env.BENCH_FLEET_WORKERS ?? '1,2,4').split(',').map(Number);
const LATENCY = Number(env.BENCH_FLEET_LATENCY ?? 200);
const CLI = fileURLToPath(new URL('../bin/lead-enrich.js', import.meta.url));


function cli(args, environment) {
  const child = spawn(process.execPath, [CLI, ...args], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`lead-enrich ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
    return stdout;
  });
}

const tmp = await mkdtemp(join(os.tmpdir(), 'lead-enrich-bench-fleet-'));
const db = await openBenchDatabase(tmp);
const pool = new pg.Pool({ connectionString: db.url, max: 2 });
const sim = await startSimulator({ seed: 11, latencyMs: LATENCY });
const base = {
  ...process.env,
  DATABASE_URL: db.url,
  LEAD_ENRICH_DATA_DIR: join(tmp, 'lead-enrich'),
  ...sim.overrides,
  ODOO_URL: '',
  LOG_LEVEL: 'warn',
  COMPANY_DEADLINE_MS: String(Math.max(30_000, LATENCY * 40)),
  FLEET_POLL_MS: '200',
  // The fleet is measured, not the vendors' plans: no rate limit and no bulkhead unless asked for.
  VENDOR_RATE_LIMITS: env.VENDOR_RATE_LIMITS ?? '',
  VENDOR_CONCURRENCY: env.VENDOR_CONCURRENCY ?? '',
};
let tenant = 900;

/** Queues a run of `n` companies, works it with `workers` processes of `concurrency`; its enrichment window. */
async function fleetRun(n, workers, concurrency, extra = {}, profiles = {}) {
  tenant += 1;
  const environment = { ...base, ...extra };
  const input = join(tmp, `fleet-${tenant}.csv`);
  const lines = ['company_id,name,domain'];
  for (let i = 1; i <= n; i++) lines.push(`${i},"Fleet ${tenant} ${i} Ltd",fleet${tenant}-${i}.example`);
  await writeFile(input, `${lines.join('\n')}\n`);
  const runId = Number((await cli(['run', '--tenant', String(tenant), '--input', input, '--enqueue-only'], environment)).trim());
  sim.reset();
  for (const [vendor, profile] of Object.entries(profiles)) sim.setProfile(vendor, profile);
  await Promise.all(Array.from({ length: workers }, () => cli(['worker', '--concurrency', String(concurrency), '--until-idle'], environment)));
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n, (extract(epoch FROM max(finished_at) - min(started_at)))::float8 AS s,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))::float8 AS company_s
       FROM company_enrichment_runs WHERE run_id = $1`,
    [runId],
  );
  const { rows: status } = await pool.query('SELECT status FROM enrichment_runs WHERE run_id = $1', [runId]);
  if (rows[0].n !== n || status[0].status !== 'completed') throw new Error(`run ${runId}: ${rows[0].n} of ${n} companies, ${status[0].status}`);
  return { runId, seconds: rows[0].s, perSecond: n / rows[0].s, companySeconds: rows[0].company_s };
}

const OUTAGE = env.BENCH_FLEET_OUTAGE !== '0';
try {
  console.log(`fleet bench: ${COMPANIES} companies per run, ${CONCURRENCY} per worker, simulators at ${LATENCY} ms, node ${process.version}, ${os.cpus().length} cores`);
  console.log(`${'workers'.padEnd(8)} ${'seconds'.padStart(8)} ${'c/s'.padStart(7)} ${'÷ N×1'.padStart(7)} ${'company s p50'.padStart(14)}`);
  let one = null;
  for (const n of WORKERS) {
    const r = await fleetRun(COMPANIES, n, CONCURRENCY);
    one ??= n === 1 ? r.perSecond : null;
    const ratio = one === null ? '' : (r.perSecond / (n * one)).toFixed(2);
    console.log(`${String(n).padEnd(8)} ${r.seconds.toFixed(1).padStart(8)} ${r.perSecond.toFixed(1).padStart(7)} ${ratio.padStart(7)} ${r.companySeconds.toFixed(2).padStart(14)}`);
  }
  if (OUTAGE) await outage();
} finally {
  await pool.end();
  await sim.close();
  await db.drop();
  await rm(tmp, { recursive: true, force: true });
}

async function outage() {
  // An outage: Apify down throughout, the same total concurrency, a cool-off longer than the run.
  const outageEnv = { CB_ERROR_THRESHOLD: '3', RETRY_MAX_ATTEMPTS: '2', CB_COOL_OFF_S: '300', ENABLE_LUSHA_FALLBACK: 'false', RETRY_BASE_DELAY_MS: '20' };
  const requests = {};
  for (const [workers, concurrency] of [[1, 6], [3, 2]]) {
    await fleetRun(60, workers, concurrency, outageEnv, { apify_linkedin: 'server_error' });
    requests[workers] = sim.calls('apify_linkedin');
  }
  console.log(`outage (Apify down, total concurrency 6, 60 companies): Apify requests 1 worker ${requests[1]}, 3 workers ${requests[3]} (bound (3 + 6 - 1) x 2 = 16)`);
}
