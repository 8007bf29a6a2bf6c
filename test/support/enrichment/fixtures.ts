/** What the stub vendors return in the enrichment tests, and when (epoch ms) each step finishes. */
import type { CompanyFacts, Contact, CrawlResult, SearchResult } from '../../../src/domain/index.js';

export const STARTED_AT = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Finish time of each step: increasing in chain order, so "the latest time seen" is easy to state. */
export const AT = {
  crawl: STARTED_AT + 1_000,
  search: STARTED_AT + 2_000,
  extract: STARTED_AT + 3_000,
  apify: STARTED_AT + 4_000,
  lusha: STARTED_AT + 5_000,
  verify: STARTED_AT + 6_000,
} as const;

const longText =
  'Acme Rockets builds reusable launch vehicles for small satellites. Founded in 1999 in Toulouse. ' +
  'Call us on +33 5 61 00 00 00 or follow https://www.linkedin.com/company/acme-rockets for news. '.repeat(5);

const crawl: Record<'ok' | 'thin', CrawlResult> = {
  ok: { url: 'https://acme.test/', text: longText, mailtos: ['info@acme.test', 'sales@acme.test'], thin: false },
  thin: { url: 'https://acme.test/', text: 'Coming soon.', mailtos: [], thin: true },
};

const search: SearchResult = {
  answer: 'Acme Rockets is a French launch provider established in 2001.',
  hits: [{ title: 'Acme Rockets', url: 'https://www.linkedin.com/company/acme', content: 'Launch services.' }],
};

const facts: CompanyFacts = { industry: 'Aerospace', description: 'Small-satellite launcher', employeeCount: 120, country: 'FR' };

const contacts: Record<'apify' | 'lusha', Contact[]> = {
  apify: [
    { fullName: 'Ada Apify', title: 'CEO', email: 'ada@acme.test', linkedinUrl: 'https://www.linkedin.com/in/ada', source: 'apify_linkedin' },
    // Same address as a crawl mailto, in other case: must not become a second email.
    { fullName: 'Info Desk', title: null, email: 'INFO@acme.test', linkedinUrl: null, source: 'apify_linkedin' },
  ],
  lusha: [{ fullName: 'Lu Lusha', title: 'CTO', email: 'lu@acme.test', linkedinUrl: null, source: 'lusha' }],
};

export const fixtures = { crawl, search, facts, contacts };
