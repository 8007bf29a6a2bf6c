import { fromPromise } from 'xstate';
import {
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
import { outcomeOfError } from '../machines/enrichment.updates.js';
import type { ContactsActorInput, CrawlActorInput, ExtractActorInput, SearchActorInput, StepOutcome, VerifyActorInput } from '../machines/enrichment.types.js';
import { costOf, type VendorPrices } from '../domain/prices.js';
import type { BreakerVendor } from '../domain/vendor.js';
import type { AnswerReuse } from './answers.js';
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
  onUsage?: (usage: ModelUsage) => void;
  /** Stored paid answers (VENDOR_ANSWER_TTL_DAYS), with the prices a fresh answer is stored at. Default none. */
  answers?: { reuse: AnswerReuse; prices: VendorPrices; onReuse?: (vendor: BreakerVendor, savedUsd: number) => void };
}

/** The step's outcome from a stored answer to the same request when there is one, else `fresh()` (stored when paid). */
function reuseOr<T>(d: EnrichmentActorDeps, vendor: BreakerVendor, endpoint: string, query: unknown, fresh: () => Promise<StepOutcome<T>>, costOfValue?: (value: T) => number): Promise<StepOutcome<T>> {
  const a = d.answers;
  if (!a || !a.reuse.enabled(vendor)) return fresh();
  const onReuse = a.onReuse;
  return a.reuse.reuseOr(d.tenantId, vendor, endpoint, query, fresh, costOfValue ?? ((v: T) => costOf(vendor, v, a.prices)), onReuse && ((usd) => onReuse(vendor, usd)));
}

/** What a contact lookup is asked: the company's domain and name. */
const contactsQuery = (input: ContactsActorInput) => ({ domain: input.company.domain ?? null, name: input.facts.name ?? input.company.name ?? null });

/**
 * One guarded call, timed with the injected clock and turned into a {@link StepOutcome}: never
 * rejects. A CircuitOpenError becomes a refusal, a VendorError a failure of its kind with its
 * detail, anything else (a bug in an adapter) a failure of unknown kind without detail: the
 * machine's own mapping (`outcomeOfError`, enrichment.updates.ts), timed here.
 */
export async function guardedOutcome<T>(deps: EnrichmentActorDeps, vendor: VendorName, fn: (signal: AbortSignal) => Promise<T>, actorSignal: AbortSignal): Promise<StepOutcome<T>> {
  // The actor's signal alone: it fires on the deadline and when the caller aborts (enrichCompany
  // stops the actor then). Combining it with the caller's signal per call (AbortSignal.any) cost
  // more CPU than the rest of the guarded call.
  const signal = actorSignal;
  const started = deps.clock.now();
  // Past the company's deadline, the machine's deadline timer is due (a busy event loop may run it
  // a little late): a step must not report the guard's "deadline passed" refusal as a vendor failure,
  // or every step left would record a false <VENDOR>_FAIL before DEADLINE_EXCEEDED. It waits for the
  // machine to end the company (which stops this actor).
  if (deps.clock.now() >= deps.deadline) return untilStopped(actorSignal, started);
  try {
    const value = await deps.guard.call(deps.tenantId, vendor, fn, { signal, deadline: deps.deadline });
    const at = deps.clock.now();
    return { ok: true, value, at, durationMs: at - started };
  } catch (error) {
    const at = deps.clock.now();
    if (at >= deps.deadline && !actorSignal.aborted) return untilStopped(actorSignal, started);
    // The VendorError's detail (ssrf_refused:<why>, invalid_domain, too_many_redirects, a timeout's)
    // travels with the outcome into the stage event, run_event_logs.extra.detail and the warn line.
    return { ...outcomeOfError(error), at, durationMs: at - started };
  }
}

/** Settles only when the step's actor is stopped (its outcome is then ignored). */
function untilStopped<T>(actorSignal: AbortSignal, started: number): Promise<StepOutcome<T>> {
  return new Promise((resolve) => {
    const stopped = (): void => resolve({ ok: false, refused: false, kind: 'timeout', detail: null, at: started, durationMs: 0 });
    if (actorSignal.aborted) stopped();
    else actorSignal.addEventListener('abort', stopped, { once: true });
  });
}

/** The deps of the company an actor system (one root enrichment actor and its children) enriches. */
export type CompanyDepsOf = (system: object) => EnrichmentActorDeps;

/**
 * The enrichment machine's step actors over the ports, every call through `guard.call` (the crawler
 * as vendor `crawler`). ZeroBounce is asked one address at a time and stops at the first failure,
 * reporting what it verified so far as `partial`.
 *
 * `deps` is one company's deps, or a function finding them from the actor system the step runs in:
 * that lets one provided machine serve every company (`machine.provide` rebuilds the whole state
 * tree, about 2 ms and 33 KB per call, too much to pay per company).
 */
export function createEnrichmentActors(deps: EnrichmentActorDeps | CompanyDepsOf) {
  const of: CompanyDepsOf = typeof deps === 'function' ? deps : () => deps;
  return {
    crawlSite: fromPromise<StepOutcome<CrawlResult>, CrawlActorInput>(({ input, signal, system }) => {
      const d = of(system);
      return guardedOutcome(d, 'crawler', (s) => d.ports.crawler.crawl(input.domain, s), signal);
    }),
    searchCompany: fromPromise<StepOutcome<SearchResult>, SearchActorInput>(({ input, signal, system }) => {
      const d = of(system);
      return reuseOr(d, 'tavily', 'search', { query: input.query }, () => guardedOutcome(d, 'tavily', (s) => d.ports.search.search(input.query, s), signal));
    }),
    extractFacts: fromPromise<StepOutcome<CompanyFacts>, ExtractActorInput>(async ({ input, signal, system }) => {
      const d = of(system);
      const query = { domain: input.company.domain ?? null, name: input.company.name ?? null, text: input.text };
      const outcome = await reuseOr(d, 'openai', 'chat/completions', query, () => guardedOutcome(d, 'openai', (s) => d.ports.extractor.extract({ company: input.company, text: input.text }, s), signal), (v) => v.costUsd ?? 0);
      if (!outcome.ok) return { ...outcome, partial: undefined };
      if (outcome.reused) return { ...outcome, value: outcome.value.facts }; // no tokens spent
      d.onUsage?.({ tenantId: d.tenantId, companyId: d.companyId, vendor: 'openai', usage: outcome.value.usage, costUsd: outcome.value.costUsd });
      return { ...outcome, value: outcome.value.facts };
    }),
    findContactsApify: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(({ input, signal, system }) => {
      const d = of(system);
      return reuseOr(d, 'apify_linkedin', 'company-employees', contactsQuery(input), () => guardedOutcome(d, 'apify_linkedin', (s) => d.ports.apify.findContacts(input, s), signal));
    }),
    findContactsLusha: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(({ input, signal, system }) => {
      const d = of(system);
      // One lookup, retried as a whole by the guarded call: its attempts share Lusha's paid search.
      const lusha = d.ports.lusha;
      return reuseOr(d, 'lusha', 'v3/contacts', contactsQuery(input), () => guardedOutcome(d, 'lusha', lusha.lookup ? lusha.lookup(input) : (s) => lusha.findContacts(input, s), signal));
    }),
    verifyEmails: fromPromise<StepOutcome<EmailVerification[]>, VerifyActorInput>(async ({ input, signal, system }) => {
      const d = of(system);
      const started = d.clock.now();
      const verified: EmailVerification[] = [];
      for (const email of input.emails) {
        const outcome = await reuseOr(d, 'zerobounce', 'v2/validate', { email }, () => guardedOutcome(d, 'zerobounce', (s) => d.ports.verifier.verify(email, s), signal));
        if (!outcome.ok) return { ...outcome, partial: verified, durationMs: outcome.at - started };
        verified.push(outcome.reused ? { ...outcome.value, storedAt: outcome.reused.fetchedAt } : outcome.value);
      }
      const at = d.clock.now();
      return { ok: true, value: verified, at, durationMs: at - started };
    }),
  };
}
