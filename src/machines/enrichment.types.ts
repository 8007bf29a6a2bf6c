import type {
  Company,
  CompanyFacts,
  Contact,
  CrawlResult,
  EmailRecord,
  EnabledVendors,
  ErrorKind,
  ProvenanceEntry,
  ReasonCode,
  SearchResult,
  StageEvent,
  StepName,
} from '../domain/index.js';

/**
 * What one step actor resolves with. Actors carry their own time (the machine never reads a clock):
 * `at` is the epoch milliseconds when the step finished, `durationMs` how long it took.
 * A failure is either a refusal by an open breaker (`refused: true`, no request was made) or a
 * classified failure (`kind` from the error taxonomy, null when the error was not classified).
 * `detail` is the classified error's own short, secret-free detail (`ssrf_refused:loopback`,
 * `invalid_domain`, `too_many_redirects`, `attempt timed out`…), null for a refusal or an error
 * that was not classified (its message is never copied).
 * `partial` carries what a multi-call step got before it failed (email verification).
 */
export type StepOutcome<T> =
  | {
      ok: true;
      value: T;
      at: number;
      durationMs: number;
      /** The value is a stored paid answer (VENDOR_ANSWER_TTL_DAYS) the vendor gave then (epoch ms); no call was made. */
      reused?: { fetchedAt: number };
    }
  | {
      ok: false;
      refused: boolean;
      /** Refused because the run's budget is spent (BUDGET_EXHAUSTED), not by an open breaker. */
      budget?: boolean;
      kind: ErrorKind | null;
      detail: string | null;
      partial?: T;
      at: number;
      durationMs: number | null;
    };

/** Feature switches of DESIGN.md "Configuration". */
export interface EnrichmentFeatures {
  /** ENABLE_TAVILY_FALLBACK. */
  tavilyFallback: boolean;
  /** ENABLE_APIFY_LINKEDIN. */
  apifyLinkedin: boolean;
  /** ENABLE_LUSHA_FALLBACK. */
  lushaFallback: boolean;
}

/** Everything the enrichment machine is started with. */
export interface EnrichmentInput {
  company: Company;
  vendors: EnabledVendors;
  features: EnrichmentFeatures;
  /** COMPANY_DEADLINE_MS: time the company may take, in milliseconds, before it ends with what it has. */
  deadlineMs: number;
  /** Epoch milliseconds the company started (injected clock); the time of provenance written before any step finished. */
  startedAt: number;
}

/** How a step ended, for the guards that route the chain. */
export type StepStatus = 'ok' | 'thin' | 'failed' | 'refused' | 'skipped';

/** The steps that call something, keyed by what they call. */
export type StepKey = 'crawl' | 'search' | 'extract' | 'apify' | 'lusha' | 'verify';

/** The machine's context: the company, the evidence gathered and everything recorded so far. */
export interface EnrichmentContext {
  company: Company;
  vendors: EnabledVendors;
  features: EnrichmentFeatures;
  deadlineMs: number;
  evidence: { crawl: CrawlResult | null; search: SearchResult | null };
  facts: CompanyFacts;
  /** Contacts discovered in this run (known contacts are not repeated). */
  contacts: Contact[];
  /** New addresses: the site's mailto: links and the discovered contacts' emails. */
  emails: EmailRecord[];
  /** Degradation reasons in the order recorded. */
  reasons: ReasonCode[];
  provenance: ProvenanceEntry[];
  /** Fallbacks taken, in order. */
  fallbacks: string[];
  /** The stage events recorded so far, in order, the last one `done` once the machine has ended. */
  stages: (StageEvent & { stage: StepName })[];
  /** How each step that ran ended. */
  outcomes: Partial<Record<StepKey, StepStatus>>;
  /** The stage whose actor is in flight, for the deadline record. */
  inFlight: StepName | null;
  /** Epoch ms the company started (input.startedAt). */
  startedAt: number;
  /** Latest time reported by an actor (or startedAt), epoch ms. */
  lastAt: number;
}

/** Input of the crawl actor. */
export interface CrawlActorInput {
  company: Company;
  domain: string;
}

/** Input of the search actor (Tavily). */
export interface SearchActorInput {
  company: Company;
  query: string;
}

/** Input of the extraction actor (OpenAI). */
export interface ExtractActorInput {
  company: Company;
  text: string;
}

/** Input of the contact actors (Apify LinkedIn, Lusha). */
export interface ContactsActorInput {
  company: Company;
  facts: CompanyFacts;
}

/** Input of the verification actor (ZeroBounce): the addresses still `unverified`. */
export interface VerifyActorInput {
  company: Company;
  emails: string[];
}
