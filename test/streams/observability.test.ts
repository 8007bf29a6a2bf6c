import { describe, expect, it } from 'vitest';
import { createObservability } from '../../src/streams/observability.js';
import type { RunEvent, RunStore, StageEvent } from '../../src/domain/index.js';
import type { Sink } from '../../src/streams/sink.js';
import { companyFinished } from '../support/events.js';

/** A sink that records how events arrive: one entry per push or pushAll. */
function recordingSink() {
  const arrivals: RunEvent[][] = [];
  const sink: Sink = {
    push: (event) => {
      arrivals.push([event]);
      return Promise.resolve();
    },
    pushAll: (events) => {
      arrivals.push([...events]);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    pending: 0,
  };
  return { sink, arrivals };
}

describe('Observability.group', () => {
  it('collects logEvent and bumpVendor calls and hands them, then the last events, to the sink as one group on commit', async () => {
    const { sink, arrivals } = recordingSink();
    const obs = createObservability({ sink, store: {} as RunStore, clock: { now: () => 1000 } });
    const group = obs.group();
    await group.logEvent(7, 3, 'crawl', 'finished', 'ok', { companyId: 11, durationMs: 5, extra: { fallback_taken: null } });
    await group.bumpVendor(7, 3, 'tavily', { calls: 2, errors: 1 });
    expect(arrivals).toEqual([]);
    const finished = companyFinished(7, 3, 11);
    await group.commit(finished);
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]?.map((e) => e.type)).toEqual(['stage.event', 'vendor.usage', 'company.finished']);
    expect(arrivals[0]?.[0]).toMatchObject({ runId: 7, tenantId: 3, companyId: 11, stage: 'crawl', durationMs: 5, at: 1000 });
    expect(arrivals[0]?.[1]).toMatchObject({ vendor: 'tavily', calls: 2, errors: 1, retries: 0 });

    // The plain hooks still push one event each.
    await obs.logEvent(7, 3, 'openai', 'finished', 'ok');
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]).toHaveLength(1);
  });

  it('recordStage hands a stage event on as it is, its own time kept; logEvent builds the same shape at the clock\'s time', async () => {
    const { sink, arrivals } = recordingSink();
    const obs = createObservability({ sink, store: {} as RunStore, clock: { now: () => 9_999 } });
    const stage: StageEvent = {
      tenantId: 3, companyId: 11, stage: 'crawl', event: 'finish', status: 'ok', errorCode: null, durationMs: 40,
      extra: { fallback_taken: null, vendor: 'crawler', error_kind: null, detail: null }, at: 1_234,
    };
    const group = obs.group();
    await group.recordStage(7, stage);
    await group.commit();
    expect(arrivals).toEqual([[{ type: 'stage.event', runId: 7, ...stage }]]);
    await obs.logEvent(7, 3, 'crawl', 'finish', 'ok', { companyId: 11, durationMs: 40, extra: stage.extra });
    expect(arrivals[1]).toEqual([{ type: 'stage.event', runId: 7, ...stage, at: 9_999 }]);
  });
});
