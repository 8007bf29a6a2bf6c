// Throughput of a whole run (issue 6 item 9): N companies through crawl, Tavily when thin, OpenAI,
// Apify and ZeroBounce against the simulators (every vendor ok, keys set), persisted to PostgreSQL,
// next to a bare pipeline making the same calls with a plain concurrency limit and no resilience.
// Usage: npm run bench   (or node bench/throughput.js after npm run build)
// Knobs: BENCH_COMPANIES (10000), BENCH_WARMUP (500), BENCH_LATENCIES (0,50), BENCH_CONCURRENCIES
// (64,256), BENCH_ROUNDS (1; more alternate the pipelines and report medians), BENCH_LOG_LEVEL (info),
// BENCH_GUARDED (1; 0 leaves out the guarded pipeline), BENCH_NODE_FLAGS
// (node flags for every worker, space-separated), SINK_* (passed to the runs), BENCH_CPU_PROF (a directory: --cpu-prof of every worker),
// BENCH_HEAP_SNAPSHOT (a directory: a heap snapshot of every worker at 30, 50 and 70 % of its run; compare two
// with bench/heap-diff.js), BENCH_SIZES (run sizes measured one after the other, e.g. 10000,100000: the
// memory table sets them side by side; default BENCH_COMPANIES alone), BENCH_TRACE (1: each worker prints its
// memory after a full GC every 10 % of its run), DATABASE_URL (a server: a fresh database is created and dropped;
// unset: the embedded PostgreSQL in a temporary directory).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openBenchDatabase } from './database.js';
import { migrate } from '../dist/adapters/postgres/migrate.js';
import { startSimulator, SIM_VENDORS } from '../dist/sim/index.js';

const env = process.env;
const list = (value, fallback) => (value ? value.split(',').map(Number) : fallback);
const SIZES = list(env.BENCH_SIZES, [Number(env.BENCH_COMPANIES ?? 10_000)]);
const WARMUP = Number(env.BENCH_WARMUP ?? Math.min(500, ...SIZES));
const LATENCIES = list(env.BENCH_LATENCIES, [0, 50]);
const CONCURRENCIES = list(env.BENCH_CONCURRENCIES, [64, 256]);
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'info';
const NODE_FLAGS = env.BENCH_NODE_FLAGS ? env.BENCH_NODE_FLAGS.split(' ') : [];
// `guarded` (the bare chain through the guarded caller only) splits the cost: resilience core vs the rest.
// `before` (BENCH_BASELINE=<a built checkout of an earlier commit>): that checkout's `ours`, in the
// same run, on the same database and simulators: before/after figures side by side.
const BASELINE = env.BENCH_BASELINE ? fileURLToPath(new URL(`file://${env.BENCH_BASELINE.replace(/\/?$/, '/')}bench/throughput-worker.js`)) : null;
const PIPELINES = ['bare', ...(env.BENCH_GUARDED === '0' ? [] : ['guarded']), ...(BASELINE ? ['before'] : []), 'ours'];
const ROUNDS = Number(env.BENCH_ROUNDS ?? 1);
const TARGET = { ratio: 0.8, floorSlack: 1.15, heapPerCompany: 20 * 1024 };
// The pipeline is measured, not the vendors' plans: no rate limit and no bulkhead unless asked for
// (the defaults hold Tavily to 100 calls a minute, which would be the whole measurement).
const QUOTAS = { VENDOR_RATE_LIMITS: env.VENDOR_RATE_LIMITS ?? '', VENDOR_CONCURRENCY: env.VENDOR_CONCURRENCY ?? '' };
const WORKER = fileURLToPath(new URL('./throughput-worker.js', import.meta.url));


// --- simulators: one per party, so that every vendor has its own origin as in production -----------
async function startSimulators(latencyMs) {
  const sims = Object.fromEntries(await Promise.all(SIM_VENDORS.map(async (v) => [v, await startSimulator({ seed: 7, latencyMs })])));
  const overrides = {};
  const take = (vendor, prefixes) => {
    for (const [k, value] of Object.entries(sims[vendor].overrides)) if (prefixes.some((p) => k.startsWith(p))) overrides[k] = value;
  };
  take('tavily', ['TAVILY_']);
  take('openai', ['OPENAI_']);
  take('zerobounce', ['ZEROBOUNCE_']);
  take('lusha', ['LUSHA_']);
  take('apify_linkedin', ['APIFY_']);
  take('crawler', ['CRAWL_']);
  return {
    overrides,
    reset: () => Object.entries(sims).forEach(([, s]) => s.reset()),
    counts: () => Object.fromEntries(SIM_VENDORS.map((v) => [v, sims[v].calls(v)])),
    close: () => Promise.all(Object.values(sims).map((s) => s.close())),
  };
}

async function measure(job, sims) {
  const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`, `--cpu-prof-name=${job.pipeline}-${job.latencyMs}ms-c${job.concurrency}${job.round ? `-r${job.round + 1}` : ''}.cpuprofile`] : [];
  const script = job.pipeline === 'before' ? BASELINE : WORKER;
  const child = fork(script, [JSON.stringify(job.pipeline === 'before' ? { ...job, pipeline: 'ours' } : job)], { execArgv: ['--expose-gc', ...NODE_FLAGS, ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let result = null;
  child.on('message', (m) => {
    if (m.op === 'sim') {
      if (m.cmd === 'reset') sims.reset();
      child.send({ op: 'sim', counts: sims.counts() });
    } else if (m.op === 'result') {
      result = m;
      child.disconnect();
    }
  });
  const [code] = await once(child, 'exit');
  if (!result) throw new Error(`${job.pipeline} worker exited with ${code} and no result`);
  return result;
}

const mb = (b) => (b / 1024 / 1024).toFixed(0);
const kb = (b) => (b / 1024).toFixed(1);

async function main() {
  const started = Date.now();
  const tmp = await mkdtemp(join(os.tmpdir(), 'lead-enrich-bench-'));
  const db = await openBenchDatabase(tmp);
  const rows = [];
  try {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await migrate(pool);
    await pool.end();
    console.log(`throughput: ${SIZES.join(', ')} companies per run (+${WARMUP} warm-up), node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${db.where}, LOG_LEVEL=${LOG_LEVEL}`);
    let tenantId = 100;
    for (const latencyMs of LATENCIES) {
      const sims = await startSimulators(latencyMs);
      try {
        for (const concurrency of CONCURRENCIES) for (const companies of SIZES) {
          // Rounds alternate the pipelines; each pipeline's median round (by wall time) is reported.
          const runs = Object.fromEntries(PIPELINES.map((p) => [p, []]));
          for (let round = 0; round < ROUNDS; round++) {
            const one = { latencyMs, concurrency, companies };
            for (const pipeline of PIPELINES) {
              sims.reset();
              // SINK_* variables pass through, to try other batch sizes without editing anything.
              const sinkEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('SINK_')));
              const jobEnv = { ...sims.overrides, ...sinkEnv, ...QUOTAS, DATABASE_URL: db.url, LOG_LEVEL, RUN_CONCURRENCY: String(concurrency) };
              one[pipeline] = await measure({ pipeline, round, companies, warmup: WARMUP, concurrency, latencyMs, tenantId: tenantId++, env: jobEnv, logDir: tmp, heapSnapshotDir: env.BENCH_HEAP_SNAPSHOT, trace: env.BENCH_TRACE === '1' }, sims);
              runs[pipeline].push(one[pipeline]);
            }
            report([one], false);
          }
          const median = (list) => [...list].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((list.length - 1) / 2)];
          const row = { latencyMs, concurrency, companies, ...Object.fromEntries(PIPELINES.map((p) => [p, median(runs[p])])) };
          if (ROUNDS > 1) row.ratios = runs.ours.map((o, i) => runs.bare[i].wallMs / o.wallMs);
          rows.push(row);
        }
      } finally {
        await sims.close();
      }
    }
  } finally {
    await db.drop();
    await rm(tmp, { recursive: true, force: true });
  }
  report(rows, true);
  console.log(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function derive(r) {
  const { bare, ours } = r;
  for (const p of [bare, ours, r.guarded].filter(Boolean)) {
    p.callsPerCompany = Object.values(p.counts).reduce((a, b) => a + b, 0) / r.companies;
    p.rate = r.companies / (p.wallMs / 1000);
  }
  const floorS = r.latencyMs > 0 ? (r.companies / r.concurrency) * ours.callsPerCompany * (r.latencyMs / 1000) : null;
  return {
    same: JSON.stringify(bare.counts) === JSON.stringify(ours.counts),
    ratio: ours.rate / bare.rate,
    floorS,
    vsFloor: floorS ? ours.wallMs / 1000 / floorS : null,
    bareVsFloor: floorS ? bare.wallMs / 1000 / floorS : null,
    heapOurs: ours.liveHeapBytes / r.concurrency,
    heapBare: bare.liveHeapBytes / r.concurrency,
  };
}

const machineCpu = (p, n) => (p.machineCpuMs === null ? '–' : (p.machineCpuMs / n).toFixed(2));
// The run size as the first cell of a row, when several sizes are measured.
const sizeCell = (r) => (SIZES.length > 1 ? `${r.companies} | ` : '');
const sizeHead = SIZES.length > 1 ? ['| companies ', '|---:'] : ['', ''];

function report(rows, final) {
  const ok = (b) => (b ? 'met' : 'MISSED');
  if (!final) {
    for (const r of rows) {
      const d = derive(r);
      const { bare, ours } = r;
      console.log(`  ${r.companies} companies, ${r.latencyMs} ms, concurrency ${r.concurrency}: bare ${bare.rate.toFixed(0)} c/s,${r.guarded ? ` guarded ${r.guarded.rate.toFixed(0)} c/s,` : ''} ours ${ours.rate.toFixed(0)} c/s, sink pending at the heap samples ${ours.sinkPendingSamples.join('/')}, log ${kb(ours.logBytes)} KB, calls ${JSON.stringify(ours.counts)}${d.same ? '' : ` (bare ${JSON.stringify(bare.counts)}: CALL COUNTS DIFFER)`}`);
    }
    return;
  }
  console.log('');
  console.log(sizeHead[0] + '| latency | concurrency | bare c/s | ours c/s | ours/bare (≥ 0.8) | calls/company | floor s | bare s (× floor) | ours s (× floor, ≤ 1.15) | peak RSS MB bare/ours | heap KB per in-flight bare/ours (≤ 20) | CPU ms/company bare/ours | machine CPU ms/company bare/ours |');
  console.log(sizeHead[1] + '|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---|---:|---:|');
  for (const r of rows) {
    const { bare, ours } = r;
    const d = derive(r);
    console.log(
      `| ${sizeCell(r)}${r.latencyMs} ms | ${r.concurrency} | ${bare.rate.toFixed(0)} | ${ours.rate.toFixed(0)} | ${d.ratio.toFixed(2)} ${ok(d.ratio >= TARGET.ratio)} | ${ours.callsPerCompany.toFixed(2)}${d.same ? '' : ' (DIFFER)'} | ` +
        `${d.floorS ? d.floorS.toFixed(1) : '–'} | ${(bare.wallMs / 1000).toFixed(1)}${d.bareVsFloor ? ` (${d.bareVsFloor.toFixed(2)})` : ''} | ` +
        `${(ours.wallMs / 1000).toFixed(1)}${d.vsFloor ? ` (${d.vsFloor.toFixed(2)}) ${ok(d.vsFloor <= TARGET.floorSlack)}` : ''} | ${mb(bare.peakRssBytes)}/${mb(ours.peakRssBytes)} | ` +
        `${kb(d.heapBare)}/${kb(d.heapOurs)} ${ok(d.heapOurs <= TARGET.heapPerCompany)} | ${(bare.cpuMs / r.companies).toFixed(2)}/${(ours.cpuMs / r.companies).toFixed(2)} | ${machineCpu(bare, r.companies)}/${machineCpu(ours, r.companies)} |`,
    );
  }
  // Marginal heap: the slope between the lowest and highest concurrency at one latency, which leaves
  // out what does not grow with the number of companies in flight (code, caches, the sink's buffer).
  for (const latencyMs of LATENCIES) for (const companies of SIZES) {
    const at = rows.filter((r) => r.latencyMs === latencyMs && r.companies === companies).sort((a, b) => a.concurrency - b.concurrency);
    if (at.length < 2) continue;
    const [lo, hi] = [at[0], at[at.length - 1]];
    const slope = (p) => (hi[p].liveHeapBytes - lo[p].liveHeapBytes) / (hi.concurrency - lo.concurrency);
    console.log(`marginal heap per in-flight company at ${latencyMs} ms, ${companies} companies (concurrency ${lo.concurrency} → ${hi.concurrency}): bare ${kb(slope('bare'))} KB, ours ${kb(slope('ours'))} KB ${ok(slope('ours') <= TARGET.heapPerCompany)}`);
  }
  if (rows.some((r) => r.guarded)) {
    // Where ours' extra cost goes: the guarded caller alone (breakers, retries, timeouts) against the
    // rest of ours (the enrichment machine, usage accounting, persistence, the run's bookkeeping).
    console.log('');
    console.log(sizeHead[0] + '| latency | concurrency | bare c/s | guarded c/s | guarded/bare | ours c/s | ours/guarded | CPU ms/company bare/guarded/ours | heap KB per in-flight bare/guarded/ours |');
    console.log(sizeHead[1] + '|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows.filter((x) => x.guarded)) {
      const { bare, guarded, ours } = r;
      derive(r);
      const cpu = (p) => (p.cpuMs / r.companies).toFixed(2);
      const heap = (p) => kb(p.liveHeapBytes / r.concurrency);
      console.log(
        `| ${sizeCell(r)}${r.latencyMs} ms | ${r.concurrency} | ${bare.rate.toFixed(0)} | ${guarded.rate.toFixed(0)}${JSON.stringify(guarded.counts) === JSON.stringify(bare.counts) ? '' : ' (CALL COUNTS DIFFER)'} | ${(guarded.rate / bare.rate).toFixed(2)} | ${ours.rate.toFixed(0)} | ${(ours.rate / guarded.rate).toFixed(2)} | ` +
          `${cpu(bare)}/${cpu(guarded)}/${cpu(ours)} | ${heap(bare)}/${heap(guarded)}/${heap(ours)} |`,
      );
    }
  }
  const spread = rows.filter((r) => r.ratios);
  if (spread.length > 0) {
    console.log(`ours/bare in each of the ${ROUNDS} rounds (the table shows each pipeline's median round): ` +
      spread.map((r) => `${r.latencyMs} ms/${r.concurrency}: ${r.ratios.map((x) => x.toFixed(2)).join(', ')}`).join('; '));
  }
  if (rows.some((r) => r.before)) {
    // Before/after (issue 12): the earlier checkout's run and this one's, next to the bare pipeline.
    console.log('');
    console.log(`before = ${env.BENCH_BASELINE}`);
    console.log(sizeHead[0] + '| latency | concurrency | c/s bare/before/ours | ours/bare before → after | CPU ms/company bare/before/ours | CPU × bare before → after | heap KB per in-flight bare/before/ours | heap × bare before → after |');
    console.log(sizeHead[1] + '|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows.filter((x) => x.before)) {
      const { bare, before, ours } = r;
      for (const p of [bare, before, ours]) p.rate = r.companies / (p.wallMs / 1000);
      const cpu = (p) => p.cpuMs / r.companies;
      const heap = (p) => p.liveHeapBytes / r.concurrency;
      console.log(
        `| ${sizeCell(r)}${r.latencyMs} ms | ${r.concurrency} | ${bare.rate.toFixed(0)}/${before.rate.toFixed(0)}/${ours.rate.toFixed(0)} | ${(before.rate / bare.rate).toFixed(2)} → ${(ours.rate / bare.rate).toFixed(2)} | ` +
          `${cpu(bare).toFixed(2)}/${cpu(before).toFixed(2)}/${cpu(ours).toFixed(2)} | ${(cpu(before) / cpu(bare)).toFixed(2)} → ${(cpu(ours) / cpu(bare)).toFixed(2)} | ` +
          `${kb(heap(bare))}/${kb(heap(before))}/${kb(heap(ours))} | ${(heap(before) / heap(bare)).toFixed(2)} → ${(heap(ours) / heap(bare)).toFixed(2)} |`,
      );
    }
  }
  console.log('sink events pending at the heap samples (ours): ' + rows.map((r) => `${r.companies}/${r.latencyMs} ms/${r.concurrency}: ${r.ours.sinkPendingSamples.join('/')}`).join('; '));
  memoryReport(rows);
}

/**
 * Memory by run size: a run must hold what a shorter one holds. Peak RSS is the largest of the
 * 50 ms samples, so it drifts up with the run's length by chance alone (GC timing); the median
 * RSS and the live heap after a full GC do not. "Kept per company done" is the live heap gained
 * per company between the 30 % and 70 % samples: a run that keeps something per company shows it
 * there whatever its size, a bounded one hovers around zero (± the sink's backlog at each sample,
 * a few hundred events of ~1.5 KB, over 40 % of the run's companies).
 */
function memoryReport(rows) {
  const pipelines = PIPELINES.filter((p) => rows.every((r) => r[p]));
  const pair = (r, f) => pipelines.map((p) => f(r[p])).join('/');
  console.log('');
  console.log(`memory by run size (${pipelines.join('/')}):`);
  console.log(`| latency | concurrency | companies | peak RSS MB | median RSS MB | live heap MB at 30/50/70 % | ArrayBuffers MB at 50 % | heap KB per in-flight | kept per company done, B |`);
  console.log('|---:|---:|---:|---:|---:|---|---:|---:|---:|');
  const sorted = [...rows].sort((a, b) => a.latencyMs - b.latencyMs || a.concurrency - b.concurrency || a.companies - b.companies);
  for (const r of sorted) {
    const heaps = pipelines.map((p) => r[p].heapSamples.map((h) => (h / 1024 / 1024).toFixed(1)).join('/')).join(' · ');
    const kept = (p) => (p.keptPerCompanyBytes === null ? '–' : p.keptPerCompanyBytes.toFixed(0));
    console.log(`| ${r.latencyMs} ms | ${r.concurrency} | ${r.companies} | ${pair(r, (p) => mb(p.peakRssBytes))} | ${pair(r, (p) => mb(p.medianRssBytes))} | ${heaps} | ${pair(r, (p) => ((p.arrayBufferSamples[1] ?? 0) / 1024 / 1024).toFixed(1))} | ${pair(r, (p) => kb(p.liveHeapBytes / r.concurrency))} | ${pair(r, kept)} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
