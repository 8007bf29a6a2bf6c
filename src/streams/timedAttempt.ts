import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { classifyThrown } from '../domain/classify.js';
import { VendorError } from '../domain/errors.js';
import type { VendorName } from '../domain/vendor.js';

/** Timers as the guarded call sees them: the scheduler's, so tests run on virtual time. */
export interface TimerHost {
  /** Runs `fn` after `ms` milliseconds; returns a cancel function. Real timers are unref'd. */
  setTimer(fn: () => void, ms: number): () => void;
}

/**
 * The timer host of a scheduler: a plain (unref'd) `setTimeout` for the default asyncScheduler
 * — the same timer, without RxJS's per-action cost — and `scheduler.schedule` otherwise.
 */
export function timerHostFor(scheduler: SchedulerLike | undefined): TimerHost {
  if (scheduler === undefined || scheduler === asyncScheduler) {
    return {
      setTimer(fn, ms) {
        const handle = setTimeout(fn, ms);
        (handle as { unref?: () => void }).unref?.();
        return () => clearTimeout(handle);
      },
    };
  }
  return {
    setTimer(fn, ms) {
      const action = scheduler.schedule(fn, ms);
      return () => action.unsubscribe();
    },
  };
}

/** What {@link timedAttempt} needs to know of the call it is an attempt of. */
export interface TimedAttemptOptions {
  vendor: VendorName;
  /** The per-attempt timeout, in milliseconds. */
  timeoutMs: number;
  /** Whether a timeout of this vendor is `final` (never retried). */
  finalTimeout: boolean;
  /** The caller's cancellation: aborts the attempt's signal and ends the attempt at once. */
  signal?: AbortSignal | undefined;
  host: TimerHost;
}

/**
 * One attempt of a guarded call: `fn` gets an AbortSignal of its own, aborted with a
 * `TimeoutError` after `timeoutMs` (the attempt then fails as `timeout` "attempt timed out after
 * … ms") or with the caller's reason when the caller's signal fires (`timeout` "aborted").
 * Whatever `fn` throws, synchronously or not, is classified with {@link classifyThrown}; a
 * settlement after the attempt ended is ignored.
 */
export function timedAttempt<T>(fn: (signal: AbortSignal) => Promise<T>, options: TimedAttemptOptions): Promise<T> {
  const { vendor, timeoutMs, signal: callerSignal } = options;
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      cancelTimer();
      callerSignal?.removeEventListener('abort', onCallerAbort);
      return true;
    };
    const onCallerAbort = (): void => {
      controller.abort(callerSignal?.reason);
      if (finish()) reject(new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: callerSignal?.reason }));
    };
    const cancelTimer = options.host.setTimer(() => {
      controller.abort(new DOMException('attempt timed out', 'TimeoutError'));
      if (finish()) reject(new VendorError({ vendor, kind: 'timeout', detail: `attempt timed out after ${timeoutMs} ms`, final: options.finalTimeout }));
    }, timeoutMs);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const settle = (ok: boolean, value: unknown): void => {
      if (!finish()) return;
      if (ok) resolve(value as T);
      else reject(classifyThrown(vendor, value));
    };
    let result: Promise<T>;
    try {
      result = fn(controller.signal);
    } catch (error) {
      settle(false, error);
      return;
    }
    if (result !== null && typeof (result as { then?: unknown }).then === 'function') {
      result.then(
        (value) => settle(true, value),
        (error: unknown) => settle(false, error),
      );
    } else settle(true, result);
  });
}
