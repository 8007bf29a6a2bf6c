/**
 * The fleet's breaker as one process drives it (src/streams/sharedBreakers.ts), over the store in
 * memory: what costs a round trip and what does not, what another process's write does to this
 * one's mirror, and what happens when the database is out.
 */
import { firstValueFrom, toArray, take, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import type { BreakerStateStore } from '../../src/domain/index.js';
import { createBreakerRegistry } from '../../src/streams/breakerRegistry.js';
import { createSharedBreakers } from '../../src/streams/sharedBreakers.js';
import { memoryBreakerStore } from '../support/memoryBreakerStore.js';

const T0 = Date.UTC(2026, 6, 1);
const logger = createLogger({ level: 'silent' });

function fleetOf(n: number, store: BreakerStateStore & { writes: unknown[] }, clock: { now(): number }) {
  let updates = 0;
  const counted: BreakerStateStore = { ...store, update: (...args) => ((updates += 1), store.update(...args)) };
  const members = Array.from({ length: n }, (_, i) =>
    createSharedBreakers({
      local: createBreakerRegistry({ breaker: { errorThreshold: 2, coolOffS: 10, exemptVendors: [] }, clock, probeTimeoutMs: 1_000 }),
      store: counted,
      owner: `w${i}`,
      clock,
      exempt: ['zerobounce'],
      logger,
    }),
  );
  return { members, updates: () => updates };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('shared breakers', () => {
  it('a closed breaker admits and takes successes with no round trip; a counting failure costs one', async () => {
    let now = T0;
    const store = memoryBreakerStore();
    const { members: [w0], updates } = fleetOf(1, store, { now: () => now });
    await w0!.start();
    for (let i = 0; i < 50; i++) {
      const a = w0!.admit(1, 'tavily');
      expect(a).toEqual({ status: 'admitted' });
      w0!.recordSuccess(1, 'tavily', a as never);
    }
    expect(updates()).toBe(0);
    w0!.recordFailure(1, 'tavily', 'not_found', { status: 'admitted' }); // does not count
    w0!.recordFailure(1, 'tavily', 'server', { status: 'admitted' });
    await settle();
    expect(updates()).toBe(1);
    expect(w0!.admit(1, 'zerobounce')).toEqual({ status: 'admitted' }); // exempt
    now += 1;
  });

  it("another worker's failures open this worker's mirror: it refuses with no request and no round trip", async () => {
    const now = T0;
    const store = memoryBreakerStore();
    const { members: [w0, w1], updates } = fleetOf(2, store, { now: () => now });
    await Promise.all([w0!.start(), w1!.start()]);
    const transitions = firstValueFrom(w0!.transitions$.pipe(take(1), toArray(), timeout(2_000)));
    w0!.recordFailure(1, 'lusha', 'server', { status: 'admitted' });
    await settle();
    w0!.recordFailure(1, 'lusha', 'timeout', { status: 'admitted' });
    await settle();
    expect(await transitions).toMatchObject([{ tenantId: 1, vendor: 'lusha', from: 'closed', to: 'open', reason: 'threshold', at: T0 }]);
    const before = updates();
    expect(w1!.admit(1, 'lusha')).toEqual({ status: 'refused', retryAt: T0 + 10_000 });
    expect(w1!.list()).toEqual([{ tenantId: 1, vendor: 'lusha', state: 'open', consecutiveFailures: 2, openedAt: T0 }]);
    expect(updates()).toBe(before);
  });

  it('after the cool-off, one worker gets the probe and the other is refused; the probe closes it for both', async () => {
    let now = T0;
    const store = memoryBreakerStore();
    const { members: [w0, w1] } = fleetOf(2, store, { now: () => now });
    await Promise.all([w0!.start(), w1!.start()]);
    for (const k of ['server', 'server'] as const) {
      w0!.recordFailure(2, 'tavily', k, { status: 'admitted' });
      await settle();
    }
    now = T0 + 10_000;
    const [p0, p1] = await Promise.all([w0!.admit(2, 'tavily'), w1!.admit(2, 'tavily')]);
    expect([p0!.status, p1!.status].sort()).toEqual(['probe', 'refused']);
    const [winner, probe] = p0!.status === 'probe' ? [w0!, p0!] : [w1!, p1!];
    winner.recordSuccess(2, 'tavily', probe);
    await settle();
    expect(w0!.admit(2, 'tavily')).toEqual({ status: 'admitted' });
    expect(w1!.admit(2, 'tavily')).toEqual({ status: 'admitted' });
    expect(store.writes.map((w) => `${w.state}:${w.probeOwner ?? '-'}`)).toEqual(['closed:-', 'open:-', `halfOpen:${probe === p0 ? 'w0' : 'w1'}`, 'closed:-']);
  });

  it('with the database out, the process decides alone: its failures open its own breaker, and nothing is lost', async () => {
    let now = T0;
    const store = memoryBreakerStore();
    const { members: [w0] } = fleetOf(1, store, { now: () => now });
    await w0!.start();
    store.down = true;
    const seen: string[] = [];
    w0!.transitions$.subscribe((t) => seen.push(`${t.from}->${t.to}`));
    w0!.recordFailure(3, 'openai', 'server', w0!.admit(3, 'openai') as never);
    await settle();
    w0!.recordFailure(3, 'openai', 'server', w0!.admit(3, 'openai') as never);
    await settle();
    expect(w0!.admit(3, 'openai')).toMatchObject({ status: 'refused' });
    now = T0 + 10_000;
    const probe = await w0!.admit(3, 'openai');
    expect(probe.status).toBe('probe');
    w0!.recordSuccess(3, 'openai', probe);
    await settle();
    expect(w0!.admit(3, 'openai')).toEqual({ status: 'admitted' });
    expect(seen).toEqual(['closed->open', 'open->halfOpen', 'halfOpen->closed']);
    await w0!.close();
  });
});
