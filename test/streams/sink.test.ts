import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchWriter } from '../../src/adapters/postgres/writer.js';
import type { RunEvent } from '../../src/domain/index.js';
import { COALESCE_BATCHES, createSink, SinkClosedError } from '../../src/streams/sink.js';
import { usage } from '../support/events.js';

/** A writer that records batches and can be held or made to fail. */
function fakeWriter() {
  const batches: { id: string; events: readonly RunEvent[] }[] = [];
  const calls: string[] = [];
  let failures = 0;
  let gate: Promise<void> | null = null;
  let open: () => void = () => undefined;
  const writer: BatchWriter = async (id, events) => {
    calls.push(id);
    if (gate) await gate;
    if (failures > 0) {
      failures -= 1;
      throw Object.assign(new Error('connection terminated'), { code: '57P01' });
    }
    if (batches.some((b) => b.id === id)) return 'duplicate';
    batches.push({ id, events });
    return 'applied';
  };
  return {
    writer, batches, calls,
    failNext(n: number) { failures = n; },
    hold() { gate = new Promise((r) => (open = r)); },
    release() { gate = null; open(); },
  };
}

const ev = (i: number): RunEvent => usage(1, 1, `v${i}`);

describe('sink (virtual time)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a batch as soon as it holds batchSize events, and the rest when flushMs has passed', async () => {
    const w = fakeWriter();
    const sink = createSink({ writer: w.writer, config: { batchSize: 3, flushMs: 250, maxBuffer: 100 } });
    for (let i = 0; i < 7; i += 1) await sink.push(ev(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.batches.map((b) => b.events.length)).toEqual([3, 3]);
    await vi.advanceTimersByTimeAsync(249);
    expect(w.batches.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.batches.map((b) => b.events.length)).toEqual([3, 3, 1]);
    expect(w.batches.flatMap((b) => b.events)).toEqual([0, 1, 2, 3, 4, 5, 6].map(ev));
    await sink.close();
  });

  it('writes the batches that formed while one was in flight together, up to COALESCE_BATCHES of them, in push order', async () => {
    const w = fakeWriter();
    w.hold();
    const sink = createSink({ writer: w.writer, config: { batchSize: 2, flushMs: 10, maxBuffer: 100 } });
    for (let i = 0; i < 2; i += 1) await sink.push(ev(i));
    await vi.advanceTimersByTimeAsync(0); // the first batch is in flight, held
    expect(w.calls.length).toBe(1);
    for (let i = 2; i < 2 + 2 * (COALESCE_BATCHES + 2); i += 1) await sink.push(ev(i)); // COALESCE_BATCHES + 2 more batches form
    await vi.advanceTimersByTimeAsync(0);
    expect(w.calls.length).toBe(1); // nothing else is written while a batch is in flight
    w.release();
    await vi.advanceTimersByTimeAsync(0);
    const flushed = sink.flush();
    await vi.advanceTimersByTimeAsync(10);
    await flushed;
    expect(w.batches.map((b) => b.events.length)).toEqual([2, 2 * COALESCE_BATCHES, 4]);
    expect(w.batches.flatMap((b) => b.events)).toEqual(Array.from({ length: 2 + 2 * (COALESCE_BATCHES + 2) }, (_, i) => ev(i)));
    expect(sink.pending).toBe(0);
    await sink.close();
  });

  it('never ends a batch inside a group: a group whose events straddle batchSize goes out whole with the next batch', async () => {
    const w = fakeWriter();
    const sink = createSink({ writer: w.writer, config: { batchSize: 3, flushMs: 250, maxBuffer: 100 } });
    await sink.push(ev(0));
    await sink.push(ev(1));
    await sink.pushAll([ev(2), ev(3), ev(4), ev(5)]); // the third event would end a batch of 3 inside the group
    await sink.push(ev(6));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.batches.map((b) => b.events.length)).toEqual([2, 4]); // [0 1 | 2] then [2 | 3 4 5]: the group's head waited for its tail
    await vi.advanceTimersByTimeAsync(250);
    expect(w.batches.map((b) => b.events.length)).toEqual([2, 4, 1]);
    expect(w.batches.flatMap((b) => b.events)).toEqual([0, 1, 2, 3, 4, 5, 6].map(ev));
    await sink.close();
  });

  it('keeps every group in one batch and every event in push order, whatever the sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 8 }),
        async (groups, batchSize) => {
          const w = fakeWriter();
          const sink = createSink({ writer: w.writer, config: { batchSize, flushMs: 50, maxBuffer: 1000 } });
          let n = 0;
          const ranges: [number, number][] = [];
          for (const size of groups) {
            ranges.push([n, n + size - 1]);
            await sink.pushAll(Array.from({ length: size }, () => ev(n++)));
          }
          const closed = sink.close();
          await vi.advanceTimersByTimeAsync(100);
          await closed;
          const written = w.batches.map((b) => b.events);
          expect(written.flat()).toEqual(Array.from({ length: n }, (_, i) => ev(i)));
          const batchOf = new Map<RunEvent, number>();
          written.forEach((events, b) => events.forEach((e) => batchOf.set(e, b)));
          const flat = written.flat();
          for (const [from, to] of ranges) expect(batchOf.get(flat[to] as RunEvent)).toBe(batchOf.get(flat[from] as RunEvent));
          for (const events of written) expect(events.length).toBeLessThan(batchSize * COALESCE_BATCHES + 9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('makes producers wait while the buffer is full, and lets them in as batches commit', async () => {
    const w = fakeWriter();
    w.hold();
    const sink = createSink({ writer: w.writer, config: { batchSize: 2, flushMs: 10, maxBuffer: 2 } });
    await sink.push(ev(0));
    await sink.push(ev(1));
    let third = false;
    const p3 = sink.push(ev(2)).then(() => (third = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(third).toBe(false);
    expect(sink.pending).toBe(2);
    w.release();
    await vi.advanceTimersByTimeAsync(0);
    await p3;
    expect(third).toBe(true);
    const flushed = sink.flush();
    await vi.advanceTimersByTimeAsync(10);
    await flushed;
    expect(w.batches.flatMap((b) => b.events)).toEqual([ev(0), ev(1), ev(2)]);
    await sink.close();
  });

  it('keeps a failing batch and retries it under the same id until it commits; flush waits for it', async () => {
    const w = fakeWriter();
    w.failNext(3);
    const sink = createSink({ writer: w.writer, config: { batchSize: 10, flushMs: 50, maxBuffer: 100 }, retry: { baseDelayMs: 100, maxDelayMs: 1000 }, random: () => 0.5 });
    await sink.push(ev(0));
    await sink.push(ev(1));
    let flushed = false;
    const f = sink.flush().then(() => (flushed = true));
    await vi.advanceTimersByTimeAsync(50); // batch formed, attempt 1 fails
    await vi.advanceTimersByTimeAsync(100 + 200 + 399); // attempts 2 and 3 fail; attempt 4 not yet due (400 ms)
    expect(flushed).toBe(false);
    expect(w.calls.length).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    await f;
    expect(new Set(w.calls).size).toBe(1);
    expect(w.batches.flatMap((b) => b.events)).toEqual([ev(0), ev(1)]);
    await sink.close();
  });

  it('waits the delays of backoffDelay (jitter included) and refuses invalid ones', async () => {
    const w = fakeWriter();
    w.failNext(2);
    const sink = createSink({ writer: w.writer, config: { batchSize: 10, flushMs: 10, maxBuffer: 100 }, retry: { baseDelayMs: 100, maxDelayMs: 1000 }, random: () => 0 });
    await sink.push(ev(0));
    const f = sink.flush();
    await vi.advanceTimersByTimeAsync(10 + 80 + 159); // 0.8 × 100, then 0.8 × 200 ms: not yet
    expect(w.calls.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    await f;
    expect(w.calls.length).toBe(3);
    await sink.close();
    expect(() => createSink({ writer: w.writer, config: { batchSize: 10, flushMs: 10, maxBuffer: 100 }, retry: { baseDelayMs: 500, maxDelayMs: 100 } })).toThrow(RangeError);
  });

  it('gives up only at the close deadline and reports what was not written', async () => {
    const w = fakeWriter();
    w.failNext(Number.POSITIVE_INFINITY);
    const sink = createSink({ writer: w.writer, config: { batchSize: 10, flushMs: 10, maxBuffer: 100 }, retry: { baseDelayMs: 100, maxDelayMs: 100 }, random: () => 0.5 });
    await sink.push(ev(0));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.calls.length).toBeGreaterThan(50); // still retrying, nothing dropped
    const closing = sink.close({ deadlineMs: 500 });
    const outcome = closing.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(600);
    const error = await outcome;
    expect(error).toBeInstanceOf(SinkClosedError);
    expect((error as SinkClosedError).unwritten).toBe(1);
    await expect(sink.push(ev(1))).rejects.toThrow(/closed/);
  });
});
