// One measured pipeline of the throughput benchmark, in its own process so that its RSS and heap
// are its own. Started by bench/throughput.js with `node --expose-gc`; talks to it over IPC:
//   in:  argv[2] = JSON {pipeline: 'ours'|'guarded'|'bare', companies, warmup, concurrency, tenantId, env,
//        heapSnapshotDir?, trace?}
//   out: {op: 'sim', cmd: 'reset'|'counts'} (answered with {op: 'sim', counts}), then {op: 'result', ...}
// `env` holds the simulator overrides (one origin per vendor), DATABASE_URL and LOG_LEVEL.
import { once, setMaxListeners } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import { createVendorAdapters } from '../dist/adapters/vendors.js';
import { systemClock } from '../dist/adapters/clock.js';
import { createBreakerRegistry } from '../dist/streams/breakerRegistry.js';
import { createGuardedCaller } from '../dist/streams/guardedCall.js';
import { createLogger } from '../dist/adapters/logger.js';
import { configFrom } from '../dist/config/index.js';
import { createRuntime } from '../dist/runtime.js';

const job = JSON.parse(process.argv[2]);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

/** The companies of one run: ids from `first`, domains the simulated sites answer for. */
function* companies(tenantId, first, count) {
  for (let i = first; i < first + count; i++) {
    yield { tenantId, companyId: i, name: `Bench Company ${i}`, domain: `bench-co-${i}.example` };
  }
}

// --- the simulator lives in the parent process; ask it through IPC ---------------------------------
let simReply = null;
process.on('message', (m) => {
  if (m.op === 'sim' && simReply) {
    const r = simReply;
    simReply = null;
    r(m.counts);
  }
});
const sim = (cmd) =>
  new Promise((resolve) => {
    simReply = resolve;
    process.send({ op: 'sim', cmd });
  });

// --- the bare pipeline: same adapters, same calls, a plain limit, no resilience (or only the guard) --
/**
 * Crawl; Tavily when the crawl is thin or failed; OpenAI; Apify (Lusha when Apify fails); ZeroBounce
 * once per new address, in order. No breaker, retry, timeout lane, machine, usage accounting or sink:
 * a failed call is just skipped over. With `guarded`, the same chain with every call through the
 * guarded caller and nothing else: the cost of the resilience core alone.
 */
function barePipeline(config, { guarded = false } = {}) {
  const a = createVendorAdapters(config);
  const signal = new AbortController().signal;
  setMaxListeners(0, signal); // every request in flight listens to it
  const quiet = (p) => p.catch(() => null);
  // `guarded`: every call through the runtime's guarded caller (breaker per tenant and vendor,
  // retries with backoff, attempt timeouts, the company deadline), as the enrichment's actors make them.
  const guard = guarded ? createGuardedCaller({ config, clock: systemClock, registry: createBreakerRegistry({ breaker: config.breaker, clock: systemClock, probeTimeoutMs: config.vendorTimeoutMs }) }) : null;
  const one = async (company) => {
    const deadline = systemClock.now() + config.companyDeadlineMs;
    const call = guard ? (vendor, fn) => quiet(guard.call(company.tenantId, vendor, fn, { deadline })) : (_vendor, fn) => quiet(fn(signal));
    const crawl = await call('crawler', (s) => a.crawler.crawl(company.domain, s));
    const search = !crawl || crawl.thin ? await call('tavily', (s) => a.tavily.search(`${company.name} ${company.domain}`, s)) : null;
    const hits = (search?.hits ?? []).map((h) => `${h.title}\n${h.url}\n${h.content}`);
    const text = [crawl?.text ?? '', search?.answer ?? '', ...hits].filter((t) => t.length > 0).join('\n\n');
    const extracted = await call('openai', (s) => a.openai.extract({ company, text }, s));
    const facts = extracted?.facts ?? {};
    let contacts = await call('apify_linkedin', (s) => a.apifyLinkedin.findContacts({ company, facts }, s));
    contacts ??= (await call('lusha', (s) => a.lusha.findContacts({ company, facts }, s))) ?? [];
    const emails = new Set();
    for (const raw of [...(crawl?.mailtos ?? []), ...contacts.map((c) => c.email)]) {
      const e = raw?.trim().toLowerCase();
      if (e) emails.add(e);
    }
    for (const email of emails) if (!(await call('zerobounce', (s) => a.zerobounce.verify(email, s)))) break;
  };
  return async (list, concurrency, onDone) => {
    const iterator = list[Symbol.iterator]();
    const lane = async () => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        await one(next.value);
        onDone();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  };
}

// --- measurement -------------------------------------------------------------------------------------
/** Busy CPU time of the whole machine in ms (Linux /proc/stat; null elsewhere): this process, the simulators and PostgreSQL. */
const machineBusyMs = () => {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
};
const heapNow = () => {
  const t0 = performance.now();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, pauseMs: performance.now() - t0 };
};
const mb = (b) => (b / 1048576).toFixed(1);

async function main() {
  const config = configFrom({ ...job.env, ODOO_URL: '' });
  const logFile = join(job.logDir, `${job.pipeline}-${job.latencyMs}ms-c${job.concurrency}${job.round ? `-r${job.round + 1}` : ''}.log`);
  const destination = pino.destination({ dest: logFile, sync: false });
  const logger = createLogger({ level: config.logLevel, destination });

  let runOnce;
  let close = async () => undefined;
  let sinkPending = () => 0;
  let done = 0;
  if (job.pipeline === 'bare' || job.pipeline === 'guarded') {
    const bare = barePipeline(config, { guarded: job.pipeline === 'guarded' });
    runOnce = (tenantId, first, count) => bare(companies(tenantId, first, count), job.concurrency, () => (done += 1));
  } else {
    const runtime = await createRuntime(config, { logger });
    close = () => runtime.close();
    sinkPending = () => runtime.sinkPending ?? runtime.sink.pending;
    runOnce = async (tenantId, first, count) => {
      const handle = runtime.run({ tenantId, companies: companies(tenantId, first, count), concurrency: job.concurrency, dryRun: false,
        onProgress: (p) => (done = p.done) });
      const output = await handle.done;
      if (output.status !== 'completed') throw new Error(`run ended ${output.status}: ${JSON.stringify(output)}`);
    };
  }

  // Warm-up (JIT, connection pools, database caches), not measured.
  await runOnce(job.tenantId, 1_000_000, job.warmup);
  await sim('reset');
  const base = heapNow();
  done = 0;

  // Sampling: RSS every 50 ms; the live heap (after a full GC) at 30, 50 and 70 % of the run, while
  // every lane is busy (steady state), with the companies done at each. Each forced GC pauses the
  // run; the pauses are reported. What a run keeps per company done is the live heap's slope
  // between the first and the last sample.
  let peakRss = process.memoryUsage().rss;
  const rssSamples = [];
  const heapSamples = [];
  const arrayBufferSamples = [];
  const doneSamples = [];
  const pendingSamples = [];
  let gcPauseMs = 0;
  const percents = [30, 50, 70];
  const marks = percents.map((p) => Math.floor((job.companies * p) / 100));
  // BENCH_TRACE=1: the memory after a full GC every 10 % of the run, on stderr.
  const traceMarks = job.trace ? Array.from({ length: 9 }, (_, i) => Math.floor((job.companies * (i + 1)) / 10)) : [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    rssSamples.push(rss);
    peakRss = Math.max(peakRss, rss);
    if (traceMarks.length > 0 && done >= traceMarks[0]) {
      traceMarks.shift();
      const t0 = performance.now();
      globalThis.gc();
      gcPauseMs += performance.now() - t0;
      const m = process.memoryUsage();
      console.error(`  trace ${job.pipeline} ${job.companies}: done ${done}, rss ${mb(rss)} MB (peak ${mb(peakRss)}), after GC heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB, external ${mb(m.external)} MB, array buffers ${mb(m.arrayBuffers)} MB, sink pending ${sinkPending()}`);
    }
    if (marks.length > 0 && done >= marks[0]) {
      marks.shift();
      pendingSamples.push(sinkPending());
      doneSamples.push(done);
      const s = heapNow();
      heapSamples.push(s.heap - base.heap);
      arrayBufferSamples.push(s.arrayBuffers - base.arrayBuffers);
      gcPauseMs += s.pauseMs;
      // Diagnosis: BENCH_HEAP_SNAPSHOT=<dir> writes a heap snapshot at every sample; diff the first
      // and the last with bench/heap-diff.js to see what the run keeps per company done.
      if (job.heapSnapshotDir) {
        const round = job.round ? `-r${job.round + 1}` : '';
        writeHeapSnapshot(join(job.heapSnapshotDir, `${job.pipeline}-${job.companies}-${job.latencyMs}ms-c${job.concurrency}${round}-${percents[heapSamples.length - 1]}pc.heapsnapshot`));
      }
    }
  }, 50);

  const cpu0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  const t0 = performance.now();
  await runOnce(job.tenantId, 1, job.companies);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const busy1 = machineBusyMs();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const counts = await sim('counts');
  await close();
  destination.flushSync();
  const medianOf = (list) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)] ?? null;
  const median = medianOf(heapSamples);
  const last = heapSamples.length - 1;
  process.send({
    op: 'result',
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    machineCpuMs: busy0 === null || busy1 === null ? null : busy1 - busy0,
    peakRssBytes: peakRss,
    medianRssBytes: medianOf(rssSamples),
    baselineHeapBytes: base.heap,
    liveHeapBytes: median,
    heapSamples,
    arrayBufferSamples,
    doneSamples,
    // Live heap gained per company done between the first and the last sample. (ArrayBuffers are
    // reported beside it, not in it: sockets' buffers alone swing them by megabytes between samples.)
    keptPerCompanyBytes: last > 0 ? (heapSamples[last] - heapSamples[0]) / (doneSamples[last] - doneSamples[0]) : null,
    sinkPendingSamples: pendingSamples,
    logBytes: statSync(logFile).size,
    gcPauseMs,
    counts,
  });
  await once(process, 'disconnect').catch(() => undefined);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
