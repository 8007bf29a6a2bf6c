import { lastValueFrom, toArray } from 'rxjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pulledMerge } from '../../src/streams/pulledMerge.js';

/** An async source that records how far it has been read. */
function countingSource(n: number): { source: AsyncIterable<number>; pulled: () => number } {
  let pulled = 0;
  return {
    source: {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < n; i++) {
          pulled++;
          yield i;
        }
      },
    },
    pulled: () => pulled,
  };
}

describe('pulledMerge', () => {
  it('never reads more than `concurrency` items ahead of the finished ones', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 60 }), async (concurrency, n) => {
        const { source, pulled } = countingSource(n);
        let finished = 0;
        let inFlight = 0;
        let maxInFlight = 0;
        let maxAhead = 0;
        const out = await lastValueFrom(
          pulledMerge(
            source,
            async (item) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              maxAhead = Math.max(maxAhead, pulled() - finished);
              await new Promise((resolve) => setImmediate(resolve));
              inFlight--;
              finished++;
              return item * 2;
            },
            { concurrency },
          ).pipe(toArray()),
        );
        expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i * 2));
        expect(maxInFlight).toBeLessThanOrEqual(concurrency);
        expect(maxAhead).toBeLessThanOrEqual(concurrency);
      }),
      { numRuns: 40 },
    );
  });

  it('stops pulling when intake stops and lets items in flight finish', async () => {
    const { source, pulled } = countingSource(1000);
    const stop = new AbortController();
    const done: number[] = [];
    const out = await lastValueFrom(
      pulledMerge(
        source,
        async (item) => {
          if (item === 5) stop.abort();
          await new Promise((resolve) => setImmediate(resolve));
          done.push(item);
          return item;
        },
        { concurrency: 3, stopIntake: stop.signal },
      ).pipe(toArray()),
    );
    expect(out.length).toBe(done.length);
    expect(out).toContain(5);
    expect(pulled()).toBeLessThan(12);
  });

  it('works on a plain iterable and rejects a bad concurrency', async () => {
    const out = await lastValueFrom(pulledMerge([1, 2, 3], async (x) => x + 1, { concurrency: 2 }).pipe(toArray()));
    expect(out.sort()).toEqual([2, 3, 4]);
    expect(() => pulledMerge([1], async (x) => x, { concurrency: 0 })).toThrow(RangeError);
  });
});
