/**
 * Breakers brought back from their last persisted transition (BreakerRegistry.restoreFromTransitions),
 * on an injected clock: open or halfOpen come back open with their last opening, so the cool-off
 * goes on from there; closed ones and exempt vendors are left alone.
 */
import { describe, expect, it } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import type { BreakerTransition, LastBreakerTransition } from '../../src/domain/events.js';
import { OPENING_REASONS } from '../../src/machines/breaker.machine.js';
import { createBreakerRegistry } from '../../src/streams/breakerRegistry.js';

const T0 = Date.UTC(2026, 2, 1, 8);
const COOL_OFF_MS = 60_000;

function registry(env: Record<string, string> = {}) {
  const config = configFrom({ CB_ERROR_THRESHOLD: '2', CB_COOL_OFF_S: String(COOL_OFF_MS / 1000), VENDOR_TIMEOUT_MS: '1000', ...env });
  let now = T0;
  const clock = { now: () => now };
  const r = createBreakerRegistry({ breaker: config.breaker, clock, probeTimeoutMs: config.vendorTimeoutMs });
  const transitions: BreakerTransition[] = [];
  r.transitions$.subscribe((t) => transitions.push(t));
  return { r, transitions, setNow: (t: number) => void (now = t) };
}

const last = (over: Partial<LastBreakerTransition>): LastBreakerTransition => ({ tenantId: 1, vendor: 'tavily', state: 'open', at: T0, openedAt: T0, ...over });

describe('restoreFromTransitions', () => {
  it('an open breaker comes back open from its last opening: refused until the cool-off is over, then one probe closes it', () => {
    const { r, transitions, setNow } = registry();
    const openedAt = T0 - 10_000;
    setNow(T0);
    const restored = r.restoreFromTransitions([last({ state: 'open', at: openedAt + 5_000, openedAt })]);
    expect(restored).toEqual([{ tenantId: 1, vendor: 'tavily', state: 'open', consecutiveFailures: 2, openedAt }]);
    expect(r.list()).toEqual(restored);
    expect(transitions).toEqual([]); // open stays open: no transition
    expect(r.isClosed(1, 'tavily')).toBe(false);
    expect(r.admit(1, 'tavily')).toEqual({ status: 'refused', retryAt: openedAt + COOL_OFF_MS });
    setNow(openedAt + COOL_OFF_MS - 1);
    expect(r.admit(1, 'tavily').status).toBe('refused');
    setNow(openedAt + COOL_OFF_MS);
    const probe = r.admit(1, 'tavily');
    expect(probe.status).toBe('probe');
    expect(r.admit(1, 'tavily').status).toBe('refused'); // one probe at a time
    r.recordSuccess(1, 'tavily', probe);
    expect(transitions.map((t) => `${t.from}→${t.to} ${t.reason}`)).toEqual(['open→halfOpen cool_off_elapsed', 'halfOpen→closed probe_succeeded']);
    expect(r.isClosed(1, 'tavily')).toBe(true);
  });

  it('a halfOpen breaker (its probe died with its process) comes back open with a restored transition, and the next call probes', () => {
    const { r, transitions, setNow } = registry();
    const openedAt = T0 - 2 * COOL_OFF_MS;
    setNow(T0);
    r.restoreFromTransitions([last({ tenantId: 4, vendor: 'lusha', state: 'halfOpen', at: openedAt + COOL_OFF_MS, openedAt })]);
    expect(transitions).toEqual([{ tenantId: 4, vendor: 'lusha', from: 'halfOpen', to: 'open', at: T0, reason: 'restored' }]);
    // Its cool-off was over long ago: as of now it admits a probe.
    expect(r.list()).toEqual([{ tenantId: 4, vendor: 'lusha', state: 'halfOpen', consecutiveFailures: 2, openedAt }]);
    const probe = r.admit(4, 'lusha');
    expect(probe.status).toBe('probe');
    r.recordFailure(4, 'lusha', 'server', probe);
    expect(transitions.slice(1).map((t) => `${t.from}→${t.to} ${t.reason} ${t.at - T0}`)).toEqual(['open→halfOpen cool_off_elapsed 0', 'halfOpen→open probe_failed 0']);
    expect(r.admit(4, 'lusha')).toEqual({ status: 'refused', retryAt: T0 + COOL_OFF_MS });
  });

  it('a halfOpen breaker whose cool-off (as configured now) is not over stays refused until it is', () => {
    const { r, setNow } = registry({ CB_COOL_OFF_S: '600' });
    r.restoreFromTransitions([last({ state: 'halfOpen', at: T0 - 1_000, openedAt: T0 - 120_000 })]);
    expect(r.admit(1, 'tavily')).toEqual({ status: 'refused', retryAt: T0 - 120_000 + 600_000 });
    setNow(T0 - 120_000 + 600_000);
    expect(r.admit(1, 'tavily').status).toBe('probe');
  });

  it('without a known opening, the last transition\'s time is the opening', () => {
    const { r } = registry();
    r.restoreFromTransitions([last({ state: 'open', at: T0 - 1_000, openedAt: null })]);
    expect(r.admit(1, 'tavily')).toEqual({ status: 'refused', retryAt: T0 - 1_000 + COOL_OFF_MS });
  });

  it('leaves closed breakers and exempt vendors alone, and keeps (tenant, vendor) apart', () => {
    const { r, transitions } = registry({ CB_GLOBAL_EXEMPT_VENDORS: 'openai' });
    const restored = r.restoreFromTransitions([
      last({ tenantId: 1, vendor: 'tavily', state: 'closed' }),
      last({ tenantId: 1, vendor: 'openai', state: 'open' }),
      last({ tenantId: 2, vendor: 'tavily', state: 'open' }),
    ]);
    expect(restored.map((b) => `${b.tenantId}/${b.vendor}`)).toEqual(['2/tavily']);
    expect(r.list().map((b) => `${b.tenantId}/${b.vendor}`)).toEqual(['2/tavily']);
    expect(r.admit(1, 'tavily').status).toBe('admitted');
    expect(r.admit(1, 'openai').status).toBe('admitted');
    expect(r.admit(2, 'tavily').status).toBe('refused');
    expect(transitions).toEqual([]);
  });
});

describe('OPENING_REASONS', () => {
  it('are exactly the reasons of the transitions that set openedAt (what a restore takes as the last opening)', () => {
    const { r, transitions, setNow } = registry();
    // openedAt right after each transition (the registry's mirror is in sync when it emits).
    const openedAts: (number | null)[] = [];
    r.transitions$.subscribe(() => openedAts.push(r.list()[0]?.openedAt ?? null));
    let t = T0;
    const at = (ms: number, run: () => void): void => {
      setNow((t += ms));
      run();
    };
    const fail = (): void => r.recordFailure(1, 'tavily', 'server', r.admit(1, 'tavily'));
    // Threshold; a probe fails (reopens); a probe is abandoned (open, old openedAt); a probe is
    // presumed lost and replaced; a probe is answered.
    at(1, fail);
    at(1, fail);
    at(COOL_OFF_MS, fail);
    at(COOL_OFF_MS, () => r.recordAbandoned(1, 'tavily', r.admit(1, 'tavily')));
    at(1, () => void r.admit(1, 'tavily'));
    at(10 * COOL_OFF_MS, () => r.recordFailure(1, 'tavily', 'not_found', r.admit(1, 'tavily')));
    expect(transitions.map((tr) => tr.reason)).toEqual([
      'threshold', 'cool_off_elapsed', 'probe_failed', 'cool_off_elapsed', 'probe_abandoned', 'cool_off_elapsed', 'probe_lease_expired', 'probe_answered',
    ]);
    const changed = transitions.filter((_, i) => openedAts[i] !== (i === 0 ? null : openedAts[i - 1])).map((tr) => tr.reason);
    expect(changed).toEqual(['threshold', 'probe_failed']);
    expect([...OPENING_REASONS].sort()).toEqual([...new Set(changed)].sort());
  });
});
