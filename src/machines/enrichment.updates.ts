import {
  budgetExhaustedReason,
  circuitOpenReason,
  isBudgetExhaustedError,
  isCircuitOpenError,
  isEmailAddress,
  isVendorError,
  joinReasons,
  type BreakerVendor,
  type CompanyFacts,
  type Contact,
  type CrawlResult,
  type EmailRecord,
  type EmailVerification,
  type EnrichmentOutput,
  type ReasonCode,
  type StageEvent,
  type StageExtra,
  type SearchResult,
  type SourceName,
  type StepName,
} from '../domain/index.js';
import { extractDeterministically } from '../domain/extraction.js';
import type { EnrichmentContext, EnrichmentInput, StepOutcome } from './enrichment.types.js';

/**
 * Pure context updates of the enrichment machine, one per step outcome (DESIGN.md "The fallback
 * chain"). Each takes the context and returns the next one; none reads time or throws.
 */

type Ctx = EnrichmentContext;

/** The initial context built from the machine's input. */
export function initialContext(input: EnrichmentInput): Ctx {
  return {
    company: input.company,
    vendors: input.vendors,
    features: input.features,
    deadlineMs: input.deadlineMs,
    evidence: { crawl: null, search: null },
    facts: {},
    contacts: [],
    emails: [],
    reasons: [],
    provenance: [],
    fallbacks: [],
    stages: [],
    outcomes: {},
    inFlight: null,
    startedAt: input.startedAt,
    lastAt: input.startedAt,
  };
}

/**
 * A failed call as a step outcome, untimed (`at` NaN, `durationMs` null): a refusal by an open
 * breaker, or a VendorError's kind and detail. VendorError details are written by the adapter that
 * classified the failure (short codes such as `ssrf_refused:loopback`, never a secret or a URL);
 * any other error keeps no detail, as its message could carry anything. Also the outcome of an
 * actor that rejected instead of resolving.
 */
export function outcomeOfError(error: unknown): StepOutcome<never> & { ok: false } {
  const vendorError = !isCircuitOpenError(error) && isVendorError(error) ? error : null;
  const budget = isBudgetExhaustedError(error);
  return {
    ok: false,
    refused: isCircuitOpenError(error) || budget,
    ...(budget ? { budget: true } : {}),
    kind: vendorError?.kind ?? null,
    detail: vendorError?.detail ?? null,
    at: Number.NaN,
    durationMs: null,
  };
}

const iso = (at: number): string => new Date(at).toISOString();

type Stage = Ctx['stages'][number];
type StageStatus = 'ok' | 'degraded' | 'error' | 'refused' | 'skipped';
const EVENT_OF: Record<StageStatus, string> = { ok: 'finish', degraded: 'finish', error: 'error', refused: 'error', skipped: 'skip' };

/**
 * One stage event of the company (StageEvent, DESIGN.md "Observability"), ended at `at`: `ok`
 * and `degraded` are finishes, `error` and `refused` errors, `skipped` a skip. Its extra always
 * names fallback_taken, vendor, error_kind and detail (null when not given).
 */
function stage(ctx: Ctx, s: StepName, status: StageStatus, at: number, more: Partial<Pick<StageEvent, 'errorCode' | 'durationMs'>> & { extra?: StageExtra } = {}): Stage {
  return {
    tenantId: ctx.company.tenantId,
    companyId: ctx.company.companyId,
    stage: s,
    event: EVENT_OF[status],
    status,
    errorCode: more.errorCode ?? null,
    durationMs: more.durationMs ?? null,
    extra: { fallback_taken: null, vendor: null, error_kind: null, detail: null, ...more.extra },
    at,
  };
}

/** When a step's stage ended: the time its actor reported, or (an untimed rejection) the latest time known. */
const endOf = (ctx: Ctx, o: StepOutcome<unknown>): number => (Number.isFinite(o.at) ? o.at : ctx.lastAt);

function advance(ctx: Ctx, outcome: StepOutcome<unknown>): Ctx {
  const lastAt = Number.isFinite(outcome.at) ? Math.max(ctx.lastAt, outcome.at) : ctx.lastAt;
  return { ...ctx, lastAt, inFlight: null };
}

/** Why a refused call was refused: the run's budget (`BUDGET_EXHAUSTED:<vendor>`) or its breaker (`CIRCUIT_OPEN:<vendor>`). */
const refusalReason = (vendor: BreakerVendor, o: { budget?: boolean }): ReasonCode => (o.budget ? budgetExhaustedReason(vendor) : circuitOpenReason(vendor));

/** A breaker vendor's step failed: its own reason, or `CIRCUIT_OPEN:<vendor>` alone when refused. */
function failureStage(ctx: Ctx, s: StepName, vendor: BreakerVendor, failReason: ReasonCode, o: StepOutcome<unknown> & { ok: false }, fallback: string | null): { reason: ReasonCode; record: Stage } {
  const reason = o.refused ? refusalReason(vendor, o) : failReason;
  const extra = { fallback_taken: fallback, vendor, error_kind: o.kind, detail: o.detail };
  const record = stage(ctx, s, o.refused ? 'refused' : 'error', endOf(ctx, o), { errorCode: reason, durationMs: o.durationMs, extra });
  return { reason, record };
}

/** Adds addresses not yet known (case-insensitive), with provenance. */
function addEmails(ctx: Ctx, addresses: readonly (string | null)[], source: SourceName, s: StepName, at: number, stored?: StoredMark): Ctx {
  const known = new Set([...ctx.emails.map((e) => e.email), ...(ctx.company.knownContacts ?? []).map((c) => c.email?.toLowerCase()), ...(ctx.company.knownEmails ?? [])]);
  const emails: EmailRecord[] = [...ctx.emails];
  const provenance = [...ctx.provenance];
  const stamp = iso(at);
  for (const raw of addresses) {
    const email = raw?.trim().toLowerCase();
    if (!email || known.has(email)) continue;
    known.add(email);
    emails.push({ email, status: 'unverified', source });
    provenance.push({ field: `emails.${email}`, step: s, source, at: stamp, ...stored });
  }
  return { ...ctx, emails, provenance };
}

/** The provenance mark of a field from a stored paid answer (absent for a fresh one). */
type StoredMark = { storedAnswer: { fetchedAt: string } } | undefined;
const storedMark = (reused: { fetchedAt: number } | undefined): StoredMark => (reused ? { storedAnswer: { fetchedAt: iso(reused.fetchedAt) } } : undefined);

/** The company has a name but no domain: nothing to crawl, which is a thin crawl. */
export function applyNoDomain(ctx: Ctx): Ctx {
  return {
    ...ctx,
    reasons: [...ctx.reasons, 'CRAWL_THIN'],
    stages: [...ctx.stages, stage(ctx, 'crawl', 'degraded', ctx.lastAt, { errorCode: 'CRAWL_THIN', extra: { detail: 'no_domain' } })],
    outcomes: { ...ctx.outcomes, crawl: 'thin' },
  };
}

/** Crawl finished: `CRAWL_THIN` on too little text, `CRAWL_ERROR` on failure; mailtos become emails. */
export function applyCrawl(ctx: Ctx, o: StepOutcome<CrawlResult>): Ctx {
  const next = advance(ctx, o);
  if (!o.ok) {
    const record = stage(next, 'crawl', 'error', endOf(next, o), { errorCode: 'CRAWL_ERROR', durationMs: o.durationMs, extra: { vendor: 'crawler', error_kind: o.kind, detail: o.detail } });
    return { ...next, reasons: [...next.reasons, 'CRAWL_ERROR'], stages: [...next.stages, record], outcomes: { ...next.outcomes, crawl: 'failed' } };
  }
  const thin = o.value.thin;
  const record = stage(next, 'crawl', thin ? 'degraded' : 'ok', o.at, { errorCode: thin ? 'CRAWL_THIN' : null, durationMs: o.durationMs, extra: { vendor: 'crawler' } });
  const crawled: Ctx = {
    ...next,
    evidence: { ...next.evidence, crawl: o.value },
    reasons: thin ? [...next.reasons, 'CRAWL_THIN'] : next.reasons,
    stages: [...next.stages, record],
    outcomes: { ...next.outcomes, crawl: thin ? 'thin' : 'ok' },
  };
  return addEmails(crawled, o.value.mailtos, 'crawler', 'crawl', o.at);
}

/** Tavily finished: `TAVILY_FAIL` on failure, `CIRCUIT_OPEN:tavily` (only) on refusal. */
export function applySearch(ctx: Ctx, o: StepOutcome<SearchResult>): Ctx {
  const next = advance(ctx, o);
  if (!o.ok) {
    const { reason, record } = failureStage(next, 'search', 'tavily', 'TAVILY_FAIL', o, 'tavily');
    return { ...next, reasons: [...next.reasons, reason], stages: [...next.stages, record], outcomes: { ...next.outcomes, search: o.refused ? 'refused' : 'failed' } };
  }
  const record = stage(next, 'search', 'ok', o.at, { durationMs: o.durationMs, extra: { fallback_taken: 'tavily', vendor: 'tavily' } });
  return { ...next, evidence: { ...next.evidence, search: o.value }, stages: [...next.stages, record], outcomes: { ...next.outcomes, search: 'ok' } };
}

function withFacts(ctx: Ctx, facts: CompanyFacts, source: SourceName, at: number, stored?: StoredMark): Ctx {
  const present = Object.entries(facts).filter(([, v]) => v !== null && v !== undefined);
  const stamp = iso(at);
  const provenance = present.map(([k]) => ({ field: `facts.${k}`, step: 'extract' as const, source, at: stamp, ...stored }));
  return { ...ctx, facts: Object.fromEntries(present) as CompanyFacts, provenance: [...ctx.provenance, ...provenance] };
}

/** Adds the facts of `extra` that `ctx` does not have yet, with their provenance. */
function fillFacts(ctx: Ctx, extra: CompanyFacts, source: SourceName, at: number): Ctx {
  const missing = Object.entries(extra).filter(([k, v]) => v !== null && v !== undefined && (ctx.facts as Record<string, unknown>)[k] == null);
  if (missing.length === 0) return ctx;
  const stamp = iso(at);
  return {
    ...ctx,
    facts: { ...ctx.facts, ...Object.fromEntries(missing) } as CompanyFacts,
    provenance: [...ctx.provenance, ...missing.map(([k]) => ({ field: `facts.${k}`, step: 'extract' as const, source, at: stamp }))],
  };
}

/** Facts from the deterministic extraction (OpenAI off, failed or refused); records the fallback. */
export function applyDeterministicExtraction(ctx: Ctx): Ctx {
  const facts = extractDeterministically({ company: ctx.company, crawl: ctx.evidence.crawl, search: ctx.evidence.search });
  const record = stage(ctx, 'extract', 'ok', ctx.lastAt, { extra: { fallback_taken: 'deterministic_extraction', vendor: 'deterministic' } });
  const next = { ...ctx, fallbacks: [...ctx.fallbacks, 'deterministic_extraction'], stages: [...ctx.stages, record] };
  return withFacts(next, facts, 'deterministic', ctx.lastAt);
}

/** OpenAI finished: facts on success; otherwise `OPENAI_FAIL` or `CIRCUIT_OPEN:openai` and the deterministic extraction. */
export function applyExtraction(ctx: Ctx, o: StepOutcome<CompanyFacts>): Ctx {
  const next = advance(ctx, o);
  if (o.ok) {
    const record = stage(next, 'extract', 'ok', o.at, { durationMs: o.durationMs, extra: { vendor: 'openai' } });
    const fromModel = withFacts({ ...next, stages: [...next.stages, record], outcomes: { ...next.outcomes, extract: 'ok' } }, o.value, 'openai', o.at, storedMark(o.reused));
    // A model that stated nothing leaves the facts to the deterministic extraction; one that left out
    // the company's own name or site gets them from the input, so the stored facts never lose them.
    if (Object.keys(fromModel.facts).length === 0) return fillFacts(fromModel, extractDeterministically({ company: ctx.company, crawl: ctx.evidence.crawl, search: ctx.evidence.search }), 'deterministic', o.at);
    const identity: CompanyFacts = {};
    if (ctx.company.name) identity.name = ctx.company.name;
    if (ctx.company.domain) identity.website = `https://${ctx.company.domain}/`;
    return fillFacts(fromModel, identity, 'input', o.at);
  }
  const { reason, record } = failureStage(next, 'extract', 'openai', 'OPENAI_FAIL', o, null);
  const failed = { ...next, reasons: [...next.reasons, reason], stages: [...next.stages, record], outcomes: { ...next.outcomes, extract: o.refused ? 'refused' : 'failed' } } satisfies Ctx;
  return applyDeterministicExtraction(failed);
}

const CONTACT_FIELDS = ['fullName', 'firstName', 'lastName', 'title', 'email', 'linkedinUrl'] as const;

/** A vendor's contact as kept: its source, and its address only when it is one (`n/a`, `-` are not). */
function keptContact(c: Contact, vendor: 'apify_linkedin' | 'lusha'): Contact {
  const email = c.email?.trim();
  return { ...c, source: vendor, email: email && isEmailAddress(email) ? email : null };
}

/** A contact source finished: contacts and their emails, or `<VENDOR>_FAIL` / `CIRCUIT_OPEN:<vendor>`. */
export function applyContacts(ctx: Ctx, vendor: 'apify_linkedin' | 'lusha', o: StepOutcome<Contact[]>, fallback: string | null): Ctx {
  const key = vendor === 'lusha' ? 'lusha' : 'apify';
  const next = advance(ctx, o);
  if (!o.ok) {
    const { reason, record } = failureStage(next, 'contacts', vendor, vendor === 'lusha' ? 'LUSHA_FAIL' : 'APIFY_LINKEDIN_FAIL', o, fallback);
    return { ...next, reasons: [...next.reasons, reason], stages: [...next.stages, record], outcomes: { ...next.outcomes, [key]: o.refused ? 'refused' : 'failed' } };
  }
  const found = o.value.map((c) => keptContact(c, vendor));
  const offset = next.contacts.length;
  const stamp = iso(o.at);
  const provenance = found.flatMap((c, i) =>
    CONTACT_FIELDS.filter((f) => c[f] !== null && c[f] !== undefined).map((f) => ({ field: `contacts[${offset + i}].${f}`, step: 'contacts' as const, source: vendor, at: stamp, ...storedMark(o.reused) })),
  );
  const record = stage(next, 'contacts', 'ok', o.at, { durationMs: o.durationMs, extra: { fallback_taken: fallback, vendor } });
  const withContacts: Ctx = {
    ...next,
    contacts: [...next.contacts, ...found],
    provenance: [...next.provenance, ...provenance],
    stages: [...next.stages, record],
    outcomes: { ...next.outcomes, [key]: 'ok' },
  };
  return addEmails(withContacts, found.map((c) => c.email), vendor, 'contacts', o.at, storedMark(o.reused));
}

function withStatuses(ctx: Ctx, results: readonly EmailVerification[], at: number): Ctx {
  const byEmail = new Map(results.map((r) => [r.email.toLowerCase(), r]));
  const provenance = [...ctx.provenance];
  const stamp = iso(at);
  const emails = ctx.emails.map((e) => {
    const r = e.status === 'unverified' ? byEmail.get(e.email) : undefined;
    if (!r) return e;
    provenance.push({ field: `emails.${e.email}.status`, step: 'verify', source: 'zerobounce', at: stamp, ...storedMark(r.storedAt === undefined ? undefined : { fetchedAt: r.storedAt }) });
    return { ...e, status: r.status, subStatus: r.subStatus };
  });
  return { ...ctx, emails, provenance };
}

/**
 * ZeroBounce finished: statuses on success; on failure or refusal the addresses it did not verify
 * become `unknown` and `ZEROBOUNCE_DEFER` is recorded, after `CIRCUIT_OPEN:zerobounce` when refused.
 */
export function applyVerification(ctx: Ctx, o: StepOutcome<EmailVerification[]>): Ctx {
  const next = advance(ctx, o);
  if (o.ok) {
    const record = stage(next, 'verify', 'ok', o.at, { durationMs: o.durationMs, extra: { vendor: 'zerobounce' } });
    return withStatuses({ ...next, stages: [...next.stages, record], outcomes: { ...next.outcomes, verify: 'ok' } }, o.value, o.at);
  }
  const at = endOf(next, o);
  const partial = withStatuses(next, o.partial ?? [], at);
  const deferred = partial.emails.map((e) => (e.status === 'unverified' ? { ...e, status: 'unknown' as const } : e));
  const reasons: ReasonCode[] = o.refused ? [refusalReason('zerobounce', o), 'ZEROBOUNCE_DEFER'] : ['ZEROBOUNCE_DEFER'];
  const extra = { vendor: 'zerobounce' as const, error_kind: o.kind, detail: o.detail };
  const record = stage(next, 'verify', o.refused ? 'refused' : 'error', at, { errorCode: reasons[0] ?? null, durationMs: o.durationMs, extra });
  return { ...partial, emails: deferred, reasons: [...partial.reasons, ...reasons], stages: [...partial.stages, record], outcomes: { ...partial.outcomes, verify: o.refused ? 'refused' : 'failed' } };
}

/** A step was skipped (vendor off, flag off, nothing to do): logged, never a degradation. */
export function applySkip(ctx: Ctx, s: StepName, source: SourceName | null, detail: string): Ctx {
  return { ...ctx, stages: [...ctx.stages, stage(ctx, s, 'skipped', ctx.lastAt, { extra: { vendor: source, detail } })] };
}

/** COMPANY_DEADLINE_MS elapsed: `DEADLINE_EXCEEDED`, charged to the stage in flight, at startedAt + deadlineMs. */
export function applyDeadline(ctx: Ctx): Ctx {
  const at = ctx.startedAt + ctx.deadlineMs;
  const record = stage(ctx, ctx.inFlight ?? 'done', 'error', at, { errorCode: 'DEADLINE_EXCEEDED', extra: { detail: 'deadline' } });
  // Cut off while verifying: the addresses not yet verified are deferred (`unknown`), so that
  // `verify-deferred` picks them up; `unverified` would mean never attempted, and stay so for ever.
  const emails = ctx.inFlight === 'verify' ? ctx.emails.map((e) => (e.status === 'unverified' ? { ...e, status: 'unknown' as const } : e)) : ctx.emails;
  return { ...ctx, emails, reasons: [...ctx.reasons, 'DEADLINE_EXCEEDED'], stages: [...ctx.stages, record], inFlight: null, lastAt: Math.max(ctx.lastAt, at) };
}

/**
 * The company ended: its `done` stage, at the latest time known (for the deadline, startedAt +
 * deadlineMs), lasting since the start; `degraded` with the comma-joined reasons when it has any,
 * every fallback taken in extra.fallback_taken.
 */
export function applyDone(ctx: Ctx): Ctx {
  const reasons = joinReasons(ctx.reasons);
  const extra = { fallback_taken: ctx.fallbacks.length > 0 ? ctx.fallbacks.join(',') : null };
  const done: Stage = {
    tenantId: ctx.company.tenantId,
    companyId: ctx.company.companyId,
    stage: 'done',
    event: 'finish',
    status: reasons ? 'degraded' : 'ok',
    errorCode: reasons,
    durationMs: ctx.lastAt - ctx.startedAt,
    extra,
    at: ctx.lastAt,
  };
  return { ...ctx, stages: [...ctx.stages, done] };
}

/** The machine's output (EnrichmentOutput); timings are the measured steps in order (not `done`). */
export function toOutput(ctx: Ctx): EnrichmentOutput {
  return {
    companyId: ctx.company.companyId,
    tenantId: ctx.company.tenantId,
    degradedReasons: joinReasons(ctx.reasons),
    reasons: ctx.reasons,
    facts: ctx.facts,
    contacts: ctx.contacts,
    emails: ctx.emails,
    provenance: ctx.provenance,
    fallbacks: ctx.fallbacks,
    timings: ctx.stages.flatMap((s) => (s.durationMs === null || s.stage === 'done' ? [] : [{ stage: s.stage, durationMs: s.durationMs }])),
  };
}
