import { Observable, Subject, concatMap, from, map, mergeMap, takeWhile, finalize, type ObservableInput } from 'rxjs';

/** Options of {@link pulledMerge}. */
export interface PulledMergeOptions {
  /** Items processed at once; at least 1. */
  concurrency: number;
  /** When it fires, no further item is pulled; items in flight finish and the stream completes. */
  stopIntake?: AbortSignal;
}

/**
 * `mergeMap` over an async iterable that pulls the next item only when a slot is free, so that a
 * run's memory stays flat however long its input is (`from(asyncIterable)` would read ahead
 * without bound and park the excess in mergeMap's buffer).
 *
 * @throws RangeError when concurrency is not a positive integer
 */
export function pulledMerge<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  project: (item: T, index: number) => ObservableInput<R>,
  options: PulledMergeOptions,
): Observable<R> {
  const { concurrency, stopIntake } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  return new Observable<R>((subscriber) => {
    const iterator =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
        : (source as Iterable<T>)[Symbol.iterator]();
    const demand = new Subject<void>();
    const stop = (): void => demand.complete();
    stopIntake?.addEventListener('abort', stop, { once: true });

    const subscription = demand
      .pipe(
        concatMap(() => (stopIntake?.aborted ? Promise.resolve({ done: true, value: undefined }) : from(Promise.resolve(iterator.next())))),
        takeWhile((result) => result.done !== true),
        map((result) => result.value as T),
        mergeMap((item, index) => from(project(item, index)).pipe(finalize(() => demand.next())), concurrency),
      )
      .subscribe(subscriber);

    for (let i = 0; i < concurrency; i++) demand.next();

    return () => {
      stopIntake?.removeEventListener('abort', stop);
      subscription.unsubscribe();
      demand.complete();
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    };
  });
}
