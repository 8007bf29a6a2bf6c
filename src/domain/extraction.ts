import type { Company, CompanyFacts } from './company.js';
import type { CrawlResult, SearchResult } from './ports.js';

/** Evidence the deterministic extraction reads: the company itself and whatever was gathered. */
export interface ExtractionEvidence {
  company: Company;
  crawl: CrawlResult | null;
  search: SearchResult | null;
}

/** Longest description kept, in characters. */
export const DETERMINISTIC_DESCRIPTION_MAX_CHARS = 280;

const LINKEDIN_COMPANY = /https?:\/\/(?:[a-z]{2,3}\.)?linkedin\.com\/company\/[A-Za-z0-9_%-]+/i;
const PHONE = /\+\d[\d\s().-]{6,}\d/;
const FOUNDED = /\b(?:founded|established|since)\s+(?:in\s+)?(1[89]\d\d|20\d\d)\b/i;

/**
 * The extraction used when OpenAI is off, failed or was refused (DESIGN.md "The fallback chain",
 * step 4): facts that can be read off the input and the gathered text without a model. Pure and
 * total: never throws, never reads time, and returns only fields it found (no nulls).
 *
 * - `name` from the company; `website` `https://<domain>/` when the company has a domain;
 * - `description`: Tavily's answer, else the first sentences of the crawl text, else the first hit,
 *   cut at {@link DETERMINISTIC_DESCRIPTION_MAX_CHARS};
 * - `linkedinUrl`, `phone`, `foundedYear`: first match in the crawl text, the hits and their URLs.
 */
export function extractDeterministically(evidence: ExtractionEvidence): CompanyFacts {
  const { company, crawl, search } = evidence;
  const hitsText = (search?.hits ?? []).map((h) => `${h.url} ${h.title} ${h.content}`).join('\n');
  const corpus = [crawl?.text ?? '', search?.answer ?? '', hitsText].join('\n');
  const facts: CompanyFacts = {};
  if (company.name) facts.name = company.name;
  if (company.domain) facts.website = `https://${company.domain}/`;
  const description = describe(search?.answer ?? null, crawl?.text ?? null, search?.hits[0]?.content ?? null);
  if (description) facts.description = description;
  const linkedin = LINKEDIN_COMPANY.exec(corpus);
  if (linkedin) facts.linkedinUrl = linkedin[0];
  const phone = PHONE.exec(corpus);
  if (phone) facts.phone = phone[0].replace(/\s+/g, ' ').trim();
  const founded = FOUNDED.exec(corpus);
  if (founded?.[1]) facts.foundedYear = Number(founded[1]);
  return facts;
}

function describe(answer: string | null, crawlText: string | null, firstHit: string | null): string | null {
  for (const candidate of [answer, firstSentences(crawlText), firstHit]) {
    const text = candidate?.replace(/\s+/g, ' ').trim();
    if (text) return clip(text);
  }
  return null;
}

function firstSentences(text: string | null): string | null {
  if (!text) return null;
  const sentences = text.replace(/\s+/g, ' ').trim().match(/[^.!?]+[.!?]+/g);
  return sentences ? sentences.slice(0, 2).join('').trim() : text;
}

function clip(text: string): string {
  if (text.length <= DETERMINISTIC_DESCRIPTION_MAX_CHARS) return text;
  const cut = text.slice(0, DETERMINISTIC_DESCRIPTION_MAX_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > DETERMINISTIC_DESCRIPTION_MAX_CHARS / 2 ? cut.slice(0, space) : cut}…`;
}
