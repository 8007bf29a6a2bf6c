import type { Clock } from '../domain/clock.js';
import { VendorError } from '../domain/errors.js';
import type { RateLimiterPort } from '../domain/quotas.js';
import type { BreakerVendor } from '../domain/vendor.js';
import type { TimerHost } from './timedAttempt.js';

/** What a wait for a vendor's turn or slot is bounded by. */
export interface WaitBounds {
  clock: Clock;
  host: TimerHost;
  /** Epoch ms of `clock`: a wait that would end at or after it is not started. */
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
}

const aborted = (vendor: BreakerVendor, signal: AbortSignal): VendorError =>
  new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: signal.reason });
const pastDeadline = (vendor: BreakerVendor, what: string): VendorError =>
  new VendorError({ vendor, kind: 'timeout', detail: `deadline passed waiting for ${what}` });

/** Sleeps `ms` on the host's timers; rejects at once (with `onAbort()`) when the signal fires. */
function sleep(ms: number, host: TimerHost, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const abort = (): void => {
      cancel();
      reject(onAbort());
    };
    const cancel = host.setTimer(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * Waits for one turn of `vendor` from the limiter (no request is sent meanwhile): asks, and when
 * there is none sleeps until the limiter says one may be free, and asks again. When the next turn
 * would come at or after the deadline, it sleeps until the deadline and fails as `timeout` "deadline
 * passed waiting for a rate-limit turn" (the company's deadline has then ended it: DEADLINE_EXCEEDED,
 * not a vendor failure); the caller's abort ends a wait at once as `timeout` "aborted". A limiter that fails
 * (its store unreachable and no insurance) lets the call go: the vendor's own 429 still protects it.
 *
 * @returns the milliseconds waited (0 when a turn was free at once)
 */
export async function waitForTurn(limiter: RateLimiterPort, vendor: BreakerVendor, bounds: WaitBounds): Promise<number> {
  const { clock, host, deadline, signal } = bounds;
  const start = clock.now();
  for (;;) {
    if (signal?.aborted) throw aborted(vendor, signal);
    const ms = await limiter.take(vendor).catch(() => 0);
    if (ms <= 0) return clock.now() - start;
    if (signal?.aborted) throw aborted(vendor, signal);
    if (deadline !== undefined && clock.now() + ms >= deadline) {
      // No turn before the deadline: the call ends when the deadline does, as the deadline says
      // (the company's DEADLINE_EXCEEDED), not earlier as if the vendor had failed.
      await sleep(Math.max(0, deadline - clock.now()), host, signal, () => aborted(vendor, signal!));
      throw pastDeadline(vendor, 'a rate-limit turn');
    }
    await sleep(ms, host, signal, () => aborted(vendor, signal!));
  }
}

/**
 * A bulkhead: at most `limit` holders at once, the others waiting in order (VENDOR_CONCURRENCY,
 * per vendor per process). A waiter gives up at its deadline (`timeout` "deadline passed waiting
 * for a VENDOR_CONCURRENCY slot") or on its caller's abort, and leaves the queue.
 */
export class Bulkhead {
  private active = 0;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(
    readonly vendor: BreakerVendor,
    readonly limit: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bulkhead limit must be an integer >= 1, got ${limit}`);
  }

  /** Holders now. */
  get inUse(): number {
    return this.active;
  }

  /** Waiters now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with the release function once a slot is held (at once when one is free). */
  acquire(bounds: WaitBounds): Promise<() => void> {
    const { clock, host, deadline, signal } = bounds;
    if (signal?.aborted) return Promise.reject(aborted(this.vendor, signal));
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    if (deadline !== undefined && clock.now() >= deadline) return Promise.reject(pastDeadline(this.vendor, 'a VENDOR_CONCURRENCY slot'));
    return new Promise<() => void>((resolve, reject) => {
      const cancelTimer = deadline === undefined ? () => undefined : host.setTimer(() => leave(pastDeadline(this.vendor, 'a VENDOR_CONCURRENCY slot')), deadline - clock.now());
      const onAbort = (): void => leave(aborted(this.vendor, signal!));
      const waiter = {
        grant: () => {
          cancelTimer();
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const leave = (error: VendorError): void => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant(); // the slot passes on: `active` stays
      else this.active -= 1;
    };
  }
}
