import { setMaxListeners } from 'node:events';
import { asyncScheduler, type SchedulerLike } from 'rxjs';

/**
 * Per-attempt timeouts for the guarded call. Creating an AbortSignal costs microseconds in
 * Node 20 (several times a whole cockatiel call), so attempts that need no caller cancellation
 * share one AbortController and one timer per short window ("lane bucket"), the way Node
 * coalesces its own timer lists. An attempt in a bucket times out between
 * `timeoutMs - windowMs` and `timeoutMs` after it started; windowMs = min(50, timeoutMs / 64).
 */

/** Timers and time as the guarded call sees them: the scheduler's, so tests run on virtual time. */
export interface TimerHost {
  /** Milliseconds on the scheduler's clock. */
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. Real timers are unref'd. */
  setTimer(fn: () => void, ms: number): () => void;
}

/**
 * The timer host of a scheduler: plain (unref'd) `setTimeout` for the default asyncScheduler
 * — the same timers, without RxJS's per-action cost — and `scheduler.schedule` otherwise.
 */
export function timerHostFor(scheduler: SchedulerLike | undefined): TimerHost {
  if (scheduler === undefined || scheduler === asyncScheduler) {
    return {
      now: () => asyncScheduler.now(),
      setTimer(fn, ms) {
        const handle = setTimeout(fn, ms);
        (handle as { unref?: () => void }).unref?.();
        return () => clearTimeout(handle);
      },
    };
  }
  return {
    now: () => scheduler.now(),
    setTimer(fn, ms) {
      const action = scheduler.schedule(fn, ms);
      return () => action.unsubscribe();
    },
  };
}

/** An attempt waiting in a bucket; told once when its bucket times out. */
export interface TimedAttempt {
  onTimeout(): void;
}

/** A window of attempts sharing one AbortController and one timer. */
export class TimeoutBucket {
  readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  readonly attempts = new Set<TimedAttempt>();
  expired = false;

  constructor(readonly closesAt: number) {
    // Every request in flight in the window listens to this one signal: Node's default of 10
    // listeners would print a MaxListenersExceededWarning per bucket at any real concurrency.
    setMaxListeners(0, this.signal);
  }

  /** The attempt settled; it will not be told of the timeout. */
  leave(attempt: TimedAttempt): void {
    this.attempts.delete(attempt);
  }
}

/** Coalesced timeouts of one duration; see the module comment. */
export class TimeoutLane {
  private current: TimeoutBucket | null = null;
  private readonly windowMs: number;

  /**
   * @param timeoutMs the per-attempt timeout, in milliseconds (> 0)
   * @throws RangeError when timeoutMs is not a positive number
   */
  constructor(
    readonly timeoutMs: number,
    private readonly host: TimerHost,
    private readonly makeReason: () => unknown,
  ) {
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    this.windowMs = Math.min(50, timeoutMs / 64);
  }

  /** Puts an attempt into the open bucket (opening one if needed); its signal is the attempt's. */
  enter(attempt: TimedAttempt): TimeoutBucket {
    let bucket = this.current;
    if (bucket === null || bucket.expired || this.host.now() >= bucket.closesAt) {
      const now = this.host.now();
      const fresh = new TimeoutBucket(now + this.windowMs);
      this.host.setTimer(() => this.expire(fresh), this.timeoutMs);
      bucket = this.current = fresh;
    }
    bucket.attempts.add(attempt);
    return bucket;
  }

  private expire(bucket: TimeoutBucket): void {
    bucket.expired = true;
    if (this.current === bucket) this.current = null;
    if (bucket.attempts.size === 0) return;
    bucket.controller.abort(this.makeReason());
    for (const attempt of bucket.attempts) attempt.onTimeout();
    bucket.attempts.clear();
  }
}
