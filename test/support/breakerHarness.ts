import type { SchedulerLike } from 'rxjs';
import { vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { configFrom } from '../../src/config/index.js';
import { VendorError, type ErrorKind } from '../../src/domain/errors.js';
import type { BreakerTransition } from '../../src/domain/events.js';
import type { VendorName } from '../../src/domain/vendor.js';
import { createBreakerRegistry, type PersistedBreaker } from '../../src/streams/breakerRegistry.js';
import type { GuardObserver } from '../../src/streams/guard.types.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';

/** What a fake vendor does on one attempt. */
export type Step = 'ok' | ErrorKind | 'hang';

/** A fake vendor call following a script (the last step repeats); records every request. */
export function scripted(vendor: VendorName, steps: Step[]) {
  const requests: { at: number; signal: AbortSignal }[] = [];
  const fn = (signal: AbortSignal): Promise<string> => {
    const step = steps[Math.min(requests.length, steps.length - 1)]!;
    requests.push({ at: Date.now(), signal });
    if (step === 'ok') return Promise.resolve(`ok#${requests.length}`);
    if (step === 'hang') return new Promise<string>(() => {});
    return Promise.reject(new VendorError({ vendor, kind: step }));
  };
  return { fn, requests };
}

/** A call left pending until the test settles it. */
export function deferred<T = string>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

export interface SystemOptions {
  env?: Record<string, string>;
  restore?: readonly PersistedBreaker[];
  observer?: GuardObserver;
  scheduler?: SchedulerLike;
}

/** A registry and a guarded caller on fake timers (Date.now is the injected clock). */
export function system(options: SystemOptions = {}) {
  const config = configFrom({ CB_ERROR_THRESHOLD: '3', CB_COOL_OFF_S: '10', VENDOR_TIMEOUT_MS: '1000', CRAWL_TIMEOUT_MS: '700', ...options.env });
  const clock = { now: () => Date.now() };
  const machineEvents: InspectionEvent[] = [];
  const registry = createBreakerRegistry({
    breaker: config.breaker,
    clock,
    probeTimeoutMs: config.vendorTimeoutMs,
    inspect: (e) => {
      if (e.type === '@xstate.event' && !e.event.type.startsWith('xstate.')) machineEvents.push(e);
    },
  });
  if (options.restore) registry.restore(options.restore);
  const transitions: BreakerTransition[] = [];
  registry.transitions$.subscribe((t) => transitions.push(t));
  const caller = createGuardedCaller({ config, clock, registry, random: () => 0.5, observer: options.observer, scheduler: options.scheduler });
  return { config, clock, registry, caller, transitions, machineEvents };
}

/** Lets a promise settle while advancing fake time timer by timer; returns its outcome. */
export async function settle<T>(promise: Promise<T>, maxSteps = 50): Promise<{ value?: T; error?: unknown }> {
  let outcome: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 0; outcome === undefined && i < maxSteps; i++) await vi.advanceTimersToNextTimerAsync();
  if (outcome === undefined) throw new Error('the call did not settle');
  return outcome;
}
