// Success-path and refused-call cost of one guarded call versus a bare `await fn()`,
// cockatiel 3.2.1 `wrap(retry, circuitBreaker)` and opossum 9.0.0, in one process.
// Usage: npm run bench  [-- --rounds 7 --calls 100000]
import { performance } from 'node:perf_hooks';
import { BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, wrap } from 'cockatiel';
import CircuitBreaker from 'opossum';
import { systemClock } from '../dist/adapters/clock.js';
import { configFrom } from '../dist/config/index.js';
import { VendorError } from '../dist/domain/errors.js';
import { createGuardedCaller } from '../dist/streams/guardedCall.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 7);
const CALLS = arg('calls', 100_000);
const WARMUP_ROUNDS = 2;

const ok = () => Promise.resolve(1);
const failing = () => Promise.reject(new VendorError({ vendor: 'tavily', kind: 'auth', status: 401 }));
const config = configFrom({});
const ignore = () => {};
// What every enrichment step passes: the company actor's signal, never aborted here.
const signal = new AbortController().signal;

// --- contenders (all configured like the defaults: 3 attempts, threshold 3, 300 s cool-off) ---
const ours = createGuardedCaller({ config, clock: systemClock });
const notBroken = handleWhen((e) => !(e instanceof BrokenCircuitError));
const cockatiel = wrap(
  retry(notBroken, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 4000 }) }),
  circuitBreaker(notBroken, { halfOpenAfter: 300_000, breaker: new ConsecutiveBreaker(3) }),
);
const opossum = new CircuitBreaker(ok, { timeout: 15_000, errorThresholdPercentage: 50, resetTimeout: 300_000 });

// Refused-call set-ups: trip one breaker of each.
const cockatielOpen = wrap(
  retry(notBroken, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 0, maxDelay: 0 }) }),
  circuitBreaker(notBroken, { halfOpenAfter: 300_000, breaker: new ConsecutiveBreaker(3) }),
);
for (let i = 0; i < 3; i++) await cockatielOpen.execute(failing).catch(ignore);
for (let i = 0; i < 3; i++) await ours.call(2, 'tavily', failing).catch(ignore);

const cases = {
  'bare await fn()': async (n) => { for (let i = 0; i < n; i++) await ok(); },
  'lead-enrich call (Promise)': async (n) => { for (let i = 0; i < n; i++) await ours.call(1, 'tavily', ok); },
  'lead-enrich call, caller signal': async (n) => { for (let i = 0; i < n; i++) await ours.call(1, 'openai', ok, { signal }); },
  'cockatiel wrap(retry, circuitBreaker)': async (n) => { for (let i = 0; i < n; i++) await cockatiel.execute(ok); },
  'opossum fire()': async (n) => { for (let i = 0; i < n; i++) await opossum.fire(); },
  'refused: lead-enrich CircuitOpenError': async (n) => { for (let i = 0; i < n; i++) await ours.call(2, 'tavily', ok).catch(ignore); },
  'refused: cockatiel BrokenCircuitError': async (n) => { for (let i = 0; i < n; i++) await cockatielOpen.execute(ok).catch(ignore); },
};

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const t0 = performance.now();
    await run(CALLS);
    const ns = ((performance.now() - t0) * 1e6) / CALLS;
    if (round >= WARMUP_ROUNDS) samples[name].push(ns);
  }
}
// Sanity: the refused cases really were refused, the success cases really succeeded.
const refused = await ours.call(2, 'tavily', ok).then(() => false, (e) => e.name === 'CircuitOpenError');
const broken = await cockatielOpen.execute(ok).then(() => false, (e) => e instanceof BrokenCircuitError);
if (!refused || !broken) throw new Error('bench set-up: a breaker was not open');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = median(samples['bare await fn()']);
console.log(`node ${process.version}, ${CALLS} calls x ${ROUNDS} rounds (+${WARMUP_ROUNDS} warm-up), medians`);
console.log(`${'case'.padEnd(42)} ${'ns/call'.padStart(9)} ${'x bare'.padStart(7)}`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`${name.padEnd(42)} ${m.toFixed(0).padStart(9)} ${(m / bare).toFixed(2).padStart(7)}`);
}
