import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getNextSnapshot, type SnapshotFrom } from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import { VendorError, isCircuitOpenError, type ErrorKind } from '../../src/domain/errors.js';
import { breakerMachine, type BreakerEvent } from '../../src/machines/breaker.machine.js';
import { deferred, settle, system } from '../support/breakerHarness.js';
import { ReferenceBreaker, type RefAdmission } from '../support/breakerReference.js';

/**
 * Model-based test of the breaker: paths generated from the machine itself (shortest and simple
 * paths, each extended by every event possible at its end so that self-loops are covered) drive
 * the REAL registry and guarded caller with fake vendor calls; after every step the registry's
 * state, the machine's expected state and an independent reference must agree, and the requests
 * made must be those the reference expects.
 */

const T0 = Date.UTC(2026, 0, 1);
const THRESHOLD = 2;
const COOL_OFF_MS = 10_000;
const TIMEOUT_MS = 1_000;
const LEASE_MS = COOL_OFF_MS + TIMEOUT_MS;
const MAX_ATTEMPTS = 3;
const input = { errorThreshold: THRESHOLD, coolOffMs: COOL_OFF_MS, probeLeaseMs: LEASE_MS };

type Snap = SnapshotFrom<typeof breakerMachine>;
/** A machine event plus how the driver performs it on the real system. */
type ModelEvent = BreakerEvent & { drive: string };

const latest = (s: Snap): number => Math.max(s.context.openedAt ?? T0, s.context.probeStartedAt ?? T0);

/** Representative events per state: the payloads that matter for each guard. */
function eventsFor(s: Snap): ModelEvent[] {
  const now = latest(s);
  const { probeId, openedAt, probeStartedAt } = s.context;
  switch (s.value) {
    case 'closed':
      return [
        { type: 'call.succeeded', now, drive: 'call:ok' },
        ...(['server', 'auth', 'not_found'] as const).map((kind): ModelEvent => ({ type: 'call.failed', now, kind, drive: `call:${kind}` })),
      ];
    case 'open':
      return [
        { type: 'call.requested', now: openedAt! + COOL_OFF_MS - 1, drive: 'request:early' },
        { type: 'call.requested', now: openedAt! + COOL_OFF_MS, drive: 'request:cooled' },
      ];
    case 'halfOpen':
      return [
        { type: 'call.requested', now, drive: 'request:concurrent' },
        { type: 'call.requested', now: probeStartedAt! + LEASE_MS, drive: 'request:lease' },
        { type: 'call.succeeded', now, probeId, drive: 'probe:ok' },
        ...(['server', 'not_found'] as const).map((kind): ModelEvent => ({ type: 'call.failed', now, kind, probeId, drive: `probe:${kind}` })),
        { type: 'call.abandoned', now, probeId, drive: 'probe:abandoned' },
      ];
  }
}

const options = {
  input,
  events: (s: Snap) => eventsFor(s) as BreakerEvent[],
  serializeState: (s: Snap) => `${s.value}|${s.context.consecutiveFailures}`,
  serializeEvent: (e: BreakerEvent) => (e as ModelEvent).drive,
};

function withEdges(paths: StatePath<Snap, BreakerEvent>[]): { name: string; events: ModelEvent[]; expected: Snap[] }[] {
  const out = new Map<string, { name: string; events: ModelEvent[]; expected: Snap[] }>();
  for (const path of paths) {
    const events = path.steps.map((s) => s.event as ModelEvent).filter((e) => e.drive !== undefined);
    const expected = path.steps.filter((s) => (s.event as ModelEvent).drive !== undefined).map((s) => s.state);
    const add = (evs: ModelEvent[], exp: Snap[]) => out.set(evs.map((e) => e.drive).join(' → ') || '(initial)', { name: evs.map((e) => e.drive).join(' → ') || '(initial)', events: evs, expected: exp });
    add(events, expected);
    for (const extra of eventsFor(path.state)) add([...events, extra], [...expected, getNextSnapshot(breakerMachine, path.state, extra)]);
  }
  return [...out.values()];
}

/** Drives one path through the real registry and guarded caller. */
async function drivePath(events: ModelEvent[], expected: Snap[]): Promise<void> {
  const s = system({ env: { CB_ERROR_THRESHOLD: String(THRESHOLD), CB_COOL_OFF_S: String(COOL_OFF_MS / 1000), VENDOR_TIMEOUT_MS: String(TIMEOUT_MS), RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } });
  const ref = new ReferenceBreaker(THRESHOLD, COOL_OFF_MS, LEASE_MS);
  let requests = 0;
  interface Probe {
    admission: RefAdmission;
    settle: ReturnType<typeof deferred<string>>;
    controller: AbortController;
    call: Promise<unknown>;
    startedAt: number;
  }
  let probe = null as Probe | null;
  const stale: Probe[] = [];
  const failingWith = (kind: ErrorKind) => () => (requests++, Promise.reject(new VendorError({ vendor: 'lusha', kind })));

  for (const [i, event] of events.entries()) {
    const [verb, arg] = event.drive.split(':') as [string, string];
    const before = requests;
    let expectedRequests: number;
    if (verb === 'call') {
      const admission = ref.admit(Date.now());
      const out = await settle(s.caller.call(1, 'lusha', arg === 'ok' ? () => (requests++, Promise.resolve('ok')) : failingWith(arg as ErrorKind)));
      expectedRequests = ReferenceBreaker.attemptsFor(admission, arg as ErrorKind | 'ok', MAX_ATTEMPTS);
      ref.outcome(admission, arg as ErrorKind | 'ok', Date.now());
      if (arg === 'ok') expect(out.value).toBe('ok');
      else expect(out.error).toMatchObject({ kind: arg });
    } else if (verb === 'request') {
      const info = s.registry.list()[0]!;
      if (arg === 'early') vi.setSystemTime(info.openedAt! + COOL_OFF_MS - 1);
      if (arg === 'cooled') vi.setSystemTime(info.openedAt! + COOL_OFF_MS);
      if (arg === 'lease') vi.setSystemTime(probe!.startedAt + LEASE_MS);
      const admission = ref.admit(Date.now());
      const gate = deferred<string>();
      const controller = new AbortController();
      const p = s.caller.call(1, 'lusha', () => (requests++, gate.promise), { signal: controller.signal });
      const done = p.then((value): { value?: unknown; error?: unknown } => ({ value }), (error: unknown) => ({ error }));
      await vi.advanceTimersByTimeAsync(0);
      expectedRequests = admission.kind === 'refused' ? 0 : 1;
      if (admission.kind === 'refused') expect(isCircuitOpenError((await done).error)).toBe(true);
      else {
        if (probe) stale.push(probe);
        probe = { admission, settle: gate, controller, call: p, startedAt: Date.now() };
      }
    } else {
      const current = probe!;
      probe = null;
      if (arg === 'ok') current.settle.resolve('ok');
      else if (arg === 'abandoned') current.controller.abort();
      else current.settle.reject(new VendorError({ vendor: 'lusha', kind: arg as ErrorKind }));
      const out = await settle(current.call);
      ref.outcome(current.admission, arg === 'ok' ? 'ok' : (arg as ErrorKind | 'abandoned'), Date.now());
      expectedRequests = 0; // a probe makes its single attempt, already counted; no retry
      if (arg === 'ok') expect(out.value).toBe('ok');
      else expect(out.error).toBeInstanceOf(VendorError);
    }
    const where = `step ${i + 1} (${event.drive})`;
    expect(requests - before, `${where}: requests`).toBe(expectedRequests);
    const [info] = s.registry.list();
    const machineState = expected[i]!;
    expect(info?.state ?? 'closed', `${where}: registry vs machine`).toBe(machineState.value === 'open' && Date.now() - (info?.openedAt ?? 0) >= COOL_OFF_MS ? 'halfOpen' : machineState.value);
    expect(ref.state, `${where}: reference vs machine`).toBe(machineState.value);
    expect(info?.consecutiveFailures ?? 0, `${where}: failures`).toBe(machineState.context.consecutiveFailures);
    expect(ref.failures, `${where}: reference failures`).toBe(machineState.context.consecutiveFailures);
  }
  // A probe presumed lost that answers late changes nothing.
  const final = JSON.stringify(s.registry.list());
  for (const old of stale) old.settle.resolve('late');
  for (const old of stale) expect((await settle(old.call)).value).toBe('late');
  expect(JSON.stringify(s.registry.list())).toBe(final);
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('breaker model: shortest paths', () => {
  const cases = withEdges(getShortestPaths(breakerMachine, options));
  it('covers every state', () => {
    expect(new Set(cases.map((c) => c.expected.at(-1)?.value ?? 'closed'))).toEqual(new Set(['closed', 'open', 'halfOpen']));
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await drivePath(c.events, c.expected);
  });
});

describe('breaker model: simple paths', () => {
  const cases = withEdges(getSimplePaths(breakerMachine, options));
  it('generates more paths than the shortest ones', () => {
    expect(cases.length).toBeGreaterThan(withEdges(getShortestPaths(breakerMachine, options)).length);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await drivePath(c.events, c.expected);
  });
});
