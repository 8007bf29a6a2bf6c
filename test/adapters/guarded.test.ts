import { describe, expect, it } from 'vitest';
import { createCrawler } from '../../src/adapters/crawler.js';
import { createLushaClient } from '../../src/adapters/lusha.js';
import { createOpenAiClient } from '../../src/adapters/openai.js';
import { createTavilyClient } from '../../src/adapters/tavily.js';
import { createVendorAdapters } from '../../src/adapters/vendors.js';
import { createZeroBounceClient } from '../../src/adapters/zerobounce.js';
import { systemClock } from '../../src/adapters/clock.js';
import { configFrom, type Config } from '../../src/config/index.js';
import { isVendorError, type ErrorKind } from '../../src/domain/errors.js';
import { createApifyLinkedinClient } from '../../src/adapters/apifyLinkedin.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';
import { closedPortUrl } from '../support/odoo/transport.js';
import { useSimulator } from '../support/adapters.js';

/**
 * Adapters through the resilience core, over real loopback HTTP: the simulator counts what
 * actually reached the vendor. Delays are a few milliseconds (RETRY_BASE_DELAY_MS=1); the
 * Retry-After honoured is asserted through the observer, not by measuring time.
 */
describe('adapters through createGuardedCaller', () => {
  const fx = useSimulator({}, { RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '100', VENDOR_TIMEOUT_MS: '5000' });

  function guarded(config: Config = fx.config) {
    const retries: { delayMs: number; kind: ErrorKind }[] = [];
    const attempts: boolean[] = [];
    const caller = createGuardedCaller({
      config,
      clock: systemClock,
      random: () => 0.5,
      observer: { onRetry: (e) => void retries.push({ delayMs: e.delayMs, kind: e.kind }), onAttempt: (e) => void attempts.push(e.ok) },
    });
    return { caller, retries, attempts };
  }
  const kindOf = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(() => null, (e: unknown) => e);
    return isVendorError(error) ? error.kind : String(error);
  };

  it("Apify: a 408 (the run timed out) makes one request, never a second paid run; its attempts get APIFY_TIMEOUT_MS", async () => {
    fx.sim.setProfile('apify_linkedin', { fault: 'server_error', status: 408 });
    const { caller, attempts } = guarded();
    const client = createApifyLinkedinClient(fx.config);
    const input = { company: { tenantId: 1, companyId: 1, name: 'Acme', domain: 'acme.example' }, facts: {} };
    expect(await kindOf(caller.call(1, 'apify_linkedin', (signal) => client.findContacts(input, signal)))).toBe('timeout');
    expect(attempts).toEqual([false]);
    expect(fx.sim.requests('apify_linkedin')).toHaveLength(1);
    fx.sim.setProfile('apify_linkedin', { fault: 'server_error', status: 503 }); // a 5xx is still retried
    expect(await kindOf(caller.call(1, 'apify_linkedin', (signal) => client.findContacts(input, signal)))).toBe('server');
    expect(fx.sim.requests('apify_linkedin')).toHaveLength(4);
  });

  it('Apify: a connection lost after the request was sent is not retried (the run may be going); one never made is', async () => {
    const input = { company: { tenantId: 1, companyId: 1, name: 'Acme', domain: 'acme.example' }, facts: {} };
    fx.sim.setProfile('apify_linkedin', 'reset');
    const lost = guarded();
    const client = createApifyLinkedinClient(fx.config);
    const error: unknown = await lost.caller.call(1, 'apify_linkedin', (signal) => client.findContacts(input, signal)).catch((e: unknown) => e);
    expect(isVendorError(error) && [error.kind, error.final]).toEqual(['network', true]);
    expect(fx.sim.requests('apify_linkedin')).toHaveLength(1);
    expect(lost.attempts).toEqual([false]);
    // Refused: nothing reached Apify, so nothing is running there; retried as any network failure.
    const refused = configFrom({ ...fx.sim.overrides, APIFY_BASE_URL: await closedPortUrl(), RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '10' });
    const retried = guarded(refused);
    const unreachable = createApifyLinkedinClient(refused);
    expect(await kindOf(retried.caller.call(1, 'apify_linkedin', (signal) => unreachable.findContacts(input, signal)))).toBe('network');
    expect(retried.attempts).toEqual([false, false, false]);
  });

  it('a 429 is retried after its Retry-After, then succeeds', async () => {
    fx.sim.setProfile('tavily', { fault: 'rate_limit', firstN: 1, retryAfterS: 0.02 });
    const { caller, retries } = guarded();
    const tavily = createTavilyClient(fx.config);
    const result = await caller.call(1, 'tavily', (signal) => tavily.search('acme.example', signal));
    expect(result.hits.length).toBeGreaterThan(0);
    expect(fx.sim.calls('tavily')).toBe(2);
    expect(retries).toEqual([{ delayMs: 20, kind: 'rate_limited' }]);
  });

  it('a Retry-After beyond RETRY_MAX_DELAY_MS is not waited for: one request, rate_limited', async () => {
    fx.sim.setProfile('tavily', { fault: 'rate_limit', retryAfterS: 5 });
    const { caller } = guarded();
    const tavily = createTavilyClient(fx.config);
    expect(await kindOf(caller.call(1, 'tavily', (s) => tavily.search('acme.example', s)))).toBe('rate_limited');
    expect(fx.sim.calls('tavily')).toBe(1);
  });

  it('5xx is retried up to RETRY_MAX_ATTEMPTS, then fails as server', async () => {
    fx.sim.setProfile('tavily', 'server_error');
    const { caller, attempts } = guarded();
    const tavily = createTavilyClient(fx.config);
    expect(await kindOf(caller.call(1, 'tavily', (s) => tavily.search('acme.example', s)))).toBe('server');
    expect(fx.sim.calls('tavily')).toBe(3);
    expect(attempts).toEqual([false, false, false]);
  });

  it('an outage that ends within the attempts is recovered', async () => {
    fx.sim.setProfile('zerobounce', { fault: 'reset', firstN: 2 });
    const { caller } = guarded();
    const zb = createZeroBounceClient(fx.config);
    await expect(caller.call(1, 'zerobounce', (s) => zb.verify('valid@example.com', s))).resolves.toMatchObject({ status: 'valid' });
    expect(fx.sim.calls('zerobounce')).toBe(3);
  });

  it('a hang times out per attempt (VENDOR_TIMEOUT_MS) and is retried', async () => {
    fx.sim.setProfile('tavily', 'hang');
    const config = configFrom({ ...fx.sim.overrides, RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '10', VENDOR_TIMEOUT_MS: '300' });
    const { caller } = guarded(config);
    const tavily = createTavilyClient(config);
    expect(await kindOf(caller.call(1, 'tavily', (s) => tavily.search('acme.example', s)))).toBe('timeout');
    expect(fx.sim.calls('tavily')).toBe(3);
  });

  it.each(['invalid_key', 'quota', 'malformed'] as const)('%s is not retried: exactly one request', async (fault) => {
    fx.sim.setProfile('zerobounce', fault);
    const { caller, retries } = guarded();
    const zb = createZeroBounceClient(fx.config);
    const kind = await kindOf(caller.call(1, 'zerobounce', (s) => zb.verify('valid@example.com', s)));
    expect(kind).toBe(fault === 'malformed' ? 'bad_response' : 'auth');
    expect(fx.sim.calls('zerobounce')).toBe(1);
    expect(retries).toEqual([]);
  });

  it('an OpenAI 429 with a billing code is quota: one request, no retry', async () => {
    fx.sim.setProfile('openai', { fault: 'quota', quotaCode: 'billing_not_active' });
    const { caller, retries } = guarded();
    const openai = createOpenAiClient(fx.config);
    const company = { companyId: 1, tenantId: 1, name: 'Acme Tools', domain: 'acme-tools.example' };
    expect(await kindOf(caller.call(1, 'openai', (s) => openai.extract({ company, text: 'Acme Tools.' }, s)))).toBe('quota_exhausted');
    expect(fx.sim.calls('openai')).toBe(1);
    expect(retries).toEqual([]);
  });

  it('CB_ERROR_THRESHOLD failed calls open the breaker; the next call makes no request', async () => {
    fx.sim.setProfile('tavily', 'invalid_key');
    const config = configFrom({ ...fx.sim.overrides, CB_ERROR_THRESHOLD: '2', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '10' });
    const { caller } = guarded(config);
    const tavily = createTavilyClient(config);
    const call = () => caller.call(7, 'tavily', (s) => tavily.search('acme.example', s));
    expect(await kindOf(call())).toBe('auth');
    expect(await kindOf(call())).toBe('auth');
    const refused: unknown = await call().then(() => null, (e: unknown) => e);
    expect((refused as Error).name).toBe('CircuitOpenError');
    expect(fx.sim.calls('tavily')).toBe(2);
  });

  it('a redirect to a malformed Location is bad_response: one request, no retry', async () => {
    const template = `${fx.sim.baseUrl}/redirect?to=${encodeURIComponent('http://[::1/')}&site={domain}`;
    const config = configFrom({ ...fx.sim.overrides, CRAWL_URL_TEMPLATE: template, RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '10' });
    const { caller, retries } = guarded(config);
    const crawler = createCrawler(config);
    expect(await kindOf(caller.call(1, 'crawler', (s) => crawler.crawl('acme.example', s)))).toBe('bad_response');
    expect(retries).toEqual([]);
    expect(fx.sim.calls('crawler')).toBe(1);
  });

  describe('Lusha: the attempts of one lookup share the paid prospecting search', () => {
    const input = { company: { companyId: 1, tenantId: 1, name: 'Acme Tools', domain: 'acme-tools.example' }, facts: {} };
    const paths = () => fx.sim.requests('lusha').map((r) => new URL(r.url, 'http://x').pathname.replace('/lusha/v3/contacts/', ''));

    it('a failed enrich is retried alone: one search, two enrich requests', async () => {
      fx.sim.setProfile('lusha', { script: ['ok', 'server_error', 'ok'] });
      const { caller, retries } = guarded();
      const lusha = createLushaClient(fx.config);
      const contacts = await caller.call(1, 'lusha', lusha.lookup!(input));
      expect(contacts.length).toBeGreaterThan(0);
      expect(paths()).toEqual(['prospecting', 'enrich', 'enrich']);
      expect(retries).toEqual([{ delayMs: expect.any(Number), kind: 'server' }]);
    });

    it('a failed search is searched again; a new lookup searches afresh', async () => {
      fx.sim.setProfile('lusha', { script: ['server_error', 'ok', 'ok'] });
      const { caller } = guarded();
      const lusha = createLushaClient(fx.config);
      await caller.call(1, 'lusha', lusha.lookup!(input));
      expect(paths()).toEqual(['prospecting', 'prospecting', 'enrich']);
      await caller.call(1, 'lusha', lusha.lookup!(input));
      await lusha.findContacts(input, AbortSignal.timeout(5_000));
      expect(paths()).toEqual(['prospecting', 'prospecting', 'enrich', 'prospecting', 'enrich', 'prospecting', 'enrich']);
    });
  });

  it('an SSRF refusal of the crawler is not retried', async () => {
    const config = configFrom({ ...fx.sim.overrides, CRAWL_ALLOW_PRIVATE_NETWORKS: 'false', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '10' });
    const { caller, retries } = guarded(config);
    const crawler = createCrawler(config);
    expect(await kindOf(caller.call(1, 'crawler', (s) => crawler.crawl('acme.example', s)))).toBe('bad_request');
    expect(retries).toEqual([]);
    expect(fx.sim.calls('crawler')).toBe(0);
  });
});

describe.each(['tavily', 'openai', 'zerobounce', 'lusha', 'apify_linkedin'] as const)('%s through the guarded call', (vendor) => {
  const fx = useSimulator({}, { RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '100', VENDOR_TIMEOUT_MS: '5000' });
  const company = { companyId: 1, tenantId: 1, name: 'Acme Tools', domain: 'acme-tools.example' };
  const callOnce = (config: Config) => {
    const adapters = createVendorAdapters(config);
    const fns: Record<typeof vendor, (s: AbortSignal) => Promise<unknown>> = {
      tavily: (s: AbortSignal) => adapters.tavily!.search('acme-tools.example', s),
      openai: (s: AbortSignal) => adapters.openai!.extract({ company, text: 'Acme Tools.' }, s),
      zerobounce: (s: AbortSignal) => adapters.zerobounce!.verify('valid@example.com', s),
      lusha: (s: AbortSignal) => adapters.lusha!.findContacts({ company, facts: {} }, s),
      apify_linkedin: (s: AbortSignal) => adapters.apifyLinkedin!.findContacts({ company, facts: {} }, s),
    };
    const caller = createGuardedCaller({ config, clock: systemClock, random: () => 0.5 });
    return caller.call(1, vendor, fns[vendor]);
  };
  /** Lusha makes two requests (prospecting, enrich) per successful attempt. */
  const perSuccess = vendor === 'lusha' ? 2 : 1;
  const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isVendorError(e) ? e.kind : String(e)));

  it('429 with a short Retry-After: retried, then succeeds', async () => {
    fx.sim.setProfile(vendor, { fault: 'rate_limit', firstN: 1, retryAfterS: 0.01 });
    expect(await outcome(callOnce(fx.config))).toBe('ok');
    expect(fx.sim.calls(vendor)).toBe(1 + perSuccess);
  });

  it('5xx: retried RETRY_MAX_ATTEMPTS times, then fails as server', async () => {
    fx.sim.setProfile(vendor, 'server_error');
    expect(await outcome(callOnce(fx.config))).toBe('server');
    expect(fx.sim.calls(vendor)).toBe(3);
  });

  it('invalid key: auth, never retried', async () => {
    fx.sim.setProfile(vendor, 'invalid_key');
    expect(await outcome(callOnce(fx.config))).toBe('auth');
    expect(fx.sim.calls(vendor)).toBe(1);
  });

  it(vendor === 'apify_linkedin' ? 'reset: network, not retried (the run the request started may be going)' : 'reset: network, retried', async () => {
    fx.sim.setProfile(vendor, 'reset');
    expect(await outcome(callOnce(fx.config))).toBe('network');
    expect(fx.sim.calls(vendor)).toBe(vendor === 'apify_linkedin' ? 1 : 3);
  });
});
