import { and, assign, fromPromise, not, setup } from 'xstate';
import type { CompanyFacts, Contact, CrawlResult, EmailVerification, EnrichmentOutput, SearchResult, SourceName, StepName } from '../domain/index.js';
import type {
  ContactsActorInput,
  CrawlActorInput,
  EnrichmentContext,
  EnrichmentInput,
  ExtractActorInput,
  SearchActorInput,
  StepOutcome,
  VerifyActorInput,
} from './enrichment.types.js';
import {
  applyContacts,
  applyCrawl,
  applyDeadline,
  applyDeterministicExtraction,
  applyDone,
  applyExtraction,
  applyNoDomain,
  applySearch,
  applySkip,
  applyVerification,
  initialContext,
  outcomeOfError,
  toOutput,
} from './enrichment.updates.js';

function notProvided(name: string) {
  return async (): Promise<never> => {
    throw new Error(`enrichment actor ${name} was not provided`);
  };
}

/** The Tavily query for a company: its name and domain, whichever it has. */
export function searchQuery(ctx: Pick<EnrichmentContext, 'company'>): string {
  return [ctx.company.name, ctx.company.domain].filter((v): v is string => Boolean(v)).join(' ');
}

/** The text handed to the extraction: the crawl text, Tavily's answer and its hits. */
export function gatheredText(ctx: Pick<EnrichmentContext, 'evidence'>): string {
  const { crawl, search } = ctx.evidence;
  const hits = (search?.hits ?? []).map((h) => `${h.title}\n${h.url}\n${h.content}`);
  return [crawl?.text ?? '', search?.answer ?? '', ...hits].filter((t) => t.length > 0).join('\n\n');
}

const unverified = (ctx: EnrichmentContext): string[] => ctx.emails.filter((e) => e.status === 'unverified').map((e) => e.email);
const skipDetail = (flag: boolean): string => (flag ? 'no_key' : 'disabled');

/**
 * One company's enrichment (DESIGN.md "The fallback chain"): preconditions → crawling →
 * searchingFallback → extracting → discoveringContacts → verifyingEmails → done. Each step is an
 * invoked promise actor named in `setup` and supplied with `.provide` (src/streams/enrichCompany.ts);
 * each resolves with a {@link StepOutcome} (a rejection is treated as an untimed failure, or a
 * refusal when it is a CircuitOpenError). The machine never throws and never reads time: reasons,
 * provenance, fallbacks and stage events (StageEvent, src/domain/events.ts: each with the time its actor reported,
 * the last one `done`) are built from the outcomes and the input's startedAt by enrichment.updates.ts.
 * A root `after` (input.deadlineMs) ends the company with what it has and `DEADLINE_EXCEEDED`,
 * stopping the actor in flight. Output: {@link EnrichmentOutput}.
 */
export const enrichmentMachine = setup({
  types: {} as { context: EnrichmentContext; input: EnrichmentInput; output: EnrichmentOutput },
  actors: {
    crawlSite: fromPromise<StepOutcome<CrawlResult>, CrawlActorInput>(notProvided('crawlSite')),
    searchCompany: fromPromise<StepOutcome<SearchResult>, SearchActorInput>(notProvided('searchCompany')),
    extractFacts: fromPromise<StepOutcome<CompanyFacts>, ExtractActorInput>(notProvided('extractFacts')),
    findContactsApify: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(notProvided('findContactsApify')),
    findContactsLusha: fromPromise<StepOutcome<Contact[]>, ContactsActorInput>(notProvided('findContactsLusha')),
    verifyEmails: fromPromise<StepOutcome<EmailVerification[]>, VerifyActorInput>(notProvided('verifyEmails')),
  },
  guards: {
    hasNoDomainNorName: ({ context }) => !context.company.domain && !context.company.name,
    hasDomain: ({ context }) => Boolean(context.company.domain),
    crawlWasWeak: ({ context }) => context.outcomes.crawl === 'thin' || context.outcomes.crawl === 'failed',
    tavilyOn: ({ context }) => context.features.tavilyFallback && context.vendors.tavily,
    openaiOn: ({ context }) => context.vendors.openai,
    hasKnownContacts: ({ context }) => (context.company.knownContacts ?? []).length > 0,
    apifyOn: ({ context }) => context.features.apifyLinkedin && context.vendors.apify_linkedin,
    lushaOn: ({ context }) => context.vendors.lusha,
    lushaFallbackOn: ({ context }) => context.features.lushaFallback,
    apifySucceeded: ({ context }) => context.outcomes.apify === 'ok',
    hasUnverifiedEmails: ({ context }) => unverified(context).length > 0,
    zerobounceOn: ({ context }) => context.vendors.zerobounce,
  },
  actions: {
    markInFlight: assign((_, params: { stage: StepName }) => ({ inFlight: params.stage })),
    takeFallback: assign(({ context }, params: { fallback: string }) => ({ fallbacks: [...context.fallbacks, params.fallback] })),
    recordNoData: assign(({ context }) => ({ reasons: [...context.reasons, 'DATA_EMPTY:no_domain_name' as const] })),
    recordNoDomain: assign(({ context }) => applyNoDomain(context)),
    recordSkip: assign(({ context }, p: { stage: StepName; source: SourceName | null; detail: string }) => applySkip(context, p.stage, p.source, p.detail)),
    recordCrawl: assign(({ context }, o: StepOutcome<CrawlResult>) => applyCrawl(context, o)),
    recordSearch: assign(({ context }, o: StepOutcome<SearchResult>) => applySearch(context, o)),
    recordExtraction: assign(({ context }, o: StepOutcome<CompanyFacts>) => applyExtraction(context, o)),
    extractDeterministically: assign(({ context }) => applyDeterministicExtraction(context)),
    recordContacts: assign(({ context }, p: { vendor: 'apify_linkedin' | 'lusha'; outcome: StepOutcome<Contact[]> }) =>
      applyContacts(context, p.vendor, p.outcome, p.vendor === 'lusha' && context.outcomes.apify ? 'lusha' : null),
    ),
    recordVerification: assign(({ context }, o: StepOutcome<EmailVerification[]>) => applyVerification(context, o)),
    recordDeadline: assign(({ context }) => applyDeadline(context)),
    recordDone: assign(({ context }) => applyDone(context)),
  },
  delays: {
    companyDeadline: ({ context }) => context.deadlineMs,
  },
}).createMachine({
  id: 'enrichment',
  description: 'One company walks the fallback chain; every vendor failure becomes a reason, never an exception.',
  context: ({ input }) => initialContext(input),
  initial: 'preconditions',
  after: {
    companyDeadline: { target: '.done', actions: 'recordDeadline' },
  },
  states: {
    preconditions: {
      description: 'A company with neither domain nor name records DATA_EMPTY:no_domain_name and ends.',
      always: [{ guard: 'hasNoDomainNorName', target: 'done', actions: 'recordNoData' }, { target: 'crawling' }],
    },
    crawling: {
      description: 'Fetch the site; thin text records CRAWL_THIN, failure CRAWL_ERROR, no domain CRAWL_THIN.',
      initial: 'checking',
      states: {
        checking: {
          description: 'A name without a domain has nothing to crawl: CRAWL_THIN, and search runs on the name.',
          always: [{ guard: 'hasDomain', target: 'fetching' }, { target: '#enrichment.searchingFallback', actions: 'recordNoDomain' }],
        },
        fetching: {
          description: 'The crawler fetches CRAWL_URL_TEMPLATE for the domain (no breaker).',
          entry: { type: 'markInFlight', params: { stage: 'crawl' } },
          invoke: {
            id: 'crawl',
            src: 'crawlSite',
            input: ({ context }) => ({ company: context.company, domain: context.company.domain ?? '' }),
            onDone: { target: '#enrichment.searchingFallback', actions: { type: 'recordCrawl', params: ({ event }) => event.output } },
            onError: { target: '#enrichment.searchingFallback', actions: { type: 'recordCrawl', params: ({ event }) => outcomeOfError(event.error) } },
          },
        },
      },
    },
    searchingFallback: {
      description: 'On a thin or failed crawl, Tavily when ENABLE_TAVILY_FALLBACK and its key; failure TAVILY_FAIL.',
      initial: 'checking',
      states: {
        checking: {
          description: 'Search only after a weak crawl, and only when the fallback is on and Tavily has a key.',
          always: [
            { guard: not('crawlWasWeak'), target: '#enrichment.extracting' },
            { guard: 'tavilyOn', target: 'searching', actions: { type: 'takeFallback', params: { fallback: 'tavily' } } },
            {
              target: '#enrichment.extracting',
              actions: { type: 'recordSkip', params: ({ context }) => ({ stage: 'search', source: 'tavily', detail: skipDetail(context.features.tavilyFallback) }) },
            },
          ],
        },
        searching: {
          description: 'Tavily searches the name and domain; refusal records CIRCUIT_OPEN:tavily.',
          entry: { type: 'markInFlight', params: { stage: 'search' } },
          invoke: {
            id: 'search',
            src: 'searchCompany',
            input: ({ context }) => ({ company: context.company, query: searchQuery(context) }),
            onDone: { target: '#enrichment.extracting', actions: { type: 'recordSearch', params: ({ event }) => event.output } },
            onError: { target: '#enrichment.extracting', actions: { type: 'recordSearch', params: ({ event }) => outcomeOfError(event.error) } },
          },
        },
      },
    },
    extracting: {
      description: 'OpenAI structures the facts; failure OPENAI_FAIL and the deterministic extraction instead.',
      initial: 'checking',
      states: {
        checking: {
          description: 'Without an OpenAI key the deterministic extraction is used, without a reason.',
          always: [
            { guard: 'openaiOn', target: 'callingOpenai' },
            {
              target: '#enrichment.discoveringContacts',
              actions: [{ type: 'recordSkip', params: { stage: 'extract', source: 'openai', detail: 'no_key' } }, 'extractDeterministically'],
            },
          ],
        },
        callingOpenai: {
          description: 'OpenAI extracts facts from the gathered text; refusal records CIRCUIT_OPEN:openai.',
          entry: { type: 'markInFlight', params: { stage: 'extract' } },
          invoke: {
            id: 'extract',
            src: 'extractFacts',
            input: ({ context }) => ({ company: context.company, text: gatheredText(context) }),
            onDone: { target: '#enrichment.discoveringContacts', actions: { type: 'recordExtraction', params: ({ event }) => event.output } },
            onError: { target: '#enrichment.discoveringContacts', actions: { type: 'recordExtraction', params: ({ event }) => outcomeOfError(event.error) } },
          },
        },
      },
    },
    discoveringContacts: {
      description: 'When the company has no contacts: Apify LinkedIn, then Lusha as configured.',
      initial: 'checking',
      states: {
        checking: {
          description: 'Known contacts skip discovery; Apify first when on; Lusha alone when Apify is off.',
          always: [
            { guard: 'hasKnownContacts', target: '#enrichment.verifyingEmails', actions: { type: 'recordSkip', params: { stage: 'contacts', source: null, detail: 'known_contacts' } } },
            { guard: 'apifyOn', target: 'apify' },
            {
              guard: 'lushaOn',
              target: 'lusha',
              actions: { type: 'recordSkip', params: ({ context }) => ({ stage: 'contacts', source: 'apify_linkedin', detail: skipDetail(context.features.apifyLinkedin) }) },
            },
            { target: '#enrichment.verifyingEmails', actions: { type: 'recordSkip', params: { stage: 'contacts', source: null, detail: 'no_source' } } },
          ],
        },
        apify: {
          description: 'Apify LinkedIn finds people; failure APIFY_LINKEDIN_FAIL, refusal CIRCUIT_OPEN:apify_linkedin.',
          entry: { type: 'markInFlight', params: { stage: 'contacts' } },
          invoke: {
            id: 'apify',
            src: 'findContactsApify',
            input: ({ context }) => ({ company: context.company, facts: context.facts }),
            onDone: { target: 'afterApify', actions: { type: 'recordContacts', params: ({ event }) => ({ vendor: 'apify_linkedin', outcome: event.output }) } },
            onError: { target: 'afterApify', actions: { type: 'recordContacts', params: ({ event }) => ({ vendor: 'apify_linkedin', outcome: outcomeOfError(event.error) }) } },
          },
        },
        afterApify: {
          description: 'After Apify failed or was refused, Lusha when ENABLE_LUSHA_FALLBACK and its key.',
          always: [
            { guard: 'apifySucceeded', target: '#enrichment.verifyingEmails' },
            { guard: and(['lushaFallbackOn', 'lushaOn']), target: 'lusha', actions: { type: 'takeFallback', params: { fallback: 'lusha' } } },
            {
              guard: 'lushaFallbackOn',
              target: '#enrichment.verifyingEmails',
              actions: { type: 'recordSkip', params: { stage: 'contacts', source: 'lusha', detail: 'no_key' } },
            },
            { target: '#enrichment.verifyingEmails' },
          ],
        },
        lusha: {
          description: 'Lusha finds people; failure LUSHA_FAIL, refusal CIRCUIT_OPEN:lusha.',
          entry: { type: 'markInFlight', params: { stage: 'contacts' } },
          invoke: {
            id: 'lusha',
            src: 'findContactsLusha',
            input: ({ context }) => ({ company: context.company, facts: context.facts }),
            onDone: { target: '#enrichment.verifyingEmails', actions: { type: 'recordContacts', params: ({ event }) => ({ vendor: 'lusha', outcome: event.output }) } },
            onError: { target: '#enrichment.verifyingEmails', actions: { type: 'recordContacts', params: ({ event }) => ({ vendor: 'lusha', outcome: outcomeOfError(event.error) }) } },
          },
        },
      },
    },
    verifyingEmails: {
      description: 'ZeroBounce verifies the new emails; failure or refusal defers them (unknown, ZEROBOUNCE_DEFER).',
      initial: 'checking',
      states: {
        checking: {
          description: 'Nothing new to verify ends the chain; without a ZeroBounce key emails stay unverified.',
          always: [
            { guard: not('hasUnverifiedEmails'), target: '#enrichment.done' },
            { guard: 'zerobounceOn', target: 'verifying' },
            { target: '#enrichment.done', actions: { type: 'recordSkip', params: { stage: 'verify', source: 'zerobounce', detail: 'no_key' } } },
          ],
        },
        verifying: {
          description: 'ZeroBounce validates each unverified address; refusal adds CIRCUIT_OPEN:zerobounce.',
          entry: { type: 'markInFlight', params: { stage: 'verify' } },
          invoke: {
            id: 'verify',
            src: 'verifyEmails',
            input: ({ context }) => ({ company: context.company, emails: unverified(context) }),
            onDone: { target: '#enrichment.done', actions: { type: 'recordVerification', params: ({ event }) => event.output } },
            onError: { target: '#enrichment.done', actions: { type: 'recordVerification', params: ({ event }) => outcomeOfError(event.error) } },
          },
        },
      },
    },
    done: {
      description: 'The company ends with what it has; degraded_reasons is the comma-joined list or null. Records the done stage.',
      type: 'final',
      entry: 'recordDone',
    },
  },
  output: ({ context }) => toOutput(context),
});

/** The enrichment machine's type, for `.provide` and inspection. */
export type EnrichmentMachine = typeof enrichmentMachine;
