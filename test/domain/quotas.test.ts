import { describe, expect, it } from 'vitest';
import { configFrom, isConfigError } from '../../src/config/index.js';
import { DEFAULT_VENDOR_RATE_LIMITS, parseVendorConcurrency, parseVendorRates } from '../../src/domain/quotas.js';

describe('VENDOR_RATE_LIMITS', () => {
  it('parses vendor=N/s and vendor=N/min, comma separated', () => {
    expect(parseVendorRates('lusha=25/s, tavily=100/min')).toEqual({ lusha: { points: 25, durationS: 1 }, tavily: { points: 100, durationS: 60 } });
    expect(parseVendorRates('')).toEqual({});
  });

  it('has a default for every paid vendor', () => {
    expect(Object.keys(parseVendorRates(DEFAULT_VENDOR_RATE_LIMITS) as object).sort()).toEqual(['apify_linkedin', 'lusha', 'openai', 'tavily', 'zerobounce']);
    expect(configFrom().quotas.rates.tavily).toEqual({ points: 100, durationS: 60 });
  });

  it.each([
    ['tavily', 'is not vendor=value'],
    ['crawler=5/s', 'is not one of'],
    ['tavily=5/h', 'expected N/s or N/min'],
    ['tavily=0/s', 'expected N/s or N/min'],
    ['tavily=1.5/s', 'expected N/s or N/min'],
    ['tavily=1/s,tavily=2/s', 'given twice'],
  ])('refuses %s with a reason', (text, reason) => {
    expect(parseVendorRates(text)).toEqual(expect.stringContaining(reason));
  });

  it('a bad value is a classified configuration error naming the variable', () => {
    try {
      configFrom({ VENDOR_RATE_LIMITS: 'tavily=lots' });
      expect.unreachable();
    } catch (error) {
      expect(isConfigError(error)).toBe(true);
      expect((error as Error).message).toContain('VENDOR_RATE_LIMITS="tavily=lots"');
    }
  });
});

describe('VENDOR_CONCURRENCY', () => {
  it('parses vendor=N; the default bounds Apify at 8', () => {
    expect(parseVendorConcurrency('apify_linkedin=8,lusha=2')).toEqual({ apify_linkedin: 8, lusha: 2 });
    expect(configFrom().quotas.concurrency).toEqual({ apify_linkedin: 8 });
    expect(configFrom({ VENDOR_CONCURRENCY: '' }).quotas.concurrency).toEqual({});
  });

  it.each(['lusha=0', 'lusha=5000', 'lusha=x', 'nobody=3'])('refuses %s', (text) => {
    expect(typeof parseVendorConcurrency(text)).toBe('string');
    expect(() => configFrom({ VENDOR_CONCURRENCY: text })).toThrow(/VENDOR_CONCURRENCY/);
  });
});

describe('RETRY_BUDGET_*', () => {
  it('defaults to 20 % plus 10 a second over 10 s; empty percent turns it off', () => {
    expect(configFrom().quotas.retryBudget).toEqual({ percent: 20, minPerS: 10, windowS: 10 });
    expect(configFrom({ RETRY_BUDGET_PERCENT: '' }).quotas.retryBudget).toBeNull();
    expect(() => configFrom({ RETRY_BUDGET_PERCENT: '120' })).toThrow(/RETRY_BUDGET_PERCENT/);
    expect(() => configFrom({ RETRY_BUDGET_MIN_PER_S: '-1' })).toThrow(/RETRY_BUDGET_MIN_PER_S/);
  });
});
