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
}

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
      return guardedOutcome(d, 'tavily', (s) => d.ports.search.search(input.query, s), signal);
    }),
    extractFacts: fromPromise<StepOutcome<CompanyFacts>, ExtractActorInput>(async ({ input, signal, system }) => {
      const d = of(system);
      const outcome = await guardedOutcome(d, 'openai', (s) => d.ports.extractor.extract({ company: input.company, text: input.text }, s), signal);
      if (!outcome.ok) return { ...outcome, partial: undefined };
      d.onUsage?.({ tenantId: d.tenantId, companyId: d.companyId, vendor: 'openai', usage: outcome.value.usage, costUsd: outcome.value.costUsd });
      return { ...outcome, value: outcome.value.facts };
    }),
    findContactsApify: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(({ input, signal, system }) => {
      const d = of(system);
      return guardedOutcome(d, 'apify_linkedin', (s) => d.ports.apify.findContacts(input, s), signal);
    }),
    findContactsLusha: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(({ input, signal, system }) => {
      const d = of(system);
      // One lookup, retried as a whole by the guarded call: its attempts share Lusha's paid search.
      const lusha = d.ports.lusha;
      return guardedOutcome(d, 'lusha', lusha.lookup ? lusha.lookup(input) : (s) => lusha.findContacts(input, s), signal);
    }),
    verifyEmails: fromPromise<StepOutcome<EmailVerification[]>, VerifyActorInput>(async ({ input, signal, system }) => {
      const d = of(system);
      const started = d.clock.now();
      const verified: EmailVerification[] = [];
      for (const email of input.emails) {
        const outcome = await guardedOutcome(d, 'zerobounce', (s) => d.ports.verifier.verify(email, s), signal);
        if (!outcome.ok) return { ...outcome, partial: verified, durationMs: outcome.at - started };
        verified.push(outcome.value);
      }
      const at = d.clock.now();
      return { ok: true, value: verified, at, durationMs: at - started };
    }),
  };
}
