// The sink alone: BENCH_SINK_COMPANIES (3000) companies of 13 events each (7 stage events, 5 usage
// increments, the result), shaped like a run's, pushed as fast as the sink admits them, into a fresh
// database on DATABASE_URL's server (dropped at the end). SINK_BATCH_SIZE as in the runs (200).
// Usage: npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/sink.js
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { migrate } from '../dist/adapters/postgres/migrate.js';
import { createRunStore } from '../dist/adapters/postgres/runs.js';
import { createPgBatchWriter } from '../dist/adapters/postgres/writer.js';
import { createSink } from '../dist/streams/sink.js';
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `lead_enrich_sinkbench_${process.pid}`;
const admin = new pg.Client({ connectionString: server }); await admin.connect(); await admin.query(`CREATE DATABASE ${name}`);
const pool = new pg.Pool({ connectionString: Object.assign(new URL(server), { pathname: `/${name}` }).toString(), max: 4 });
pool.on('error', () => undefined); // idle connections ended by the DROP DATABASE below
try {
  await migrate(pool);
  const runId = await createRunStore(pool).createRun(1, {});
  const sink = createSink({ writer: createPgBatchWriter(pool), config: { batchSize: Number(process.env.SINK_BATCH_SIZE ?? 200), flushMs: 250, maxBuffer: 10000 } });
  const N = Number(process.env.BENCH_SINK_COMPANIES ?? 3000);
  const t0 = performance.now(); const c0 = process.cpuUsage();
  for (let i = 1; i <= N; i++) {
    for (let s = 0; s < 7; s++) await sink.push({ type: 'stage.event', runId, tenantId: 1, companyId: i, stage: `s${s}`, event: 'finish', status: 'ok', errorCode: null, durationMs: 12.5, extra: { fallback_taken: null, vendor: 'openai', error_kind: null, detail: null }, at: Date.now() });
    for (const v of ['crawler', 'tavily', 'openai', 'apify_linkedin', 'zerobounce']) await sink.push({ type: 'vendor.usage', runId, tenantId: 1, vendor: v, calls: 1, errors: 0, retries: 0, tokens: 100, costUsd: 0.001 });
    await sink.push({ type: 'company.finished', runId, tenantId: 1, startedAt: Date.now() - 1000, finishedAt: Date.now(), output: { companyId: i, tenantId: 1, degradedReasons: null, reasons: [], facts: { name: `Company ${i}`, industry: 'software', description: 'x'.repeat(400) }, contacts: [{ fullName: `Ada ${i}`, title: 'CTO', email: `ada${i}@c${i}.test`, linkedinUrl: null, source: 'apify_linkedin' }], emails: [{ email: `ada${i}@c${i}.test`, status: 'valid', source: 'apify_linkedin' }, { email: `info@c${i}.test`, status: 'unknown', source: 'crawler' }], provenance: Array.from({ length: 30 }, (_, k) => ({ field: `facts.f${k}`, step: 'extract', source: 'openai', at: new Date().toISOString() })), fallbacks: [], timings: [{ stage: 'crawl', durationMs: 10 }] } });
  }
  await sink.flush();
  const s = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(c0);
  console.log(`sink (batch ${process.env.SINK_BATCH_SIZE ?? 200}): ${N} companies, ${N * 13} events in ${s.toFixed(2)} s = ${(N * 13 / s).toFixed(0)} events/s, ${(N / s).toFixed(0)} companies/s, node CPU ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms/company`);
  await sink.close();
} finally { await pool.end(); await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end(); }
