import { fromPromise } from 'xstate';
import {
  isCircuitOpenError,
  isVendorError,
  type Clock,
  type CompanyFacts,
  type Contact,
  type ContactSourcePort,
  type CrawlerPort,
  type CrawlResult,
  type EmailVerification,
  type EmailVerifierPort,
  type ExtractorPort,
  type SearchPort,
  type SearchResult,
  type TenantId,
  type TokenUsage,
  type VendorName,
} from '../domain/index.js';
import type { ContactsActorInput, CrawlActorInput, ExtractActorInput, SearchActorInput, StepOutcome, VerifyActorInput } from '../machines/enrichment.types.js';
import type { GuardedCaller } from './guard.types.js';

/** The ports one company's enrichment reaches the world through (src/domain/ports.ts). */
export interface EnrichmentPorts {
  crawler: CrawlerPort;
  /** Tavily. */
  search: SearchPort;
  /** OpenAI. */
  extractor: ExtractorPort;
  /** Apify LinkedIn. */
  apify: ContactSourcePort;
  lusha: ContactSourcePort;
  /** ZeroBounce. */
  verifier: EmailVerifierPort;
}

/** Token usage of one successful extraction, for `bumpVendor(…, {tokens, costUsd})`. */
export interface ModelUsage {
  tenantId: TenantId;
  companyId: number;
  vendor: 'openai';
  usage: TokenUsage;
  /** USD, null when the model's price is unknown. */
  costUsd: number | null;
}

/** What the step actors need: the guarded caller, the ports, the clock and the company's limits. */
export interface EnrichmentActorDeps {
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  clock: Clock;
  tenantId: TenantId;
  companyId: number;
  /** Epoch ms (injected clock) after which the guarded call starts no new attempt or wait. */
  deadline: number;
  /** The caller's cancellation, combined with each actor's own signal (stopped on the deadline). */
  signal?: AbortSignal;
  onUsage?: (usage: ModelUsage) => void;
}

/**
 * One guarded call, timed with the injected clock and turned into a {@link StepOutcome}: never
 * rejects. A CircuitOpenError becomes a refusal, a VendorError a failure of its kind, anything else
 * (a bug in an adapter) a failure of unknown kind.
 */
export async function guardedOutcome<T>(deps: EnrichmentActorDeps, vendor: VendorName, fn: (signal: AbortSignal) => Promise<T>, actorSignal: AbortSignal): Promise<StepOutcome<T>> {
  const signal = deps.signal ? AbortSignal.any([actorSignal, deps.signal]) : actorSignal;
  const started = deps.clock.now();
  try {
    const value = await deps.guard.call(deps.tenantId, vendor, fn, { signal, deadline: deps.deadline });
    const at = deps.clock.now();
    return { ok: true, value, at, durationMs: at - started };
  } catch (error) {
    const at = deps.clock.now();
    return { ok: false, refused: isCircuitOpenError(error), kind: isVendorError(error) ? error.kind : null, at, durationMs: at - started };
  }
}

/**
 * The enrichment machine's step actors over the ports, every call through `guard.call` (the crawler
 * as vendor `crawler`). ZeroBounce is asked one address at a time and stops at the first failure,
 * reporting what it verified so far as `partial`.
 */
export function createEnrichmentActors(deps: EnrichmentActorDeps) {
  const { ports } = deps;
  return {
    crawlSite: fromPromise<StepOutcome<CrawlResult>, CrawlActorInput>(({ input, signal }) =>
      guardedOutcome(deps, 'crawler', (s) => ports.crawler.crawl(input.domain, s), signal),
    ),
    searchCompany: fromPromise<StepOutcome<SearchResult>, SearchActorInput>(({ input, signal }) =>
      guardedOutcome(deps, 'tavily', (s) => ports.search.search(input.query, s), signal),
    ),
    extractFacts: fromPromise<StepOutcome<CompanyFacts>, ExtractActorInput>(async ({ input, signal }) => {
      const outcome = await guardedOutcome(deps, 'openai', (s) => ports.extractor.extract({ company: input.company, text: input.text }, s), signal);
      if (!outcome.ok) return { ...outcome, partial: undefined };
      deps.onUsage?.({ tenantId: deps.tenantId, companyId: deps.companyId, vendor: 'openai', usage: outcome.value.usage, costUsd: outcome.value.costUsd });
      return { ...outcome, value: outcome.value.facts };
    }),
    findContactsApify: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(({ input, signal }) =>
      guardedOutcome(deps, 'apify_linkedin', (s) => ports.apify.findContacts(input, s), signal),
    ),
    findContactsLusha: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(({ input, signal }) =>
      guardedOutcome(deps, 'lusha', (s) => ports.lusha.findContacts(input, s), signal),
    ),
    verifyEmails: fromPromise<StepOutcome<EmailVerification[]>, VerifyActorInput>(async ({ input, signal }) => {
      const started = deps.clock.now();
      const verified: EmailVerification[] = [];
      for (const email of input.emails) {
        const outcome = await guardedOutcome(deps, 'zerobounce', (s) => deps.ports.verifier.verify(email, s), signal);
        if (!outcome.ok) return { ...outcome, partial: verified, durationMs: outcome.at - started };
        verified.push(outcome.value);
      }
      const at = deps.clock.now();
      return { ok: true, value: verified, at, durationMs: at - started };
    }),
  };
}
