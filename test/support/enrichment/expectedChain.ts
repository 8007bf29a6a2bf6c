/**
 * The fallback chain written a second time, imperatively and straight from DESIGN.md "The fallback
 * chain", as the oracle the model-based tests hold the machine to. It shares nothing with the
 * machine but the domain types and the deterministic extraction (tested on its own).
 */
import type { Company, CompanyFacts, Contact, EmailStatus, ProvenanceEntry, ReasonCode, SourceName } from '../../../src/domain/index.js';
import { extractDeterministically } from '../../../src/domain/extraction.js';
import type { EnrichmentInput } from '../../../src/machines/enrichment.types.js';
import { AT, fixtures } from './fixtures.js';

/**
 * Scripted outcome of one step. `fail`/`refuse` resolve with a timed failure/refusal outcome;
 * `throw`/`throwOpen` reject with a VendorError/CircuitOpenError (untimed); `hang` never settles
 * (the deadline fires while it is in flight).
 */
export type Scripted = 'ok' | 'thin' | 'fail' | 'refuse' | 'throw' | 'throwOpen' | 'hang';
export type ActorId = 'crawl' | 'search' | 'extract' | 'apify' | 'lusha' | 'verify';
export type Script = Partial<Record<ActorId, Scripted>>;

export interface Expected {
  reasons: ReasonCode[];
  provenance: ProvenanceEntry[];
  fallbacks: string[];
  /** Actors called, in order. */
  calls: ActorId[];
  emails: { email: string; status: EmailStatus; source: SourceName }[];
  facts: CompanyFacts;
}

class DeadlineHit extends Error {}

export function expectedChain(input: EnrichmentInput, script: Script): Expected {
  const { company, vendors: keys, features: flags } = input;
  const out: Expected = { reasons: [], provenance: [], fallbacks: [], calls: [], emails: [], facts: {} };
  let now = input.startedAt;
  const iso = (t: number) => new Date(t).toISOString();
  const prov = (field: string, step: ProvenanceEntry['step'], source: SourceName, at = now) => out.provenance.push({ field, step, source, at: iso(at) });
  const run = (id: ActorId): 'ok' | 'thin' | 'fail' | 'refuse' => {
    out.calls.push(id);
    const scripted = script[id];
    if (scripted === undefined) throw new Error(`the chain calls ${id} but the path did not script it`);
    if (scripted === 'hang') throw new DeadlineHit();
    if (scripted === 'throw') return 'fail'; // a rejection carries no time
    if (scripted === 'throwOpen') return 'refuse';
    now = AT[id];
    return scripted;
  };
  const knownEmails = new Set((company.knownContacts ?? []).map((c) => c.email?.toLowerCase()));
  const addEmail = (raw: string | null, source: SourceName, step: ProvenanceEntry['step']) => {
    const email = raw?.toLowerCase();
    if (!email || knownEmails.has(email) || out.emails.some((e) => e.email === email)) return;
    out.emails.push({ email, status: 'unverified', source });
    prov(`emails.${email}`, step, source);
  };
  const addFacts = (facts: CompanyFacts, source: SourceName) => {
    out.facts = facts;
    for (const key of Object.keys(facts)) prov(`facts.${key}`, 'extract', source);
  };
  const addContacts = (contacts: Contact[], source: 'apify_linkedin' | 'lusha') => {
    for (const [i, c] of contacts.entries()) {
      for (const f of ['fullName', 'title', 'email', 'linkedinUrl'] as const) if (c[f] != null) prov(`contacts[${i}].${f}`, 'contacts', source);
    }
    for (const c of contacts) addEmail(c.email, source, 'contacts');
  };
  const refusedOrFailed = (o: string, vendor: string, failCode: ReasonCode) =>
    out.reasons.push(o === 'refuse' ? (`CIRCUIT_OPEN:${vendor}` as ReasonCode) : failCode);

  try {
    // 1. preconditions
    if (!company.domain && !company.name) {
      out.reasons.push('DATA_EMPTY:no_domain_name');
      return out;
    }
    // 2. crawl
    let crawl = null as (typeof fixtures.crawl)['ok'] | null;
    let weak = false;
    if (!company.domain) {
      out.reasons.push('CRAWL_THIN');
      weak = true;
    } else {
      const o = run('crawl');
      if (o === 'ok' || o === 'thin') {
        crawl = fixtures.crawl[o];
        if (o === 'thin') out.reasons.push('CRAWL_THIN');
        weak = o === 'thin';
        for (const m of crawl.mailtos) addEmail(m, 'crawler', 'crawl');
      } else {
        out.reasons.push('CRAWL_ERROR');
        weak = true;
      }
    }
    // 3. search fallback
    let search = null as typeof fixtures.search | null;
    if (weak && flags.tavilyFallback && keys.tavily) {
      out.fallbacks.push('tavily');
      const o = run('search');
      if (o === 'ok') search = fixtures.search;
      else refusedOrFailed(o, 'tavily', 'TAVILY_FAIL');
    }
    // 4. extraction
    const deterministic = () => {
      out.fallbacks.push('deterministic_extraction');
      addFacts(extractDeterministically({ company, crawl, search }), 'deterministic');
    };
    if (keys.openai) {
      const o = run('extract');
      if (o === 'ok') {
        addFacts({ ...fixtures.facts }, 'openai');
        // What the model left out of the company's own identity comes from the input.
        if (company.name && out.facts.name == null) {
          out.facts.name = company.name;
          prov('facts.name', 'extract', 'input');
        }
        if (company.domain && out.facts.website == null) {
          out.facts.website = `https://${company.domain}/`;
          prov('facts.website', 'extract', 'input');
        }
      }
      else {
        refusedOrFailed(o, 'openai', 'OPENAI_FAIL');
        deterministic();
      }
    } else deterministic();
    // 5. contacts
    if ((company.knownContacts ?? []).length === 0) {
      const apifyOn = flags.apifyLinkedin && keys.apify_linkedin;
      let lusha = !apifyOn && keys.lusha;
      if (apifyOn) {
        const o = run('apify');
        if (o === 'ok') addContacts(fixtures.contacts.apify, 'apify_linkedin');
        else {
          refusedOrFailed(o, 'apify_linkedin', 'APIFY_LINKEDIN_FAIL');
          if (flags.lushaFallback && keys.lusha) {
            out.fallbacks.push('lusha');
            lusha = true;
          }
        }
      }
      if (lusha) {
        const o = run('lusha');
        if (o === 'ok') addContacts(fixtures.contacts.lusha, 'lusha');
        else refusedOrFailed(o, 'lusha', 'LUSHA_FAIL');
      }
    }
    // 6. verification
    if (out.emails.length > 0 && keys.zerobounce) {
      const o = run('verify');
      if (o === 'ok') {
        for (const e of out.emails) {
          e.status = 'valid';
          prov(`emails.${e.email}.status`, 'verify', 'zerobounce');
        }
      } else {
        for (const e of out.emails) e.status = 'unknown';
        if (o === 'refuse') out.reasons.push('CIRCUIT_OPEN:zerobounce');
        out.reasons.push('ZEROBOUNCE_DEFER');
      }
    }
  } catch (e) {
    if (!(e instanceof DeadlineHit)) throw e;
    // Cut off while verifying: the addresses are deferred (unknown), for verify-deferred.
    if (out.calls[out.calls.length - 1] === 'verify') for (const x of out.emails) x.status = 'unknown';
    out.reasons.push('DEADLINE_EXCEEDED');
  }
  return out;
}

/** A company shape for the configurations the tests sweep. */
export function companyOf(shape: 'full' | 'nameOnly' | 'domainOnly' | 'empty' | 'known'): Company {
  const base: Company = { companyId: 7, tenantId: 3, name: 'Acme Rockets', domain: 'acme.test' };
  switch (shape) {
    case 'full':
      return base;
    case 'nameOnly':
      return { ...base, domain: null };
    case 'domainOnly':
      return { ...base, name: null };
    case 'empty':
      return { ...base, name: null, domain: null };
    case 'known':
      return { ...base, knownContacts: [{ fullName: 'Kim Known', title: 'COO', email: 'kim@acme.test', linkedinUrl: null, source: 'input' }] };
  }
}
