import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError, VendorError, isCircuitOpenError } from '../../src/domain/errors.js';
import { deferred, scripted, settle, system } from '../support/breakerHarness.js';

const T0 = Date.UTC(2026, 0, 1);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

async function trip(s: ReturnType<typeof system>, tenant = 1, vendor: 'tavily' | 'lusha' = 'tavily') {
  const { fn } = scripted(vendor, ['auth']);
  for (let i = 0; i < s.config.breaker.errorThreshold; i++) await settle(s.caller.call(tenant, vendor, fn));
}

describe('guarded call: success path', () => {
  it('makes one request, returns its value and sends the breaker no machine event', async () => {
    const s = system();
    const { fn, requests } = scripted('tavily', ['ok']);
    for (let i = 0; i < 5; i++) expect(await s.caller.call(1, 'tavily', fn)).toBe(`ok#${i + 1}`);
    expect(requests).toHaveLength(5);
    expect(s.machineEvents).toEqual([]);
    expect(s.registry.list()).toEqual([{ tenantId: 1, vendor: 'tavily', state: 'closed', consecutiveFailures: 0, openedAt: null }]);
  });

  it('gives every attempt a signal and reports attempts to the observer', async () => {
    const attempts: unknown[] = [];
    const s = system({ observer: { onAttempt: (e) => attempts.push(e) } });
    const { fn, requests } = scripted('openai', ['server', 'ok']);
    const out = await settle(s.caller.call(7, 'openai', fn));
    expect(out.value).toBe('ok#2');
    expect(requests.every((r) => r.signal instanceof AbortSignal && !r.signal.aborted)).toBe(true);
    expect(attempts).toMatchObject([
      { tenantId: 7, vendor: 'openai', attempt: 1, ok: false },
      { tenantId: 7, vendor: 'openai', attempt: 2, ok: true, durationMs: 0 },
    ]);
  });

  it('concurrent attempts each get a signal of their own, listened to without a warning', async () => {
    const s = system();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const gates = Array.from({ length: 30 }, () => deferred<string>());
      const signals: AbortSignal[] = [];
      const calls = gates.map((gate) =>
        s.caller.call(1, 'tavily', (signal) => {
          signals.push(signal);
          signal.addEventListener('abort', () => undefined); // as undici does for every request
          return gate.promise;
        }),
      );
      expect(new Set(signals).size).toBe(30); // one signal per attempt
      gates.forEach((g, i) => g.resolve(`ok${i}`));
      expect(await Promise.all(calls)).toHaveLength(30);
      await new Promise((r) => process.nextTick(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('guarded call: retries', () => {
  it('retries retryable kinds with the backoff and reports each retry', async () => {
    const retries: unknown[] = [];
    const s = system({ observer: { onRetry: (e) => retries.push(e) } });
    const { fn, requests } = scripted('tavily', ['server', 'rate_limited', 'ok']);
    const out = await settle(s.caller.call(1, 'tavily', fn));
    expect(out.value).toBe('ok#3');
    expect(requests.map((r) => r.at - T0)).toEqual([0, 250, 750]);
    expect(retries).toEqual([
      { tenantId: 1, vendor: 'tavily', attempt: 1, delayMs: 250, kind: 'server' },
      { tenantId: 1, vendor: 'tavily', attempt: 2, delayMs: 500, kind: 'rate_limited' },
    ]);
  });

  it('fails after RETRY_MAX_ATTEMPTS with the last error and counts one failure', async () => {
    const s = system({ env: { RETRY_MAX_ATTEMPTS: '4' } });
    const { fn, requests } = scripted('tavily', ['server', 'server', 'server', 'network']);
    const out = await settle(s.caller.call(1, 'tavily', fn));
    expect(requests).toHaveLength(4);
    expect(out.error).toMatchObject({ kind: 'network' });
    expect(s.registry.list()[0]).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
  });

  it('does not retry a non-retryable kind, and bad_request/not_found do not count', async () => {
    const s = system();
    for (const kind of ['not_found', 'bad_request'] as const) {
      const { fn, requests } = scripted('lusha', [kind]);
      expect((await settle(s.caller.call(1, 'lusha', fn))).error).toMatchObject({ kind });
      expect(requests).toHaveLength(1);
    }
    expect(s.registry.list()[0]).toMatchObject({ consecutiveFailures: 0 });
    const { fn } = scripted('lusha', ['quota_exhausted']);
    await settle(s.caller.call(1, 'lusha', fn));
    expect(s.registry.list()[0]).toMatchObject({ consecutiveFailures: 1 });
  });

  it('classifies what fn throws that is not a VendorError', async () => {
    const s = system();
    let n = 0;
    const fn = () => (++n === 1 ? Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) : Promise.resolve('fine'));
    expect((await settle(s.caller.call(1, 'tavily', fn))).value).toBe('fine');
    expect(n).toBe(2);
    const sync = await settle(s.caller.call(1, 'tavily', () => { throw new SyntaxError('bad json'); }));
    expect(sync.error).toMatchObject({ kind: 'bad_response' });
  });

  it('does not retry a request that cannot be sent nor a programming error; only the latter counts', async () => {
    const s = system();
    let invalid = 0;
    const unsendable = () => (++invalid, Promise.reject(Object.assign(new TypeError('invalid authorization header'), { code: 'UND_ERR_INVALID_ARG' })));
    expect((await settle(s.caller.call(1, 'lusha', unsendable))).error).toMatchObject({ kind: 'bad_request' });
    expect(invalid).toBe(1);
    expect(s.registry.list()[0]).toMatchObject({ consecutiveFailures: 0 });
    let buggy = 0;
    const bug = () => {
      buggy++;
      throw new TypeError("Cannot read properties of undefined (reading 'results')");
    };
    expect((await settle(s.caller.call(1, 'lusha', bug))).error).toMatchObject({ kind: 'bad_response', detail: 'unrecognised error TypeError' });
    expect(buggy).toBe(1);
    expect(s.registry.list()[0]).toMatchObject({ consecutiveFailures: 1 });
  });

  it('times out an attempt after VENDOR_TIMEOUT_MS (crawler: CRAWL_TIMEOUT_MS), aborting its signal', async () => {
    const s = system({ env: { RETRY_MAX_ATTEMPTS: '1' } });
    const v = scripted('tavily', ['hang']);
    const c = scripted('crawler', ['hang']);
    const vendorCall = settle(s.caller.call(1, 'tavily', v.fn));
    const crawlCall = settle(s.caller.call(1, 'crawler', c.fn));
    const [vendorOut, crawlOut] = await Promise.all([vendorCall, crawlCall]);
    expect(vendorOut.error).toMatchObject({ kind: 'timeout' });
    expect(crawlOut.error).toMatchObject({ kind: 'timeout', vendor: 'crawler' });
    expect(v.requests[0]!.signal.aborted).toBe(true);
    expect((v.requests[0]!.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(c.requests[0]!.signal.aborted).toBe(true);
    expect(Date.now() - T0).toBe(1000); // both done by the longer timeout; the crawl ended at 700
  });

  it('a timeout is retried like any transient failure', async () => {
    const s = system();
    const { fn, requests } = scripted('tavily', ['hang', 'ok']);
    const out = await settle(s.caller.call(1, 'tavily', fn));
    expect(out.value).toBe('ok#2');
    expect(requests.map((r) => r.at - T0)).toEqual([0, 1250]);
  });

  it('does not retry an Apify attempt that timed out (APIFY_TIMEOUT_MS): its run may still be going, a retry would start a second paid one', async () => {
    const s = system({ env: { APIFY_TIMEOUT_MS: '90000' } });
    const { fn, requests } = scripted('apify_linkedin', ['hang', 'ok']);
    const out = await settle(s.caller.call(1, 'apify_linkedin', fn));
    expect(out.error).toMatchObject({ vendor: 'apify_linkedin', kind: 'timeout', final: true, detail: 'attempt timed out after 90000 ms' });
    expect((out.error as VendorError).retryable).toBe(false);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.signal.aborted).toBe(true);
    expect(s.registry.list()[0]).toMatchObject({ vendor: 'apify_linkedin', consecutiveFailures: 1 }); // it still counts
    // Apify's other transient failures are retried as ever.
    const server = scripted('apify_linkedin', ['server', 'ok']);
    expect((await settle(s.caller.call(1, 'apify_linkedin', server.fn))).value).toBe('ok#2');
  });

  it("stops the backoff wait at once when the caller's signal fires, with no verdict on the vendor", async () => {
    const s = system();
    const controller = new AbortController();
    const { fn, requests } = scripted('tavily', ['server']);
    const p = s.caller.call(1, 'tavily', fn, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    const out = await settle(p);
    expect(out.error).toMatchObject({ kind: 'server' });
    expect(Date.now() - T0).toBe(100);
    expect(requests).toHaveLength(1);
    expect(s.registry.list()[0]).toMatchObject({ consecutiveFailures: 0 });
  });

  it('aborts the attempt in flight when the caller aborts', async () => {
    const s = system();
    const controller = new AbortController();
    const { fn, requests } = scripted('tavily', ['hang']);
    const p = settle(s.caller.call(1, 'tavily', fn, { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('run cancelled'));
    expect((await p).error).toMatchObject({ kind: 'timeout', detail: 'aborted' });
    expect(requests[0]!.signal.aborted).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('makes no request when the signal has fired or the deadline has passed already', async () => {
    const s = system();
    const { fn, requests } = scripted('tavily', ['ok']);
    await expect(s.caller.call(1, 'tavily', fn, { signal: AbortSignal.abort() })).rejects.toMatchObject({ detail: 'aborted' });
    await expect(s.caller.call(1, 'tavily', fn, { deadline: Date.now() })).rejects.toMatchObject({ detail: 'deadline passed' });
    expect(requests).toHaveLength(0);
  });

  it('starts no retry that would begin after the deadline', async () => {
    const s = system();
    const { fn, requests } = scripted('tavily', ['server']);
    const out = await settle(s.caller.call(1, 'tavily', fn, { deadline: T0 + 600 }));
    expect(requests.map((r) => r.at - T0)).toEqual([0, 250]); // the second wait (500) would end at 750
    expect(out.error).toMatchObject({ kind: 'server' });
  });
});

describe('guarded call: breaker', () => {
  it('refuses without a request once open, with retryAt, and tells the observer', async () => {
    const refused: unknown[] = [];
    const s = system({ observer: { onRefused: (e) => refused.push(e) } });
    await trip(s);
    const { fn, requests } = scripted('tavily', ['ok']);
    const out = await settle(s.caller.call(1, 'tavily', fn));
    expect(isCircuitOpenError(out.error)).toBe(true);
    expect((out.error as CircuitOpenError).retryAt).toBe(T0 + 10_000);
    expect(requests).toHaveLength(0);
    expect(refused).toEqual([{ tenantId: 1, vendor: 'tavily' }]);
    expect(s.transitions).toEqual([{ tenantId: 1, vendor: 'tavily', from: 'closed', to: 'open', at: T0, reason: 'threshold' }]);
  });

  it('admits exactly one probe after the cool-off; the probe makes one attempt; failure reopens', async () => {
    const s = system();
    await trip(s);
    vi.setSystemTime(T0 + 10_000);
    const probe = deferred();
    let probeRequests = 0;
    const first = s.caller.call(1, 'tavily', () => (++probeRequests, probe.promise));
    const others = scripted('tavily', ['ok']);
    const concurrent = await Promise.allSettled([1, 2, 3].map(() => s.caller.call(1, 'tavily', others.fn)));
    expect(concurrent.every((r) => r.status === 'rejected' && isCircuitOpenError(r.reason) && r.reason.retryAt === undefined)).toBe(true);
    expect(others.requests).toHaveLength(0);
    expect(s.registry.list()[0]!.state).toBe('halfOpen');
    probe.reject(new VendorError({ vendor: 'tavily', kind: 'server' }));
    expect((await settle(first)).error).toMatchObject({ kind: 'server' });
    expect(probeRequests).toBe(1);
    expect(s.registry.list()[0]).toMatchObject({ state: 'open', openedAt: T0 + 10_000 });
    expect(s.transitions.map((t) => `${t.from}>${t.to}:${t.reason}`)).toEqual(['closed>open:threshold', 'open>halfOpen:cool_off_elapsed', 'halfOpen>open:probe_failed']);
  });

  it('a successful probe closes the breaker', async () => {
    const s = system();
    await trip(s);
    vi.setSystemTime(T0 + 12_000);
    const { fn } = scripted('tavily', ['ok']);
    expect(await s.caller.call(1, 'tavily', fn)).toBe('ok#1');
    expect(s.registry.list()[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('does not retry once another caller has opened the breaker meanwhile', async () => {
    const s = system({ env: { CB_ERROR_THRESHOLD: '1' } });
    const slow = scripted('tavily', ['server', 'ok']);
    const p = settle(s.caller.call(1, 'tavily', slow.fn)); // fails, waits 250 ms
    await vi.advanceTimersByTimeAsync(100);
    await settle(s.caller.call(1, 'tavily', scripted('tavily', ['auth']).fn)); // opens it
    const out = await p;
    expect(out.error).toMatchObject({ kind: 'server' });
    expect(slow.requests).toHaveLength(1);
  });

  it('never refuses an exempt vendor; the crawler has no breaker', async () => {
    const s = system({ env: { CB_GLOBAL_EXEMPT_VENDORS: 'openai', CB_ERROR_THRESHOLD: '1' } });
    for (const vendor of ['openai', 'crawler'] as const) {
      const { fn, requests } = scripted(vendor, ['auth']);
      for (let i = 0; i < 4; i++) expect((await settle(s.caller.call(1, vendor, fn))).error).toBeInstanceOf(VendorError);
      expect(requests).toHaveLength(4);
    }
    expect(s.registry.list()).toEqual([]);
  });

  it('an abandoned probe releases its slot: the next call probes', async () => {
    const s = system();
    await trip(s);
    vi.setSystemTime(T0 + 10_000);
    const controller = new AbortController();
    const hung = scripted('tavily', ['hang']);
    const p = settle(s.caller.call(1, 'tavily', hung.fn, { signal: controller.signal }));
    controller.abort();
    await p;
    const { fn } = scripted('tavily', ['ok']);
    expect(await s.caller.call(1, 'tavily', fn)).toBe('ok#1');
    expect(s.transitions.map((t) => t.reason)).toEqual(['threshold', 'cool_off_elapsed', 'probe_abandoned', 'cool_off_elapsed', 'probe_succeeded']);
  });
});

describe('guarded call: one attempt path', () => {
  it('the same semantics whatever the first attempt does: retries, value, breaker accounting', async () => {
    const s = system();
    const { fn, requests } = scripted('zerobounce', ['server', 'ok']);
    const out = await settle(s.caller.call(1, 'zerobounce', fn, { signal: new AbortController().signal }));
    expect(out.value).toBe('ok#2');
    expect(requests.map((r) => r.at - T0)).toEqual([0, 250]);
    await trip(s, 1, 'lusha');
    const refused = await settle(s.caller.call(1, 'lusha', fn, { signal: new AbortController().signal }));
    expect(refused.error).toBeInstanceOf(CircuitOpenError);
  });

  it("the caller's abort aborts the attempt in flight and releases a probe", async () => {
    const s = system();
    await trip(s);
    vi.setSystemTime(T0 + 10_000);
    const controller = new AbortController();
    const { fn, requests } = scripted('tavily', ['hang']);
    const p = settle(s.caller.call(1, 'tavily', fn, { signal: controller.signal }));
    expect(requests).toHaveLength(1);
    controller.abort();
    expect(requests[0]!.signal.aborted).toBe(true);
    expect((await p).error).toMatchObject({ kind: 'timeout', detail: 'aborted' });
    expect(s.registry.list()[0]!.state).toBe('halfOpen'); // open with the cool-off elapsed: next call probes
    expect(s.transitions.at(-1)).toMatchObject({ from: 'halfOpen', to: 'open', reason: 'probe_abandoned' });
  });
});
