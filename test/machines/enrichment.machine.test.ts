/** Focused tests of the enrichment machine: the cases DESIGN.md and issue 3 call out by name. */
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, toPromise, type AnyStateNode } from 'xstate';
import type { EmailVerification } from '../../src/domain/index.js';
import { enrichmentMachine } from '../../src/machines/enrichment.machine.js';
import type { StepOutcome, VerifyActorInput } from '../../src/machines/enrichment.types.js';
import { companyOf } from '../support/enrichment/expectedChain.js';
import { AT, STARTED_AT } from '../support/enrichment/fixtures.js';
import { drive, inputOf, stubActors } from '../support/enrichment/harness.js';

const noKeys = { tavily: false, openai: false, zerobounce: false, lusha: false, apify_linkedin: false };

describe('enrichment machine', () => {
  it('every vendor failing, site down: the reasons in chain order, and no exception', async () => {
    const { output } = await drive(inputOf(), { crawl: 'fail', search: 'fail', extract: 'fail', apify: 'fail', lusha: 'fail', verify: 'fail' });
    expect(output.degradedReasons).toBe('CRAWL_ERROR,TAVILY_FAIL,OPENAI_FAIL,APIFY_LINKEDIN_FAIL,LUSHA_FAIL');
    expect(output.fallbacks).toEqual(['tavily', 'deterministic_extraction', 'lusha']);
    expect(output.facts.name).toBe('Acme Rockets');
    expect(output.emails).toEqual([]);
  });

  it('every vendor failing, site up: the site’s addresses are deferred', async () => {
    const { output } = await drive(inputOf(), { crawl: 'ok', extract: 'throw', apify: 'throw', lusha: 'fail', verify: 'fail' });
    expect(output.degradedReasons).toBe('OPENAI_FAIL,APIFY_LINKEDIN_FAIL,LUSHA_FAIL,ZEROBOUNCE_DEFER');
    expect(output.emails.map((e) => [e.email, e.status])).toEqual([
      ['info@acme.test', 'unknown'],
      ['sales@acme.test', 'unknown'],
    ]);
  });

  it('every breaker open: each refusal records CIRCUIT_OPEN:<vendor>, and ZeroBounce also defers', async () => {
    const { output } = await drive(inputOf(), { crawl: 'thin', search: 'refuse', extract: 'throwOpen', apify: 'refuse', lusha: 'throwOpen', verify: 'refuse' });
    expect(output.reasons).toEqual(['CRAWL_THIN', 'CIRCUIT_OPEN:tavily', 'CIRCUIT_OPEN:openai', 'CIRCUIT_OPEN:apify_linkedin', 'CIRCUIT_OPEN:lusha']);
    // The thin crawl had no mailtos and no contacts were found: nothing to verify, nothing deferred.
    const withMail = await drive(inputOf(), { crawl: 'ok', extract: 'ok', apify: 'ok', verify: 'refuse' });
    expect(withMail.output.reasons).toEqual(['CIRCUIT_OPEN:zerobounce', 'ZEROBOUNCE_DEFER']);
  });

  it('a vendor without its key is skipped, not degraded; its emails stay unverified', async () => {
    const { output, calls, snapshot } = await drive(inputOf({ vendors: noKeys }), { crawl: 'thin' });
    expect(calls.map((c) => c.id)).toEqual(['crawl']);
    expect(output.reasons).toEqual(['CRAWL_THIN']);
    const ok = await drive(inputOf({ vendors: noKeys }), { crawl: 'ok' });
    expect(ok.output.degradedReasons).toBeNull();
    expect(ok.output.emails.every((e) => e.status === 'unverified')).toBe(true);
    expect(ok.output.provenance.filter((p) => p.field.startsWith('facts.')).every((p) => p.source === 'deterministic')).toBe(true);
    const skips = snapshot.context.stages.filter((s) => s.status === 'skipped').map((s) => [s.stage, s.extra.vendor, s.extra.detail]);
    expect(skips).toEqual([
      ['search', 'tavily', 'no_key'],
      ['extract', 'openai', 'no_key'],
      ['contacts', null, 'no_source'],
    ]);
    const verifySkip = ok.snapshot.context.stages.find((s) => s.stage === 'verify');
    expect(verifySkip).toMatchObject({ status: 'skipped', extra: { vendor: 'zerobounce', detail: 'no_key' } });
  });

  it('Lusha after a failed Apify only when ENABLE_LUSHA_FALLBACK', async () => {
    const on = await drive(inputOf(), { crawl: 'ok', extract: 'ok', apify: 'fail', lusha: 'ok', verify: 'ok' });
    expect(on.calls.map((c) => c.id)).toEqual(['crawl', 'extract', 'apify', 'lusha', 'verify']);
    expect(on.output.reasons).toEqual(['APIFY_LINKEDIN_FAIL']);
    expect(on.output.contacts.map((c) => [c.fullName, c.source])).toEqual([['Lu Lusha', 'lusha']]);
    expect(on.snapshot.context.stages.find((s) => s.extra.vendor === 'lusha')?.extra.fallback_taken).toBe('lusha');
    const off = await drive(inputOf({ features: { tavilyFallback: true, apifyLinkedin: true, lushaFallback: false } }), { crawl: 'ok', extract: 'ok', apify: 'fail', verify: 'ok' });
    expect(off.calls.map((c) => c.id)).toEqual(['crawl', 'extract', 'apify', 'verify']);
    expect(off.output.contacts).toEqual([]);
    expect(off.output.fallbacks).toEqual([]);
  });

  it('Lusha alone when Apify is off (switch off or no token), whatever ENABLE_LUSHA_FALLBACK says', async () => {
    const features = { tavilyFallback: true, apifyLinkedin: false, lushaFallback: false };
    const { calls, output } = await drive(inputOf({ features }), { crawl: 'ok', extract: 'ok', lusha: 'ok', verify: 'ok' });
    expect(calls.map((c) => c.id)).toEqual(['crawl', 'extract', 'lusha', 'verify']);
    expect(output.fallbacks).toEqual([]);
    const noToken = await drive(inputOf({ vendors: { ...noKeys, lusha: true } }), { crawl: 'ok', lusha: 'fail' });
    expect(noToken.output.reasons).toEqual(['LUSHA_FAIL']);
  });

  it('the company deadline stops the actor in flight and ends with what it has', async () => {
    const { output, calls, snapshot } = await drive(inputOf({ deadlineMs: 5_000 }), { crawl: 'ok', extract: 'ok', apify: 'hang' });
    const apify = calls.find((c) => c.id === 'apify');
    expect(apify?.signal.aborted).toBe(true);
    expect(output.reasons).toEqual(['DEADLINE_EXCEEDED']);
    expect(output.emails.map((e) => e.status)).toEqual(['unverified', 'unverified']);
    expect(output.facts.industry).toBe('Aerospace');
    expect(snapshot.context.stages.at(-2)).toMatchObject({ stage: 'contacts', errorCode: 'DEADLINE_EXCEEDED' });
  });

  it('no domain and no name: DATA_EMPTY:no_domain_name and nothing is called', async () => {
    const { output, calls } = await drive(inputOf({ company: companyOf('empty') }), {});
    expect(calls).toEqual([]);
    expect(output.degradedReasons).toBe('DATA_EMPTY:no_domain_name');
  });

  it('a name without a domain is a thin crawl and the search runs on the name', async () => {
    const { output, calls } = await drive(inputOf({ company: companyOf('nameOnly') }), { search: 'ok', extract: 'ok', apify: 'ok', verify: 'ok' });
    expect(calls[0]).toMatchObject({ id: 'search', input: { query: 'Acme Rockets' } });
    expect(output.reasons).toEqual(['CRAWL_THIN']);
    expect(calls[1]?.input).toMatchObject({ text: expect.stringContaining('established in 2001') });
  });

  it('a partial verification keeps what was verified and defers the rest', async () => {
    const calls: Parameters<typeof stubActors>[1] = [];
    const verifyEmails = fromPromise<StepOutcome<EmailVerification[]>, VerifyActorInput>(async ({ input }) => ({
      ok: false,
      refused: false,
      kind: 'rate_limited',
      detail: 'HTTP 429',
      partial: [{ email: input.emails[0] ?? '', status: 'valid', subStatus: null }],
      at: AT.verify,
      durationMs: 30,
    }));
    const machine = enrichmentMachine.provide({ actors: { ...stubActors({ crawl: 'ok', extract: 'ok', apify: 'ok' }, calls), verifyEmails } });
    const actor = createActor(machine, { input: inputOf() }).start();
    const output = await toPromise(actor);
    expect(output.emails.map((e) => [e.email, e.status])).toEqual([
      ['info@acme.test', 'valid'],
      ['sales@acme.test', 'unknown'],
      ['ada@acme.test', 'unknown'],
    ]);
    expect(output.reasons).toEqual(['ZEROBOUNCE_DEFER']);
    expect(actor.getSnapshot().context.stages.at(-2)).toMatchObject({ stage: 'verify', status: 'error', extra: { error_kind: 'rate_limited', detail: 'HTTP 429' } });
    expect(output.provenance.filter((p) => p.step === 'verify')).toEqual([{ field: 'emails.info@acme.test.status', step: 'verify', source: 'zerobounce', at: new Date(AT.verify).toISOString() }]);
  });

  it('known contacts skip discovery, and their addresses are not new', async () => {
    const company = { ...companyOf('known'), knownContacts: [{ fullName: 'Info', title: null, email: 'INFO@acme.test', linkedinUrl: null, source: 'input' as const }] };
    const { calls, output } = await drive(inputOf({ company }), { crawl: 'ok', extract: 'ok', verify: 'ok' });
    expect(calls.map((c) => c.id)).toEqual(['crawl', 'extract', 'verify']);
    expect(calls[2]?.input).toMatchObject({ emails: ['sales@acme.test'] });
    expect(output.contacts).toEqual([]);
  });

  it("each stage event keeps its own time: the actor's, the time known for a skip, startedAt + deadline for the deadline; done last", async () => {
    const { snapshot } = await drive(inputOf({ features: { tavilyFallback: true, apifyLinkedin: false, lushaFallback: false } }), { crawl: 'thin', search: 'ok', extract: 'fail', lusha: 'ok', verify: 'ok' });
    expect(snapshot.context.stages.map((s) => [s.stage, s.event, s.status, s.at])).toEqual([
      ['crawl', 'finish', 'degraded', AT.crawl],
      ['search', 'finish', 'ok', AT.search],
      ['extract', 'error', 'error', AT.extract],
      ['extract', 'finish', 'ok', AT.extract], // the deterministic extraction: no actor, the time known
      ['contacts', 'skip', 'skipped', AT.extract], // Apify off
      ['contacts', 'finish', 'ok', AT.lusha],
      ['verify', 'finish', 'ok', AT.verify],
      ['done', 'finish', 'degraded', AT.verify],
    ]);
    expect(snapshot.context.stages.every((s) => s.tenantId === 3 && s.companyId === 7)).toBe(true);
    expect(snapshot.context.stages.at(-1)).toMatchObject({ errorCode: 'CRAWL_THIN,OPENAI_FAIL', durationMs: AT.verify - STARTED_AT, extra: { fallback_taken: 'tavily,deterministic_extraction' } });
    const late = await drive(inputOf({ deadlineMs: 5_000 }), { crawl: 'ok', extract: 'ok', apify: 'hang' });
    expect(late.snapshot.context.stages.slice(-2).map((s) => [s.stage, s.errorCode, s.at, s.durationMs])).toEqual([
      ['contacts', 'DEADLINE_EXCEEDED', STARTED_AT + 5_000, null],
      ['done', 'DEADLINE_EXCEEDED', STARTED_AT + 5_000, 5_000],
    ]);
    const empty = await drive(inputOf({ company: companyOf('empty') }), {});
    expect(empty.snapshot.context.stages).toEqual([
      { tenantId: 3, companyId: 7, stage: 'done', event: 'finish', status: 'degraded', errorCode: 'DATA_EMPTY:no_domain_name', durationMs: 0, extra: { fallback_taken: null }, at: STARTED_AT },
    ]);
  });

  it('records timings from the actors and names every state with a description', async () => {
    const { output } = await drive(inputOf(), { crawl: 'ok', extract: 'ok', apify: 'ok', verify: 'ok' });
    expect(output.timings).toEqual([
      { stage: 'crawl', durationMs: 10 },
      { stage: 'extract', durationMs: 10 },
      { stage: 'contacts', durationMs: 10 },
      { stage: 'verify', durationMs: 10 },
    ]);
    const undescribed: string[] = [];
    const visit = (node: AnyStateNode) => {
      if (!node.description) undescribed.push(node.id);
      Object.values(node.states).forEach(visit);
    };
    visit(enrichmentMachine.root);
    expect(undescribed).toEqual([]);
  });
});
