/**
 * VENDOR_PRICES and each call's cost (issue 14): parsing, what the vendor reported it charged
 * (Lusha's billing.creditsCharged through the real adapter against the simulator; Tavily's
 * usage.credits), the documented rules where it reports nothing, and cost_usd per vendor in usage.
 */
import { describe, expect, it } from 'vitest';
import { createLushaClient } from '../../src/adapters/lusha.js';
import { createTavilyClient } from '../../src/adapters/tavily.js';
import { configFrom } from '../../src/config/index.js';
import type { Company } from '../../src/domain/company.js';
import { DEFAULT_VENDOR_PRICES, billedOf, costOf, isPaid, parseVendorPrices, tokenCostOf, unitsOf, withBilled } from '../../src/domain/prices.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';
import { CompanyUsage } from '../../src/streams/run/usage.js';
import { useSimulator } from '../support/adapters.js';

const company: Company = { companyId: 1, tenantId: 1, name: 'Acme Tools', domain: 'acme-tools.example' };

describe('VENDOR_PRICES', () => {
  it('parses vendor=USD/unit; the defaults price every paid vendor but OpenAI (its model list price)', () => {
    expect(parseVendorPrices('tavily=0.008/credit, openai=0.0006/1k_tokens,lusha=1/call')).toEqual({
      tavily: { usd: 0.008, unit: 'credit' },
      openai: { usd: 0.0006, unit: '1k_tokens' },
      lusha: { usd: 1, unit: 'call' },
    });
    expect(Object.keys(parseVendorPrices(DEFAULT_VENDOR_PRICES) as object).sort()).toEqual(['apify_linkedin', 'lusha', 'tavily', 'zerobounce']);
    expect(configFrom().quotas.prices.apify_linkedin).toEqual({ usd: 0.008, unit: 'result' });
    expect(configFrom({ VENDOR_PRICES: '' }).quotas.prices).toEqual({});
  });

  it.each(['tavily', 'tavily=cheap/credit', 'tavily=1/byte', 'crawler=1/call', 'tavily=1/call,tavily=2/call', 'tavily=5000/call'])('refuses %s', (text) => {
    expect(typeof parseVendorPrices(text)).toBe('string');
    expect(() => configFrom({ VENDOR_PRICES: text })).toThrow(/VENDOR_PRICES/);
  });

  it('RUN_BUDGET_USD: empty is no cap, a number caps, anything else is refused', () => {
    expect(configFrom().quotas.runBudgetUsd).toBeNull();
    expect(configFrom({ RUN_BUDGET_USD: '12.5' }).quotas.runBudgetUsd).toBe(12.5);
    expect(() => configFrom({ RUN_BUDGET_USD: '-1' })).toThrow(/RUN_BUDGET_USD/);
    expect(() => configFrom({ RUN_BUDGET_USD: 'lots' })).toThrow(/RUN_BUDGET_USD/);
  });
});

describe('the cost of one call', () => {
  const prices = parseVendorPrices(DEFAULT_VENDOR_PRICES) as Exclude<ReturnType<typeof parseVendorPrices>, string>;

  it('uses what the vendor reported it charged, else the documented rule', () => {
    expect(unitsOf('tavily', { answer: null, hits: [] }, 'credit')).toBe(1); // basic search
    expect(unitsOf('tavily', withBilled({ answer: null, hits: [] }, { credits: 2 }), 'credit')).toBe(2); // advanced, as reported
    expect(unitsOf('zerobounce', { email: 'a@b.c', status: 'valid', subStatus: null }, 'credit')).toBe(1);
    expect(unitsOf('zerobounce', { email: 'a@b.c', status: 'unknown', subStatus: null }, 'credit')).toBe(0); // never costs a credit
    expect(unitsOf('lusha', withBilled([{}, {}, {}], { credits: 2 }), 'credit')).toBe(2);
    expect(unitsOf('lusha', [{}, {}, {}], 'credit')).toBe(3);
    expect(unitsOf('apify_linkedin', [{}, {}], 'result')).toBe(2);
    expect(costOf('apify_linkedin', [{}, {}], prices)).toBeCloseTo(0.016, 9);
    expect(costOf('crawler', {}, prices)).toBe(0);
    expect(costOf('odoo', {}, prices)).toBe(0);
    expect(tokenCostOf('openai', 2000, 0.0003, prices)).toBe(0.0003); // the model's list price
    expect(tokenCostOf('openai', 2000, 0.0003, { openai: { usd: 0.01, unit: '1k_tokens' } })).toBeCloseTo(0.02, 9);
    expect([isPaid('crawler', prices), isPaid('odoo', prices), isPaid('openai', {}), isPaid('tavily', {}), isPaid('tavily', prices)]).toEqual([false, false, true, false, true]);
  });

  it('the billed units are hidden: never serialised, never compared', () => {
    const value = withBilled([1, 2], { credits: 1 });
    expect(JSON.stringify(value)).toBe('[1,2]');
    expect(value).toEqual([1, 2]);
    expect(billedOf(value)).toEqual({ credits: 1 });
  });
});

describe("Lusha's billing.creditsCharged and Tavily's usage.credits, through the adapters and the usage tally", () => {
  const fx = useSimulator();

  it("prices a Tavily search by the credits its answer reports (include_usage)", async () => {
    const tavily = createTavilyClient(fx.config);
    const usage = new CompanyUsage({ tavily: { usd: 0.008, unit: 'credit' } });
    const guard = createGuardedCaller({ config: fx.config, clock: { now: () => Date.now() } });
    const result = await usage.wrap(guard).call(1, 'tavily', (s) => tavily.search('acme-tools.example company', s));
    expect((fx.sim.requests('tavily')[0]?.json as { include_usage?: boolean }).include_usage).toBe(true);
    expect(billedOf(result)).toEqual({ credits: 1 });
    expect(usage.byVendor.get('tavily')).toMatchObject({ calls: 1, costUsd: 0.008 });
  });

  it('prices a lookup by the credits Lusha says it charged', async () => {
    const lusha = createLushaClient(fx.config);
    const usage = new CompanyUsage({ lusha: { usd: 0.5, unit: 'credit' } });
    const spent: number[] = [];
    const counted = new CompanyUsage({ lusha: { usd: 0.5, unit: 'credit' } }, (usd) => spent.push(usd));
    const guard = createGuardedCaller({ config: fx.config, clock: { now: () => Date.now() } });
    const contacts = await usage.wrap(guard).call(1, 'lusha', lusha.lookup!({ company, facts: {} }));
    expect(contacts.length).toBeGreaterThan(0);
    // The simulator charges a credit per enriched contact and none for the search.
    expect(billedOf(contacts)).toEqual({ credits: contacts.length });
    expect(usage.byVendor.get('lusha')).toMatchObject({ calls: 1, costUsd: 0.5 * contacts.length });
    await counted.wrap(guard).call(1, 'lusha', (s) => lusha.findContacts({ company, facts: {} }, s));
    expect(spent).toEqual([0.5 * contacts.length]);
  });
});
