/**
 * The runtime's one subscription to breaker transitions: run ids by tenant, order, tenants made to
 * exist before a transition outside a run, failures logged, close() waiting for the last write.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import type { BreakerTransition } from '../../src/domain/index.js';
import { recordTransitions } from '../../src/streams/transitionRecorder.js';

const t = (tenantId: number, at: number, from: BreakerTransition['from'] = 'closed', to: BreakerTransition['to'] = 'open'): BreakerTransition => ({
  tenantId, vendor: 'tavily', from, to, at, reason: 'threshold',
});

/** A deferred promise the test settles. */
function gate() {
  let open!: () => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((open = res), (fail = rej)));
  return { promise, open, fail };
}

function setup(options: { record?: (tr: BreakerTransition, runId: number | null) => Promise<void>; ensureTenant?: (tenantId: number) => Promise<void> } = {}) {
  const source = new Subject<BreakerTransition>();
  const recorded: { at: number; tenantId: number; runId: number | null }[] = [];
  const ensured: number[] = [];
  const warnings: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) } });
  const recorder = recordTransitions({
    transitions$: source,
    record: options.record ?? (async (tr, runId) => void recorded.push({ at: tr.at, tenantId: tr.tenantId, runId })),
    ensureTenant: async (tenantId) => {
      ensured.push(tenantId);
      await options.ensureTenant?.(tenantId);
    },
    logger,
  });
  return { source, recorded, ensured, warnings, recorder };
}

describe('recordTransitions', () => {
  it('records a transition with the run id of its tenant\'s active run, and null outside one or for another tenant', async () => {
    const { source, recorded, recorder } = setup();
    source.next(t(1, 1));
    const leave = recorder.enterRun(1, 70);
    source.next(t(1, 2));
    source.next(t(2, 3)); // another tenant: not the run's
    const leaveNested = recorder.enterRun(1, 71); // a second run of the same tenant: the newest wins
    source.next(t(1, 4));
    leaveNested();
    source.next(t(1, 5));
    leave();
    leave(); // idempotent
    source.next(t(1, 6));
    await recorder.close();
    expect(recorded).toEqual([
      { at: 1, tenantId: 1, runId: null },
      { at: 2, tenantId: 1, runId: 70 },
      { at: 3, tenantId: 2, runId: null },
      { at: 4, tenantId: 1, runId: 71 },
      { at: 5, tenantId: 1, runId: 70 },
      { at: 6, tenantId: 1, runId: null },
    ]);
    expect(recorder.runOf(1)).toBeNull();
  });

  it('takes the run id when the transition happens, writes in order, and close() waits for the last write', async () => {
    const first = gate();
    const order: number[] = [];
    const { source, recorder } = setup({
      record: async (tr, runId) => {
        if (tr.at === 1) await first.promise;
        order.push(tr.at * 1000 + (runId ?? 0));
      },
    });
    const leave = recorder.enterRun(1, 9);
    source.next(t(1, 1));
    source.next(t(1, 2, 'open', 'halfOpen'));
    leave(); // the run ends while its transitions are still being written
    let closed = false;
    const closing = recorder.close().then(() => (closed = true));
    source.next(t(1, 3)); // after close(): not recorded
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    expect(order).toEqual([]);
    first.open();
    await closing;
    expect(order).toEqual([1009, 2009]);
  });

  it('makes the tenant exist once before its first transition outside a run, not in a run', async () => {
    const { source, recorded, ensured, recorder } = setup();
    const leave = recorder.enterRun(3, 1);
    source.next(t(3, 1));
    leave();
    source.next(t(3, 2));
    source.next(t(3, 3));
    source.next(t(4, 4));
    await recorder.close();
    expect(ensured).toEqual([3, 4]);
    expect(recorded.map((r) => r.at)).toEqual([1, 2, 3, 4]);
  });

  it('logs a transition it could not record, with its fields, and goes on recording', async () => {
    let calls = 0;
    const { source, warnings, recorder } = setup({
      record: async () => {
        calls += 1;
        if (calls === 1) throw new Error('sink is closed');
      },
      ensureTenant: async (tenantId) => {
        if (tenantId === 8) throw new Error('connection refused');
      },
    });
    source.next(t(5, 1));
    source.next(t(8, 2));
    source.next(t(5, 3));
    await recorder.close();
    expect(calls).toBe(2);
    expect(warnings.map((w) => [w.msg, w.tenantId, w.at, (w.err as { message: string }).message])).toEqual([
      ['breaker transition not recorded', 5, 1, 'sink is closed'],
      ['breaker transition not recorded', 8, 2, 'connection refused'],
    ]);
  });
});
