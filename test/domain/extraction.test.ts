import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DETERMINISTIC_DESCRIPTION_MAX_CHARS, extractDeterministically } from '../../src/domain/extraction.js';
import { companyOf } from '../support/enrichment/expectedChain.js';
import { fixtures } from '../support/enrichment/fixtures.js';

describe('extractDeterministically', () => {
  it('reads name, website, description, LinkedIn page, phone and founding year off the evidence', () => {
    const facts = extractDeterministically({ company: companyOf('full'), crawl: fixtures.crawl.ok, search: null });
    expect(facts).toEqual({
      name: 'Acme Rockets',
      website: 'https://acme.test/',
      description: 'Acme Rockets builds reusable launch vehicles for small satellites. Founded in 1999 in Toulouse.',
      linkedinUrl: 'https://www.linkedin.com/company/acme-rockets',
      phone: '+33 5 61 00 00 00',
      foundedYear: 1999,
    });
  });

  it('prefers Tavily’s answer for the description and finds facts in the hits', () => {
    const facts = extractDeterministically({ company: companyOf('nameOnly'), crawl: null, search: fixtures.search });
    expect(facts).toEqual({ name: 'Acme Rockets', description: fixtures.search.answer, linkedinUrl: 'https://www.linkedin.com/company/acme', foundedYear: 2001 });
  });

  it('is total: any text gives facts without nulls and a bounded description', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.option(fc.string(), { nil: null }), (text, answer) => {
        const facts = extractDeterministically({
          company: companyOf('domainOnly'),
          crawl: { url: 'https://acme.test/', text, mailtos: [], thin: text.length < 500 },
          search: { answer, hits: [] },
        });
        expect(Object.values(facts).every((v) => v !== null && v !== undefined)).toBe(true);
        expect((facts.description ?? '').length).toBeLessThanOrEqual(DETERMINISTIC_DESCRIPTION_MAX_CHARS);
        expect(facts.website).toBe('https://acme.test/');
      }),
    );
  });
});
