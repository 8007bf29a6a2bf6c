import type { Company, CompanyFacts, Contact, EmailStatus } from './company.js';

/**
 * Small ports the outside world is reached through. Adapters in src/adapters implement them;
 * every method throws a classified VendorError on failure and honours its AbortSignal
 * (the guarded call gives each attempt its own signal carrying the per-attempt timeout).
 */

/** What one crawl of a company site yielded. */
export interface CrawlResult {
  url: string;
  /** Visible text, whitespace-collapsed. */
  text: string;
  /** Lower-cased addresses from mailto: links, deduplicated. */
  mailtos: string[];
  /** Visible text shorter than CRAWL_MIN_CHARS. */
  thin: boolean;
}

export interface CrawlerPort {
  crawl(domain: string, signal: AbortSignal): Promise<CrawlResult>;
}

export interface SearchHit {
  title: string;
  url: string;
  content: string;
  score?: number;
}

export interface SearchResult {
  answer: string | null;
  hits: SearchHit[];
}

/** Tavily. */
export interface SearchPort {
  search(query: string, signal: AbortSignal): Promise<SearchResult>;
}

/** Token usage of one model call. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ExtractionResult {
  facts: CompanyFacts;
  usage: TokenUsage;
  /** Estimated cost in USD, when the model's price is known. */
  costUsd: number | null;
}

/** OpenAI: structure the gathered text into facts. */
export interface ExtractorPort {
  extract(input: { company: Company; text: string }, signal: AbortSignal): Promise<ExtractionResult>;
}

/** What a contact source is asked about: the company and the facts gathered so far. */
export interface ContactsInput {
  company: Company;
  facts: CompanyFacts;
}

/** Apify LinkedIn and Lusha. */
export interface ContactSourcePort {
  findContacts(input: ContactsInput, signal: AbortSignal): Promise<Contact[]>;
  /**
   * One lookup as the function the guarded call retries (one call per attempt, each with the
   * attempt's signal). A source whose lookup is several paid requests keeps what the steps that
   * succeeded returned, so a retry repeats only the step that failed. Optional: without it, every
   * attempt is a `findContacts`.
   */
  lookup?(input: ContactsInput): (signal: AbortSignal) => Promise<Contact[]>;
}

export interface EmailVerification {
  email: string;
  status: EmailStatus;
  subStatus: string | null;
  /** Epoch ms: the verification is a stored answer fetched then (VENDOR_ANSWER_TTL_DAYS), not bought again. */
  storedAt?: number;
}

/** ZeroBounce: verify one address. */
export interface EmailVerifierPort {
  verify(email: string, signal: AbortSignal): Promise<EmailVerification>;
}
