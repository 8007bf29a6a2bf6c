import { describe, expect, it } from 'vitest';
import { createApifyLinkedinClient, PROFILE_SCRAPER_MODE, runTimeoutSeconds } from '../../src/adapters/apifyLinkedin.js';
import { createLushaClient } from '../../src/adapters/lusha.js';
import { createOpenAiClient } from '../../src/adapters/openai.js';
import { estimateCostUsd } from '../../src/adapters/openaiFacts.js';
import { createTavilyClient } from '../../src/adapters/tavily.js';
import { createVendorAdapters } from '../../src/adapters/vendors.js';
import { createZeroBounceClient, validationTimeoutSeconds } from '../../src/adapters/zerobounce.js';
import { configFrom } from '../../src/config/index.js';
import type { Company } from '../../src/domain/company.js';
import { SIM_KEYS } from '../../src/sim/index.js';
import { attempt, useSimulator, vendorErrorOf } from '../support/adapters.js';

const company: Company = { companyId: 1, tenantId: 1, name: 'Acme Tools', domain: 'acme-tools.example' };

describe('vendor adapters, happy paths against the simulator', () => {
  const fx = useSimulator();

  it('Tavily: POST /search with a Bearer key and no body key; hits parsed', async () => {
    const result = await createTavilyClient(fx.config).search('acme-tools.example company profile', attempt());
    expect(result.hits.length).toBeGreaterThan(0);
    for (const hit of result.hits) expect(hit).toMatchObject({ title: expect.any(String), url: expect.stringMatching(/^https:\/\//), content: expect.any(String) });
    expect(result.answer).toContain('Acme Tools');
    const [request] = fx.sim.requests('tavily');
    expect(request?.headers.authorization).toBe(`Bearer ${SIM_KEYS.tavily}`);
    expect(request?.json).not.toHaveProperty('api_key');
  });

  it('Tavily: 433 (pay-as-you-go limit) is quota too', async () => {
    fx.sim.setProfile('tavily', { fault: 'quota', status: 433 });
    const error = await vendorErrorOf(createTavilyClient(fx.config).search('x', attempt()));
    expect([error.kind, error.status]).toEqual(['quota_exhausted', 433]);
  });

  it('OpenAI: JSON-mode chat completion → facts, token usage and a cost', async () => {
    const result = await createOpenAiClient(fx.config).extract({ company, text: 'Acme Tools makes tools in Berlin.' }, attempt());
    expect(result.facts.name).toBe('Acme Tools');
    expect(result.facts.website).toBe('https://acme-tools.example');
    expect(Number.isInteger(result.facts.employeeCount)).toBe(true);
    expect(result.usage.totalTokens).toBe(result.usage.promptTokens + result.usage.completionTokens);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.costUsd).toBeCloseTo(estimateCostUsd('gpt-4o-mini', result.usage.promptTokens, result.usage.completionTokens) ?? -1, 12);
    const body = fx.sim.requests('openai')[0]?.json as { response_format: unknown; messages: { role: string; content: string }[] };
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages[0]?.role).toBe('system');
    expect(body.messages[0]?.content).toMatch(/JSON object/);
  });

  it('OpenAI: prose, finish_reason length, a refusal and no choices are each bad_response', async () => {
    fx.sim.setProfile('openai', 'schema');
    const client = createOpenAiClient(fx.config);
    const details: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const error = await vendorErrorOf(client.extract({ company, text: 't' }, attempt()));
      expect(error.kind).toBe('bad_response');
      details.push(error.detail);
    }
    expect(details).toEqual(['content is not a JSON object', 'finish_reason length', 'refusal', 'schema mismatch at choices']);
  });

  it.each([
    ['billing_not_active', 'billing_not_active'],
    ['billing_hard_limit_reached', 'billing_hard_limit_reached'],
    ['an undocumented billing_* code', 'billing_account_suspended'],
  ])('OpenAI: a 429 whose type/code is %s is quota_exhausted, not a rate limit', async (_, code) => {
    fx.sim.setProfile('openai', { fault: 'quota', quotaCode: code });
    const error = await vendorErrorOf(createOpenAiClient(fx.config).extract({ company, text: 't' }, attempt()));
    expect([error.kind, error.status, error.detail, error.retryable]).toEqual(['quota_exhausted', 429, code, false]);
  });

  it('OpenAI: unknown models have no cost; dated snapshots use the base price', () => {
    expect(estimateCostUsd('my-finetune', 1000, 1000)).toBeNull();
    expect(estimateCostUsd('gpt-4o-mini-2024-07-18', 1_000_000, 0)).toBeCloseTo(0.15, 10);
  });

  it('ZeroBounce: GET /validate with api_key, email, an empty ip_address and a timeout', async () => {
    const client = createZeroBounceClient(configFrom({ ...fx.sim.overrides, VENDOR_TIMEOUT_MS: '15000' }));
    await expect(client.verify('valid@example.com', attempt())).resolves.toEqual({ email: 'valid@example.com', status: 'valid', subStatus: null });
    await expect(client.verify('invalid@example.com', attempt())).resolves.toEqual({ email: 'invalid@example.com', status: 'invalid', subStatus: 'mailbox_not_found' });
    const url = new URL(fx.sim.requests('zerobounce')[0]?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/zerobounce/v2/validate');
    expect([...url.searchParams.keys()].sort()).toEqual(['api_key', 'email', 'ip_address', 'timeout']);
    expect(url.searchParams.get('ip_address')).toBe('');
    expect(url.searchParams.get('timeout')).toBe('13');
  });

  it('ZeroBounce: the timeout asked for is VENDOR_TIMEOUT_MS − 2 s, within the documented 3–60 s', async () => {
    const client = createZeroBounceClient(configFrom({ ...fx.sim.overrides, VENDOR_TIMEOUT_MS: '30999' }));
    await client.verify('valid@example.com', attempt());
    expect(new URL(fx.sim.requests('zerobounce')[0]?.url ?? '', 'http://x').searchParams.get('timeout')).toBe('28');
    expect([400, 4_999, 5_000, 6_000, 15_000, 61_999, 62_000, 3_600_000].map(validationTimeoutSeconds)).toEqual([3, 3, 3, 4, 13, 59, 60, 60]);
  });

  it('Lusha: prospecting by domain, then enrich the ids with reveal emails', async () => {
    const contacts = await createLushaClient(fx.config).findContacts({ company, facts: {} }, attempt());
    expect(contacts.length).toBeGreaterThan(0);
    for (const c of contacts) {
      expect(c.source).toBe('lusha');
      expect(c.email).toMatch(/@acme-tools\.example$/);
      expect(c.fullName).toBe(`${c.firstName} ${c.lastName}`);
    }
    const [search, enrich] = fx.sim.requests('lusha');
    expect(search?.headers.api_key).toBe(SIM_KEYS.lusha);
    expect(search?.json).toMatchObject({ filters: { companies: { include: { domains: ['acme-tools.example'] } } } });
    expect(enrich?.json).toMatchObject({ reveal: ['emails'], ids: expect.any(Array) });
    expect((enrich?.json as { ids: unknown[] }).ids).toHaveLength(contacts.length);
  });

  it('Lusha: a daily-quota 429 is quota; a per-minute 429 is a rate limit whose wait comes from "Reset in X seconds" (no Retry-After)', async () => {
    const client = createLushaClient(fx.config);
    fx.sim.setProfile('lusha', { fault: 'quota', status: 429 });
    expect((await vendorErrorOf(client.findContacts({ company, facts: {} }, attempt()))).kind).toBe('quota_exhausted');
    fx.sim.setProfile('lusha', { fault: 'rate_limit', retryAfterS: 30 });
    const limited = await vendorErrorOf(client.findContacts({ company, facts: {} }, attempt()));
    expect([limited.kind, limited.retryAfterMs]).toEqual(['rate_limited', 30_000]);
  });

  it('Apify: run-sync-get-dataset-items with a Bearer token, never ?token=; hidden profiles skipped', async () => {
    const config = configFrom({ ...fx.sim.overrides, VENDOR_TIMEOUT_MS: '15000', APIFY_TIMEOUT_MS: '90000' });
    const facts = { linkedinUrl: 'https://www.linkedin.com/company/acme-tools' };
    const contacts = await createApifyLinkedinClient(config).findContacts({ company, facts }, attempt());
    const request = fx.sim.requests('apify_linkedin')[0];
    const url = new URL(request?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/apify/v2/acts/harvestapi~linkedin-company-employees/run-sync-get-dataset-items');
    expect(url.searchParams.has('token')).toBe(false);
    expect(url.searchParams.get('timeout')).toBe('85'); // APIFY_TIMEOUT_MS − 5 s: the run stops itself before our attempt gives up
    expect(request?.headers.authorization).toBe(`Bearer ${SIM_KEYS.apify_linkedin}`);
    expect(request?.json).toEqual({ companies: [facts.linkedinUrl], maxItems: 10, profileScraperMode: PROFILE_SCRAPER_MODE });
    expect(contacts.length).toBeGreaterThan(0);
    for (const c of contacts) {
      expect(c).toMatchObject({ source: 'apify_linkedin', email: null, linkedinUrl: expect.stringMatching(/^https:\/\/www\.linkedin\.com\/in\//) });
      expect(c.fullName).not.toBe('LinkedIn Member');
    }
  });

  it('Apify: 408 run-timeout-exceeded is a timeout that is never retried; the run timeout stays under 300 s', async () => {
    fx.sim.setProfile('apify_linkedin', { fault: 'server_error', status: 408 });
    const error = await vendorErrorOf(createApifyLinkedinClient(fx.config).findContacts({ company, facts: {} }, attempt()));
    expect([error.kind, error.status, error.retryable]).toEqual(['timeout', 408, false]); // a retry would start a second paid run
    expect(runTimeoutSeconds(3_600_000)).toBe(290);
    expect(runTimeoutSeconds(90_000)).toBe(85);
    expect(runTimeoutSeconds(5000)).toBe(1);
  });

  it('a body over the size cap is bad_response, not a crash or an unbounded read', async () => {
    const error = await vendorErrorOf(createTavilyClient(fx.config, { maxBytes: 64 }).search('acme-tools.example', attempt()));
    expect([error.kind, error.detail]).toEqual(['bad_response', 'response too large']);
  });

  it('a vendor without its key is off: its adapter refuses to be built, the bundle leaves it null', () => {
    const config = configFrom({ ...fx.sim.overrides, TAVILY_API_KEY: '', LUSHA_API_KEY: '' });
    expect(() => createTavilyClient(config)).toThrow(/TAVILY_API_KEY/);
    const adapters = createVendorAdapters(config);
    expect([adapters.tavily, adapters.lusha]).toEqual([null, null]);
    expect([adapters.openai, adapters.zerobounce, adapters.apifyLinkedin].every((a) => a !== null)).toBe(true);
  });
});
