import type { Clock, Sleep } from '../domain/clock.js';

/** The real wall clock. The only place that reads real time for domain logic. */
export const systemClock: Clock = { now: () => Date.now() };

/** Real waiting: resolves after `ms`, or at once when `signal` aborts. Its timer does not keep the process alive. */
export const systemSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
