// Issue 14 item 7: vendor requests ÷ logical calls at 20 % and 60 % random 5xx faults, with and
// without the retry budget (RETRY_BUDGET_PERCENT 20, RETRY_BUDGET_MIN_PER_S 10, 10 s window), and
// the cost of the rate limiter per call when it never has to wait (memory; PostgreSQL too when
// DATABASE_URL is set). Time is a manual clock: 10 logical calls a millisecond, retries at once.
// Usage: npm run bench  (or node bench/quotas.js [--calls 200000] after npm run build)
import { performance } from 'node:perf_hooks';
import { queueScheduler } from 'rxjs';
import { createMemoryRateLimiter, createPgRateLimiter } from '../dist/adapters/rateLimiter.js';
import { configFrom } from '../dist/config/index.js';
import { VendorError } from '../dist/domain/errors.js';
import { createGuardedCaller } from '../dist/streams/guardedCall.js';
import { mulberry32 } from '../dist/sim/random.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg('calls', 200_000);
const PER_MS = 10;


async function amplification(faultRate, budgeted) {
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now };
  // Retries at once (no backoff wait), the breaker out of the way (exempt): only the budget limits retries.
  const config = configFrom({ RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '0', RETRY_MAX_DELAY_MS: '0', CB_GLOBAL_EXEMPT_VENDORS: 'tavily', VENDOR_RATE_LIMITS: '' });
  const guard = createGuardedCaller({ config, clock, scheduler: queueScheduler, random: () => 0.5, retryBudget: budgeted ? config.quotas.retryBudget : null });
  const random = mulberry32(14); // the same faults for every contender
  let requests = 0;
  const fn = () => {
    requests += 1;
    return random() < faultRate ? Promise.reject(new VendorError({ vendor: 'tavily', kind: 'server', status: 503 })) : Promise.resolve(1);
  };
  for (let i = 0; i < CALLS; i += PER_MS) {
    const batch = [];
    for (let j = 0; j < PER_MS; j++) batch.push(guard.call(1, 'tavily', fn).catch(() => undefined));
    await Promise.all(batch);
    now += 1;
  }
  return requests / CALLS;
}

console.log(`vendor requests ÷ logical calls (${CALLS} calls, ${PER_MS} a millisecond, RETRY_MAX_ATTEMPTS 3, 5xx at random)`);
console.log('| faults | without the retry budget | with it (20 % + 10/s over 10 s) |');
console.log('|---|---|---|');
for (const rate of [0.2, 0.6]) {
  const without = await amplification(rate, false);
  const withBudget = await amplification(rate, true);
  console.log(`| ${rate * 100} % | ${without.toFixed(3)} | ${withBudget.toFixed(3)} |`);
}

// --- the limiter's cost per call when it never waits ---
const N = arg('limiter-calls', 100_000);
const ROUNDS = 5;
const ok = () => Promise.resolve(1);
async function nsPerCall(guard, n) {
  const samples = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await guard.call(1, 'tavily', ok);
    if (r > 0) samples.push(((performance.now() - t0) * 1e6) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
const base = configFrom({ VENDOR_RATE_LIMITS: '' });
const clock = { now: () => Date.now() };
const plain = createGuardedCaller({ config: base, clock });
const memory = createGuardedCaller({ config: base, clock, limiter: createMemoryRateLimiter({ tavily: { points: 1_000_000, durationS: 1 } }) });
console.log('');
console.log(`the rate limiter's cost per guarded call when it never waits (median of ${ROUNDS} rounds)`);
console.log('| guarded call | ns per call |');
console.log('|---|---|');
const plainNs = await nsPerCall(plain, N);
const memoryNs = await nsPerCall(memory, N);
console.log(`| no rate for the vendor | ${plainNs.toFixed(0)} |`);
console.log(`| RateLimiterMemory turn | ${memoryNs.toFixed(0)} (+${(memoryNs - plainNs).toFixed(0)}) |`);
if (process.env.DATABASE_URL) {
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  try {
    await pool.query('SELECT 1 FROM vendor_rate_limits LIMIT 1');
    const shared = createGuardedCaller({ config: base, clock, limiter: createPgRateLimiter(pool, { tavily: { points: 1_000_000, durationS: 1 } }, { keyPrefix: `bench${process.pid}` }) });
    const pgNs = await nsPerCall(shared, 2_000);
    console.log(`| RateLimiterPostgres turn (one upsert) | ${pgNs.toFixed(0)} (+${(pgNs - plainNs).toFixed(0)}) |`);
    await pool.query(`DELETE FROM vendor_rate_limits WHERE key LIKE $1`, [`bench${process.pid}%`]);
  } catch (error) {
    console.log(`| RateLimiterPostgres | not measured: ${error.message} (a migrated DATABASE_URL is needed) |`);
  } finally {
    await pool.end();
  }
}
