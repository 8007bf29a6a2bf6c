// What the registry saves by not sending the breaker events that change nothing
// (src/streams/breakerNoOps.ts): a guarded call's admission and success on a closed breaker, and a
// refusal while cooling off, through the registry, against the same calls as machine events.
// Usage: npm run build && node bench/breakers.js [--rounds 7 --calls 200000]
import { performance } from 'node:perf_hooks';
import { createActor } from 'xstate';
import { configFrom } from '../dist/config/index.js';
import { breakerMachine } from '../dist/machines/breaker.machine.js';
import { createBreakerRegistry } from '../dist/streams/breakerRegistry.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 7);
const CALLS = arg('calls', 200_000);
const WARMUP_ROUNDS = 2;

const config = configFrom({});
const clock = { now: () => Date.now() };
const registry = createBreakerRegistry({ breaker: config.breaker, clock });
for (let i = 0; i < config.breaker.errorThreshold; i++) registry.recordFailure(2, 'tavily', 'auth', registry.admit(2, 'tavily'));
const input = { errorThreshold: config.breaker.errorThreshold, coolOffMs: config.breaker.coolOffS * 1000, probeLeaseMs: config.breaker.coolOffS * 1000 + 15_000 };
const closed = createActor(breakerMachine, { input }).start();
const open = createActor(breakerMachine, { input }).start();
for (let i = 0; i < input.errorThreshold; i++) open.send({ type: 'call.failed', now: Date.now(), kind: 'auth' });
if (registry.admit(2, 'tavily').status !== 'refused' || open.getSnapshot().value !== 'open') throw new Error('bench set-up: a breaker was not open');

const cases = {
  'closed, registry: admit + recordSuccess': () => registry.recordSuccess(1, 'tavily', registry.admit(1, 'tavily')),
  'closed, machine: requested + succeeded': () => {
    closed.send({ type: 'call.requested', now: clock.now() });
    closed.send({ type: 'call.succeeded', now: clock.now() });
  },
  'open, registry: admit (refused)': () => registry.admit(2, 'tavily'),
  'open, machine: requested': () => open.send({ type: 'call.requested', now: clock.now() }),
};

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) run();
    if (round >= WARMUP_ROUNDS) samples[name].push(((performance.now() - t0) * 1e6) / CALLS);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, ${CALLS} calls x ${ROUNDS} rounds (+${WARMUP_ROUNDS} warm-up), medians`);
console.log(`${'case'.padEnd(42)} ${'ns/call'.padStart(9)}`);
for (const [name, xs] of Object.entries(samples)) console.log(`${name.padEnd(42)} ${median(xs).toFixed(0).padStart(9)}`);
