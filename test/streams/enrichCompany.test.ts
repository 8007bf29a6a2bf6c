/**
 * The stream-side binding: enrichCompany runs the machine over fake ports through a fake
 * GuardedCaller (the real one is the resilience core's; this one only records calls and refuses
 * the vendors it is told are open).
 */
import { EMPTY } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createVendorAdapters } from '../../src/adapters/vendors.js';
import { configFrom, vendorsOn } from '../../src/config/index.js';
import {
  CircuitOpenError,
  VendorError,
  isBreakerVendor,
  type Company,
  type StageEvent,
  type TenantId,
  type VendorName,
} from '../../src/domain/index.js';
import { enrichCompany, enrichmentInputFrom, type EnrichCompanyDeps, type EnrichmentPorts } from '../../src/streams/enrichCompany.js';
import type { GuardedCallOptions, GuardedCaller } from '../../src/streams/guard.types.js';
import { fixtures } from '../support/enrichment/fixtures.js';

class FakeGuard implements GuardedCaller {
  readonly calls: { tenantId: TenantId; vendor: VendorName; options: GuardedCallOptions | undefined }[] = [];
  readonly open = new Set<VendorName>();
  readonly registry = { transitions$: EMPTY, list: () => [] };
  call<T>(tenantId: TenantId, vendor: VendorName, fn: (signal: AbortSignal) => Promise<T>, options?: GuardedCallOptions): Promise<T> {
    this.calls.push({ tenantId, vendor, options });
    if (this.open.has(vendor) && isBreakerVendor(vendor)) return Promise.reject(new CircuitOpenError(tenantId, vendor));
    return fn(options?.signal ?? new AbortController().signal);
  }
}

const clock = { t: 1_000_000, now() { return this.t; } };
const later = <T>(ms: number, value: T) => { clock.t += ms; return Promise.resolve(value); };
const hang = (signal: AbortSignal, seen: AbortSignal[]) => { seen.push(signal); return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))); };
const down = (vendor: VendorName) => () => Promise.reject(new VendorError({ vendor, kind: 'server', status: 503 }));

function workingPorts(): EnrichmentPorts {
  return {
    crawler: { crawl: () => later(40, fixtures.crawl.ok) },
    search: { search: () => later(30, fixtures.search) },
    extractor: { extract: () => later(200, { facts: fixtures.facts, usage: { promptTokens: 900, completionTokens: 100, totalTokens: 1000 }, costUsd: 0.0004 }) },
    apify: { findContacts: () => later(500, fixtures.contacts.apify) },
    lusha: { findContacts: () => later(60, fixtures.contacts.lusha) },
    verifier: { verify: (email) => later(5, { email, status: 'valid' as const, subStatus: null }) },
  };
}

const allKeys = { TAVILY_API_KEY: 't', OPENAI_API_KEY: 'o', ZEROBOUNCE_API_KEY: 'z', LUSHA_API_KEY: 'l', APIFY_TOKEN: 'a', ENABLE_LUSHA_FALLBACK: 'true' };
const company: Company = { companyId: 11, tenantId: 4, name: 'Acme Rockets', domain: 'acme.test' };

function depsOf(overrides: Partial<EnrichCompanyDeps> = {}, env: Record<string, string> = allKeys) {
  const guard = new FakeGuard();
  const events: StageEvent[] = [];
  const deps: EnrichCompanyDeps = { config: configFrom(env), guard, ports: workingPorts(), clock, onStageEvent: (e) => events.push(e), ...overrides };
  return { deps, guard, events };
}

afterEach(() => vi.useRealTimers());

describe('enrichCompany', () => {
  it('calls each port through the guard with the tenant, the caller’s signal and the company deadline', async () => {
    const usage = vi.fn();
    const { deps, guard, events } = depsOf({ onUsage: usage });
    const startedAt = clock.t;
    const output = await enrichCompany(company, deps);
    expect(guard.calls.map((c) => c.vendor)).toEqual(['crawler', 'openai', 'apify_linkedin', 'zerobounce', 'zerobounce', 'zerobounce']);
    expect(guard.calls.every((c) => c.tenantId === 4 && c.options?.deadline === startedAt + 120_000 && c.options.signal instanceof AbortSignal)).toBe(true);
    expect(output).toMatchObject({ companyId: 11, tenantId: 4, degradedReasons: null, facts: fixtures.facts });
    expect(output.emails.map((e) => e.status)).toEqual(['valid', 'valid', 'valid']);
    expect(output.timings).toEqual([
      { stage: 'crawl', durationMs: 40 },
      { stage: 'extract', durationMs: 200 },
      { stage: 'contacts', durationMs: 500 },
      { stage: 'verify', durationMs: 15 },
    ]);
    expect(usage).toHaveBeenCalledWith({ tenantId: 4, companyId: 11, vendor: 'openai', usage: expect.objectContaining({ totalTokens: 1000 }), costUsd: 0.0004 });
    expect(events.map((e) => [e.stage, e.event, e.status])).toEqual([
      ['crawl', 'finish', 'ok'],
      ['extract', 'finish', 'ok'],
      ['contacts', 'finish', 'ok'],
      ['verify', 'finish', 'ok'],
      ['done', 'finish', 'ok'],
    ]);
    expect(events.at(-1)?.durationMs).toBe(755);
  });

  it('every vendor failing: resolves with the reasons, never rejects, and logs each fallback', async () => {
    const ports: EnrichmentPorts = {
      crawler: { crawl: () => later(10, fixtures.crawl.thin) },
      search: { search: down('tavily') },
      extractor: { extract: down('openai') },
      apify: { findContacts: down('apify_linkedin') },
      lusha: { findContacts: down('lusha') },
      verifier: { verify: down('zerobounce') },
    };
    const { deps, events } = depsOf({ ports });
    const output = await enrichCompany(company, deps);
    expect(output.degradedReasons).toBe('CRAWL_THIN,TAVILY_FAIL,OPENAI_FAIL,APIFY_LINKEDIN_FAIL,LUSHA_FAIL');
    expect(events.filter((e) => e.event === 'error').map((e) => [e.stage, e.errorCode, e.extra['error_kind']])).toEqual([
      ['search', 'TAVILY_FAIL', 'server'],
      ['extract', 'OPENAI_FAIL', 'server'],
      ['contacts', 'APIFY_LINKEDIN_FAIL', 'server'],
      ['contacts', 'LUSHA_FAIL', 'server'],
    ]);
    expect(events.map((e) => e.extra['fallback_taken']).filter(Boolean)).toEqual(['tavily', 'deterministic_extraction', 'lusha', 'tavily,deterministic_extraction,lusha']);
  });

  it("a stage error's event carries the VendorError's detail (ssrf refusal, redirects, timeout); a refusal and an unclassified error carry none", async () => {
    const failing = (vendor: VendorName, init: Omit<ConstructorParameters<typeof VendorError>[0], 'vendor'>) => () => Promise.reject(new VendorError({ vendor, ...init }));
    const ports: EnrichmentPorts = {
      crawler: { crawl: failing('crawler', { kind: 'bad_request', detail: 'ssrf_refused:loopback' }) },
      search: { search: failing('tavily', { kind: 'bad_response', status: 302, detail: 'too_many_redirects' }) },
      extractor: { extract: failing('openai', { kind: 'timeout', detail: 'attempt timed out' }) },
      apify: { findContacts: () => Promise.reject(new Error('boom https://api.example/?token=sk-secret-1')) },
      lusha: { findContacts: down('lusha') },
      verifier: { verify: down('zerobounce') },
    };
    const { deps, guard, events } = depsOf({ ports });
    guard.open.add('lusha');
    await enrichCompany(company, deps);
    expect(events.filter((e) => e.event === 'error').map((e) => [e.stage, e.errorCode, e.extra['error_kind'], e.extra['detail']])).toEqual([
      ['crawl', 'CRAWL_ERROR', 'bad_request', 'ssrf_refused:loopback'],
      ['search', 'TAVILY_FAIL', 'bad_response', 'too_many_redirects'],
      ['extract', 'OPENAI_FAIL', 'timeout', 'attempt timed out'],
      ['contacts', 'APIFY_LINKEDIN_FAIL', null, null],
      ['contacts', 'CIRCUIT_OPEN:lusha', null, null],
    ]);
    expect(JSON.stringify(events)).not.toContain('sk-secret-1');
  });

  it('an open breaker is a refusal, told apart from a failure; Lusha is asked next', async () => {
    const { deps, guard, events } = depsOf();
    guard.open.add('apify_linkedin');
    const output = await enrichCompany(company, deps);
    expect(output.reasons).toEqual(['CIRCUIT_OPEN:apify_linkedin']);
    expect(output.contacts.map((c) => c.source)).toEqual(['lusha']);
    expect(events.find((e) => e.status === 'refused')).toMatchObject({ stage: 'contacts', errorCode: 'CIRCUIT_OPEN:apify_linkedin', event: 'error' });
  });

  it('vendors without keys are not called and not degraded', async () => {
    const { deps, guard, events } = depsOf({}, {});
    const output = await enrichCompany(company, deps);
    expect(guard.calls.map((c) => c.vendor)).toEqual(['crawler']);
    expect(output.degradedReasons).toBeNull();
    expect(output.emails.every((e) => e.status === 'unverified')).toBe(true);
    expect(events.filter((e) => e.event === 'skip').map((e) => e.extra['detail'])).toEqual(['no_key', 'no_source', 'no_key']);
  });

  it('whether a vendor is on is vendorsOn’s decision: a key set and not empty; the chain and the adapters both follow it', () => {
    const config = configFrom({ TAVILY_API_KEY: 't', APIFY_TOKEN: 'a', OPENAI_API_KEY: '  ', ENABLE_APIFY_LINKEDIN: 'false' });
    const on = vendorsOn(config);
    expect(on).toEqual({ tavily: true, openai: false, zerobounce: false, lusha: false, apify_linkedin: true }); // switches are the chain's
    expect(enrichmentInputFrom(company, config, 0).vendors).toEqual(on);
    const adapters = createVendorAdapters(config);
    const built = { tavily: adapters.tavily, openai: adapters.openai, zerobounce: adapters.zerobounce, lusha: adapters.lusha, apify_linkedin: adapters.apifyLinkedin };
    expect(Object.fromEntries(Object.entries(built).map(([v, a]) => [v, a !== null]))).toEqual(on);
  });

  it('the caller’s abort stops the company and rejects with its reason', async () => {
    const seen: AbortSignal[] = [];
    const controller = new AbortController();
    const ports = { ...workingPorts(), crawler: { crawl: (_: string, signal: AbortSignal) => hang(signal, seen) } };
    const { deps } = depsOf({ ports, signal: controller.signal });
    const running = enrichCompany(company, deps);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    controller.abort(new Error('shutdown'));
    await expect(running).rejects.toThrow('shutdown');
    expect(seen[0]?.aborted).toBe(true);
    await expect(enrichCompany(company, deps)).rejects.toThrow('shutdown');
  });

  it('the company deadline ends a stuck company with what it has', async () => {
    vi.useFakeTimers();
    const seen: AbortSignal[] = [];
    const ports = { ...workingPorts(), extractor: { extract: (_: unknown, signal: AbortSignal) => hang(signal, seen) } };
    const { deps } = depsOf({ ports }, { ...allKeys, COMPANY_DEADLINE_MS: '2000' });
    const running = enrichCompany(company, deps);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const output = await running;
    expect(output.reasons).toEqual(['DEADLINE_EXCEEDED']);
    expect(output.emails.map((e) => e.email)).toEqual(['info@acme.test', 'sales@acme.test']);
    expect(seen[0]?.aborted).toBe(true);
  });

  it('takes the deadline timer from machineClock when given (e.g. a SimulatedClock)', async () => {
    const machineClock = new SimulatedClock();
    const seen: AbortSignal[] = [];
    const ports = { ...workingPorts(), apify: { findContacts: (_: unknown, signal: AbortSignal) => hang(signal, seen) } };
    const { deps } = depsOf({ ports, machineClock }, { ...allKeys, COMPANY_DEADLINE_MS: '60000' });
    const running = enrichCompany(company, deps);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    machineClock.increment(60_000);
    await expect(running).resolves.toMatchObject({ reasons: ['DEADLINE_EXCEEDED'], facts: fixtures.facts });
  });

  it('a throwing stage sink does not fail the company', async () => {
    const { deps } = depsOf({ onStageEvent: () => { throw new Error('sink down'); } });
    await expect(enrichCompany({ ...company, name: null, domain: null }, deps)).resolves.toMatchObject({ degradedReasons: 'DATA_EMPTY:no_domain_name' });
  });
});
