/**
 * No double spend (issue 14 item 5): a paid answer is stored and reused instead of bought again
 * while younger than VENDOR_ANSWER_TTL_DAYS — no call through the guard — with the provenance of
 * what it supplied saying it came from a stored answer and when it was fetched; reuses and the money
 * they saved are counted; an old answer, a vendor at 0 days, another tenant or another request buy again.
 */
import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import { parseAnswerTtlDays, type AnswerStorePort, type AnswerTtlDays, type Company, type StoredAnswer, type TenantId, type VendorName } from '../../src/domain/index.js';
import { parseVendorPrices, type VendorPrices } from '../../src/domain/prices.js';
import { AnswerReuse, answerKey } from '../../src/streams/answers.js';
import { enrichCompany, type EnrichmentPorts } from '../../src/streams/enrichCompany.js';
import type { GuardedCallOptions, GuardedCaller } from '../../src/streams/guard.types.js';
import { CompanyUsage } from '../../src/streams/run/usage.js';
import { fixtures } from '../support/enrichment/fixtures.js';

const DAY = 86_400_000;

class MemoryAnswers implements AnswerStorePort {
  readonly rows = new Map<string, StoredAnswer>();
  async get(tenantId: TenantId, vendor: string, endpoint: string, key: string, notBefore: number) {
    const a = this.rows.get(`${tenantId}|${vendor}|${endpoint}|${key}`);
    return a && a.fetchedAt >= notBefore ? structuredClone(a) : null;
  }
  async put(tenantId: TenantId, vendor: string, endpoint: string, key: string, answer: StoredAnswer) {
    this.rows.set(`${tenantId}|${vendor}|${endpoint}|${key}`, JSON.parse(JSON.stringify(answer)) as StoredAnswer);
  }
}

class CountingGuard implements GuardedCaller {
  readonly calls: VendorName[] = [];
  readonly registry = { transitions$: EMPTY, list: () => [] };
  call<T>(_tenantId: TenantId, vendor: VendorName, fn: (signal: AbortSignal) => Promise<T>, options?: GuardedCallOptions): Promise<T> {
    this.calls.push(vendor);
    return fn(options?.signal ?? new AbortController().signal);
  }
}

const clock = { t: Date.UTC(2026, 11, 1), now() { return this.t; } };
const ports: EnrichmentPorts = {
  crawler: { crawl: async () => fixtures.crawl.ok },
  search: { search: async () => fixtures.search },
  extractor: { extract: async () => ({ facts: fixtures.facts, usage: { promptTokens: 900, completionTokens: 100, totalTokens: 1000 }, costUsd: 0.0004 }) },
  apify: { findContacts: async () => fixtures.contacts.apify },
  lusha: { findContacts: async () => fixtures.contacts.lusha },
  verifier: { verify: async (email) => ({ email, status: 'valid' as const, subStatus: null }) },
};
const env = { TAVILY_API_KEY: 't', OPENAI_API_KEY: 'o', ZEROBOUNCE_API_KEY: 'z', LUSHA_API_KEY: 'l', APIFY_TOKEN: 'a' };
const prices = parseVendorPrices('apify_linkedin=0.01/result,zerobounce=0.008/credit') as VendorPrices;
const company = (companyId: number, tenantId = 4, domain = 'acme.test'): Company => ({ companyId, tenantId, name: 'Acme Rockets', domain });

function world(ttl: AnswerTtlDays = parseAnswerTtlDays('tavily=7,openai=30,apify_linkedin=30,lusha=30,zerobounce=30') as AnswerTtlDays) {
  const store = new MemoryAnswers();
  const reuse = new AnswerReuse(store, ttl, clock);
  const config = configFrom(env);
  const enrich = async (c: Company) => {
    const guard = new CountingGuard();
    const usage = new CompanyUsage(prices);
    const output = await enrichCompany(c, {
      config,
      guard: usage.wrap(guard),
      ports,
      clock,
      answers: { reuse, prices, onReuse: (vendor, saved) => usage.addReuse(vendor, saved) },
    });
    return { output, calls: guard.calls, usage };
  };
  return { store, enrich };
}

describe('stored paid answers', () => {
  it('the second company with the same request reuses the paid answers: no call, provenance says stored and when, savings counted', async () => {
    const w = world();
    const fetchedAt = clock.t;
    const first = await w.enrich(company(1));
    expect(first.calls).toEqual(['crawler', 'openai', 'apify_linkedin', 'zerobounce', 'zerobounce', 'zerobounce']);
    // Stored: what cost money (Apify's results, ZeroBounce's credits, OpenAI's tokens); never the free crawl.
    expect([...w.store.rows.keys()].map((k) => k.split('|')[1]).sort()).toEqual(['apify_linkedin', 'openai', 'zerobounce', 'zerobounce', 'zerobounce']);
    expect(first.output.provenance.some((p) => p.storedAnswer)).toBe(false);

    clock.t += 3 * DAY;
    const second = await w.enrich(company(2));
    expect(second.calls).toEqual(['crawler']);
    expect(second.output.facts).toEqual(first.output.facts);
    expect(second.output.contacts).toEqual(first.output.contacts);
    expect(second.output.emails).toEqual(first.output.emails);
    const paidFields = second.output.provenance.filter((p) => p.source !== 'crawler' && p.source !== 'input' && p.source !== 'deterministic');
    expect(paidFields.length).toBeGreaterThan(0);
    for (const p of paidFields) expect(p.storedAnswer).toEqual({ fetchedAt: new Date(fetchedAt).toISOString() });
    expect(second.output.provenance.find((p) => p.field.startsWith('emails.') && p.field.endsWith('.status'))?.storedAnswer).toEqual({ fetchedAt: new Date(fetchedAt).toISOString() });
    // Counted: reuses per vendor and what they had cost; no call, no cost.
    const apify = second.usage.byVendor.get('apify_linkedin')!;
    expect(apify).toMatchObject({ calls: 0, costUsd: 0, reuses: 1 });
    expect(apify.savedUsd).toBeCloseTo(0.01 * fixtures.contacts.apify.length, 9);
    expect(second.usage.byVendor.get('zerobounce')).toMatchObject({ calls: 0, reuses: 3, savedUsd: 0.024 });
    expect(second.usage.byVendor.get('openai')).toMatchObject({ calls: 0, tokens: 0, reuses: 1, savedUsd: 0.0004 });
  });

  it('an answer older than its vendor’s days is bought again (and stored afresh)', async () => {
    const w = world();
    await w.enrich(company(1));
    clock.t += 31 * DAY;
    const again = await w.enrich(company(2));
    expect(again.calls).toEqual(['crawler', 'openai', 'apify_linkedin', 'zerobounce', 'zerobounce', 'zerobounce']);
    expect([...w.store.rows.values()].every((a) => a.fetchedAt === clock.t)).toBe(true);
  });

  it('0 days (or a vendor not listed) never reuses; another tenant or another domain asks again', async () => {
    const off = world(parseAnswerTtlDays('0') as AnswerTtlDays);
    await off.enrich(company(1));
    expect((await off.enrich(company(2))).calls).toHaveLength(6);
    expect(off.store.rows.size).toBe(0);

    const w = world(parseAnswerTtlDays('apify_linkedin=30') as AnswerTtlDays);
    await w.enrich(company(1));
    expect((await w.enrich(company(2))).calls).toEqual(['crawler', 'openai', 'zerobounce', 'zerobounce', 'zerobounce']);
    expect((await w.enrich(company(3, 5))).calls).toContain('apify_linkedin'); // tenant 5 has bought nothing
    expect((await w.enrich(company(4, 4, 'other.test'))).calls).toContain('apify_linkedin');
  });

  it('the key is the normalised request: case and spacing do not matter, the query does', () => {
    expect(answerKey({ domain: 'ACME.test ', name: 'Acme' })).toBe(answerKey({ name: ' acme', domain: 'acme.test' }));
    expect(answerKey({ domain: 'acme.test' })).not.toBe(answerKey({ domain: 'acme.test2' }));
    expect(answerKey({ q: 'x' })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('VENDOR_ANSWER_TTL_DAYS: defaults per vendor, 0 off, bad values refused', () => {
    expect(configFrom().quotas.answerTtlDays).toEqual({ tavily: 7, openai: 30, apify_linkedin: 30, lusha: 30, zerobounce: 30 });
    expect(configFrom({ VENDOR_ANSWER_TTL_DAYS: '0' }).quotas.answerTtlDays).toEqual({});
    for (const bad of ['tavily=x', 'odoo=3', 'tavily=99999', 'tavily=1,tavily=2']) expect(() => configFrom({ VENDOR_ANSWER_TTL_DAYS: bad })).toThrow(/VENDOR_ANSWER_TTL_DAYS/);
  });
});
