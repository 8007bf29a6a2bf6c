// Reading and recording one input: BENCH_INPUT_ROWS (1,000,000) CSV rows without company_id (ids
// derived, so collisions are probed) generated into a temporary file, read by `readCompanies` and
// recorded by `recordRunInputs` into a fresh database on DATABASE_URL's server (dropped at the end).
// Prints the peak RSS, heap and ArrayBuffers sampled every 50 ms, and after a GC at the end.
// Usage: npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --expose-gc bench/record-inputs.js
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { readCompanies } from '../dist/adapters/input.js';
import { migrate } from '../dist/adapters/postgres/migrate.js';
import { createRunStore } from '../dist/adapters/postgres/runs.js';

const ROWS = Number(process.env.BENCH_INPUT_ROWS ?? 1_000_000);
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `lead_enrich_inputbench_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'lead-enrich-inputbench-'));
const path = join(dir, 'companies.csv');
const out = createWriteStream(path);
out.write('name,domain\n');
for (let i = 0; i < ROWS; i++) if (!out.write(`Company ${i},c${i}.example.com\n`)) await once(out, 'drain');
out.end();
await once(out, 'finish');

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const pool = new pg.Pool({ connectionString: Object.assign(new URL(server), { pathname: `/${name}` }).toString(), max: 4 });
pool.on('error', () => undefined); // idle clients ended by the DROP DATABASE at the end
const peak = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
/** Heap plus ArrayBuffers after a GC, every 100,000 rows read: what recording retains. */
let retained = 0;
const sample = () => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
};
try {
  await migrate(pool);
  const runs = createRunStore(pool);
  const runId = await runs.createRun(1, {});
  let malformed = 0;
  // Both record shapes: `{ company }` before the ids moved into the database, the row itself after.
  let read = 0;
  async function* companies() {
    for await (const r of readCompanies(path, { tenantId: 1 })) {
      if ('company' in r) yield 'line' in r ? r : r.company;
      else malformed++;
      if (++read % 100_000 === 0 && globalThis.gc) {
        globalThis.gc();
        const m = process.memoryUsage();
        retained = Math.max(retained, m.heapUsed + m.arrayBuffers - base);
      }
    }
  }
  globalThis.gc?.();
  const before = process.memoryUsage();
  const base = before.heapUsed + before.arrayBuffers;
  const timer = setInterval(sample, 50);
  const t0 = performance.now();
  const recorded = await runs.recordRunInputs(runId, companies(), { onRefused: () => malformed++ });
  const s = (performance.now() - t0) / 1000;
  sample();
  globalThis.gc?.();
  const after = process.memoryUsage();
  clearInterval(timer);
  const mb = (n) => (n / 1024 / 1024).toFixed(1);
  console.log(`record-inputs: ${ROWS} rows (${mb(statSync(path).size)} MB), ${recorded} recorded, ${malformed} refused, in ${s.toFixed(1)} s`);
  console.log(`  before: rss ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB, arrayBuffers ${mb(before.arrayBuffers)} MB`);
  console.log(`  peak:   rss ${mb(peak.rss)} MB, heap ${mb(peak.heapUsed)} MB, arrayBuffers ${mb(peak.arrayBuffers)} MB`);
  console.log(`  retained while recording (heap + arrayBuffers after GC, above the start): max ${mb(retained)} MB`);
  console.log(`  after GC, input recorded: rss ${mb(after.rss)} MB, heap ${mb(after.heapUsed)} MB, arrayBuffers ${mb(after.arrayBuffers)} MB`);
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
