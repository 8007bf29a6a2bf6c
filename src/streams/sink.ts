import { randomUUID } from 'node:crypto';
import { asyncScheduler, bufferTime, concatMap, defer, filter, from, Subject, timer, type SchedulerLike, type Subscription } from 'rxjs';
import { retry } from 'rxjs/operators';
import type { Config } from '../config/index.js';
import type { BatchOutcome, BatchWriter, Logger, RunEvent } from '../domain/index.js';
import { assertPolicy, backoffDelay, type BackoffPolicy } from './backoff.js';

/** The persistence sink: the one way run events reach PostgreSQL. */
export interface Sink {
  /**
   * Hands one event to the sink. Resolves at once while the buffer has room; when it holds
   * `maxBuffer` uncommitted events, resolves only once enough have been committed (backpressure:
   * producers wait, nothing is dropped). Waiting producers are admitted in call order.
   *
   * @throws Error when the sink is closed
   */
  push(event: RunEvent): Promise<void>;
  /**
   * Hands a group of events to the sink that are committed in the same transaction or not at all
   * (a company's stage events, vendor usage and result): a batch never ends inside a group, so a
   * crash can never leave part of one in the database. The group is admitted as a whole (it may
   * take the buffer past `maxBuffer` by less than its own size), and a batch may exceed
   * `batchSize` by less than one group.
   *
   * @throws Error when the sink is closed
   */
  pushAll(events: readonly RunEvent[]): Promise<void>;
  /** Resolves when every event pushed before this call is committed. */
  flush(): Promise<void>;
  /**
   * Stops accepting events, writes what is buffered and resolves when it is committed. Retrying a
   * failing database stops at the deadline; the events not written are then reported by the error.
   *
   * @throws SinkClosedError when events remained unwritten at the deadline
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
  /** Events pushed and not yet committed (the waiting ones excluded). */
  readonly pending: number;
}

/** Options of {@link createSink}. */
export interface SinkOptions {
  /** SINK_BATCH_SIZE, SINK_FLUSH_MS, SINK_MAX_BUFFER. */
  config: Config['sink'];
  logger?: Logger;
  /** Scheduler of the batching window and retry delays; defaults to asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Writes one batch in one transaction (the PostgreSQL writer, `createPgBatchWriter`, in production). */
  writer: BatchWriter;
  /** Backoff of a failing batch ({@link backoffDelay}): first and largest delay, in milliseconds. Defaults 100 and 5000. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Randomness for the backoff jitter, in [0, 1). Defaults to Math.random. */
  random?: () => number;
  /** Default deadline of `close()`, in milliseconds. Default 30000. */
  closeDeadlineMs?: number;
}

/** Thrown by `close()` when the database stayed unreachable until the deadline. */
export class SinkClosedError extends Error {
  constructor(readonly unwritten: number) {
    super(`sink closed with ${unwritten} event(s) not written to the database`);
    this.name = 'SinkClosedError';
  }
}

interface Envelope {
  seq: number;
  event: RunEvent;
  /** False inside a group of {@link Sink.pushAll}: a batch may not end after this envelope. */
  last: boolean;
}

/** At most this many formed batches go out as one transaction when the sink is behind. */
export const COALESCE_BATCHES = 5;

/**
 * Creates the sink: one RxJS stream `events → bufferTime(flushMs, null, batchSize)`, then one batch
 * written at a time (batches that formed meanwhile coalesced, up to {@link COALESCE_BATCHES} of them).
 * Each batch is written in one transaction by the batch writer, under a batch id fixed when the batch
 * forms, so a retry after a lost acknowledgement is recognised and skipped (exactly-once effects,
 * vendor usage included). A failing batch is kept and retried with capped exponential backoff and
 * jitter ({@link backoffDelay}), forever until `close()`'s deadline, each failure logged; batches
 * commit in push order.
 *
 * @throws RangeError when `retry` is invalid (negative, or base above max)
 */
export function createSink(options: SinkOptions): Sink {
  const { config, logger } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const { writer } = options;
  const policy: BackoffPolicy = { baseDelayMs: options.retry?.baseDelayMs ?? 100, maxDelayMs: options.retry?.maxDelayMs ?? 5000 };
  assertPolicy(policy);
  const random = options.random ?? Math.random;

  const input = new Subject<Envelope>();
  let nextSeq = 0;
  let committedSeq = -1;
  let admitted = 0;
  let closed = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  let fatal: Error | null = null;
  const waiters: (() => void)[] = [];
  const flushes: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let done: () => void = () => undefined;
  const completed = new Promise<void>((resolve) => (done = resolve));

  const admitWaiting = (): void => {
    while (waiters.length > 0 && admitted < config.maxBuffer) (waiters.shift() as () => void)();
  };
  const settleFlushes = (): void => {
    for (let i = flushes.length - 1; i >= 0; i -= 1) {
      const f = flushes[i] as (typeof flushes)[number];
      if (f.seq <= committedSeq) {
        flushes.splice(i, 1);
        f.resolve();
      } else if (fatal) {
        flushes.splice(i, 1);
        f.reject(fatal);
      }
    }
  };

  const write = (batch: Envelope[]) => {
    const batchId = randomUUID();
    const events = batch.map((e) => e.event);
    return defer(() => from(writer(batchId, events))).pipe(
      retry({
        delay: (error: unknown, attempt: number) => {
          const now = scheduler.now();
          if (now >= giveUpAt) throw error;
          const delay = Math.min(backoffDelay(attempt, policy, random()), giveUpAt - now);
          logger?.warn({ err: error, batchId, events: events.length, attempt, delayMs: Math.round(delay) }, 'sink batch failed; retrying');
          return timer(delay, scheduler);
        },
      }),
      concatMap(async (outcome: BatchOutcome) => {
        if (outcome === 'duplicate') logger?.info({ batchId }, 'sink batch was already committed');
        admitted -= batch.length;
        committedSeq = (batch[batch.length - 1] as Envelope).seq;
        admitWaiting();
        settleFlushes();
      }),
    );
  };

  const stop = (error: unknown): void => {
    if (fatal) return;
    fatal = error instanceof Error ? error : new Error(String(error));
    logger?.error({ err: fatal, unwritten: admitted }, 'sink stopped with events unwritten');
    settleFlushes();
    done();
  };

  // One batch in flight at a time, so batches commit in push order. Batches that formed meanwhile
  // wait here and go out together, up to COALESCE_BATCHES × batchSize events: a sink that has fallen
  // behind (a busy event loop stretches every round trip) catches up with fewer, larger transactions,
  // while an idle one still writes small batches every flushMs.
  const waiting: Envelope[][] = [];
  let carried: Envelope[] = [];
  let writing: Subscription | null = null;
  let inputDone = false;
  const pump = (): void => {
    if (writing || fatal) return;
    const first = waiting.shift();
    if (!first) {
      if (inputDone) done();
      return;
    }
    let batch = first;
    const max = config.batchSize * COALESCE_BATCHES;
    for (let next = waiting[0]; next && batch.length + next.length <= max; next = waiting[0]) batch = batch.concat(waiting.shift() as Envelope[]);
    writing = write(batch).subscribe({
      error: stop,
      complete: () => {
        writing = null;
        pump();
      },
    });
  };

  const subscription: Subscription = input
    .pipe(
      bufferTime(config.flushMs, null, config.batchSize, scheduler),
      filter((batch) => batch.length > 0),
    )
    .subscribe({
      next: (formed) => {
        // bufferTime cuts by count and time alone: a batch ending inside a group hands the group's
        // head to the next batch (a group enters the stream synchronously, so its tail is already
        // on its way into that batch).
        let batch = carried.length > 0 ? carried.concat(formed) : formed;
        let end = batch.length;
        while (end > 0 && !(batch[end - 1] as Envelope).last) end -= 1;
        carried = end < batch.length ? batch.slice(end) : [];
        if (end < batch.length) batch = batch.slice(0, end);
        if (batch.length === 0) return;
        waiting.push(batch);
        pump();
      },
      error: stop,
      complete: () => {
        inputDone = true;
        // Groups enter whole, so nothing is carried at the end; if anything were, it is written.
        if (carried.length > 0) waiting.push(carried);
        carried = [];
        pump();
      },
    });

  const pushAll = (events: readonly RunEvent[]): Promise<void> => {
    if (closed) return Promise.reject(new Error('sink is closed'));
    if (events.length === 0) return Promise.resolve();
    const first = nextSeq;
    nextSeq += events.length;
    const enter = (): void => {
      admitted += events.length;
      const lastIndex = events.length - 1;
      for (let i = 0; i <= lastIndex; i += 1) input.next({ seq: first + i, event: events[i] as RunEvent, last: i === lastIndex });
    };
    if (waiters.length === 0 && admitted < config.maxBuffer) {
      enter();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      waiters.push(() => {
        enter();
        resolve();
      });
    });
  };

  return {
    get pending() {
      return admitted;
    },
    push: (event: RunEvent): Promise<void> => pushAll([event]),
    pushAll,
    flush(): Promise<void> {
      const seq = nextSeq - 1;
      if (seq <= committedSeq) return Promise.resolve();
      if (fatal) return Promise.reject(fatal);
      return new Promise((resolve, reject) => flushes.push({ seq, resolve, reject }));
    },
    async close(closeOptions = {}): Promise<void> {
      if (!closed) {
        closed = true;
        giveUpAt = scheduler.now() + (closeOptions.deadlineMs ?? options.closeDeadlineMs ?? 30_000);
        // Waiting producers are admitted as batches commit; complete the stream once all are in.
        while (waiters.length > 0 && !fatal) await new Promise<void>((r) => flushes.push({ seq: committedSeq + 1, resolve: r, reject: () => r() }));
        input.complete();
      }
      await completed;
      subscription.unsubscribe();
      if (fatal) throw new SinkClosedError(admitted + waiters.length);
    },
  };
}
