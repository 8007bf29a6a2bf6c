import { z } from 'zod';
import type { Config } from '../config/index.js';
import type { Company, Contact } from '../domain/company.js';
import { withBilled } from '../domain/prices.js';
import { VendorError } from '../domain/errors.js';
import type { ContactSourcePort, ContactsInput } from '../domain/ports.js';
import { systemClock } from './clock.js';
import { parseRetryAfter } from './http/classify.js';
import { isRecord, requireKey, type HttpAdapterDeps } from './http/deps.js';
import { expectJson, type HttpRequest, type RefineResponse } from './http/request.js';
import { validateBody } from './http/validate.js';

/**
 * Lusha contact discovery (ContactSourcePort) on the current V3 API. We know a company's domain
 * or name but no person, so the person endpoints (`GET /v2/person`, `/v3/contacts/search-and-
 * enrich`), which need a name, email or LinkedIn URL per person, do not fit. The V3 prospecting
 * flow does: `POST /v3/contacts/prospecting` filtered on the company's domain (or name) returns
 * contact previews with ids, then `POST /v3/contacts/enrich` with those ids and
 * `reveal: ["emails"]` returns their emails. Two requests per attempt of the guarded call; the
 * attempts of one {@link ContactSourcePort.lookup} share the prospecting result, so a retry after
 * a failed enrich repeats only the enrich.
 */

const JobTitle = z.object({ title: z.string().nullish() }).nullish();
const Social = z.object({ linkedin: z.string().nullish() }).nullish();
const ItemError = z.object({ code: z.union([z.string(), z.number()]).optional() }).nullish();

/** `billing` of a V3 answer: the credits the request was charged (VENDOR_APIS.md). */
const Billing = z.object({ creditsCharged: z.number().nonnegative() }).partial().optional();

const ProspectingSchema = z.object({
  requestId: z.string().optional(),
  billing: Billing,
  results: z.array(z.object({ id: z.union([z.string(), z.number()]).transform(String), error: ItemError })),
});

const EnrichSchema = z.object({
  billing: Billing,
  results: z.array(
    z.object({
      id: z.union([z.string(), z.number()]).transform(String),
      firstName: z.string().nullish(),
      lastName: z.string().nullish(),
      fullName: z.string().nullish(),
      jobTitle: JobTitle,
      emails: z.array(z.object({ email: z.string(), type: z.string().nullish() })).nullish(),
      socialLinks: Social,
      error: ItemError,
    }),
  ),
});

/** The message of either documented error shape: `{statusCode, message}` or `{error: {code, message}}`. */
function errorMessage(json: unknown): string {
  if (!isRecord(json)) return '';
  if (typeof json.message === 'string') return json.message;
  if (isRecord(json.error) && typeof json.error.message === 'string') return json.error.message;
  return '';
}

/** 429s are quota when the message says daily quota or trial limit; 499 is Lusha's timeout. */
function refineLusha(now: () => number): RefineResponse {
  return (res, json) => {
    if (res.status === 499) return new VendorError({ vendor: 'lusha', kind: 'timeout', status: 499, detail: 'vendor timeout' });
    if (res.status !== 429) return undefined;
    const message = errorMessage(json);
    if (/daily|trial/i.test(message)) return new VendorError({ vendor: 'lusha', kind: 'quota_exhausted', status: 429, detail: /trial/i.test(message) ? 'trial_limit' : 'daily_quota' });
    const reset = /reset in (\d+) seconds?/i.exec(message);
    const retryAfterMs = parseRetryAfter(res.headers, now()) ?? (reset?.[1] ? Number(reset[1]) * 1000 : undefined);
    return new VendorError({ vendor: 'lusha', kind: 'rate_limited', status: 429, retryAfterMs });
  };
}

/** Options of the Lusha client. */
export interface LushaDeps extends HttpAdapterDeps {
  /** Contacts asked for per company (prospecting page size). Default 10. */
  maxContacts?: number;
}

/**
 * @throws Error at construction when LUSHA_API_KEY is empty
 * @throws VendorError (vendor `lusha`) from `findContacts` and a `lookup`'s attempts: 402 and
 *   daily/trial 429s → `quota_exhausted`; other 429 → `rate_limited` (Retry-After, else "Reset in
 *   X seconds"); 401/403 → `auth`; 5xx → `server`; 499 → `timeout`; an unexpected body →
 *   `bad_response`
 */
export function createLushaClient(config: Pick<Config, 'vendors'>, deps: LushaDeps = {}): ContactSourcePort {
  const { baseUrl } = config.vendors.lusha;
  const key = requireKey(config.vendors.lusha.apiKey, 'LUSHA_API_KEY');
  const clock = deps.clock ?? systemClock;
  const post = (path: string, json: unknown, signal: AbortSignal): Promise<unknown> => {
    const req: HttpRequest = { method: 'POST', url: `${baseUrl}${path}`, headers: { api_key: key }, json, signal, dispatcher: deps.dispatcher, maxBytes: deps.maxBytes };
    return expectJson('lusha', req, { now: clock.now, refine: refineLusha(clock.now) });
  };
  /** The ids of the company's contacts (`POST /v3/contacts/prospecting`), errored previews left out. */
  const prospect = async (include: CompanyFilter, signal: AbortSignal): Promise<{ ids: string[]; credits: number | undefined }> => {
    const body = await post('/v3/contacts/prospecting', { pagination: { page: 0, size: deps.maxContacts ?? 10 }, filters: { companies: { include } } }, signal);
    const parsed = validateBody('lusha', ProspectingSchema, body);
    return { ids: parsed.results.filter((r) => !r.error).map((r) => r.id), credits: parsed.billing?.creditsCharged };
  };
  /** The contacts of those ids with their emails (`POST /v3/contacts/enrich`). */
  const enrich = async (ids: string[], signal: AbortSignal): Promise<{ contacts: Contact[]; credits: number | undefined }> => {
    const enriched = validateBody('lusha', EnrichSchema, await post('/v3/contacts/enrich', { ids, reveal: ['emails'] }, signal));
    const contacts = enriched.results.flatMap((r): Contact[] => {
      const fullName = r.fullName ?? [r.firstName, r.lastName].filter(Boolean).join(' ');
      if (r.error || !fullName) return [];
      const email = r.emails?.find((e) => e.type === 'work') ?? r.emails?.[0];
      return [{
        fullName,
        firstName: r.firstName ?? null,
        lastName: r.lastName ?? null,
        title: r.jobTitle?.title ?? null,
        email: email ? email.email.toLowerCase() : null,
        linkedinUrl: r.socialLinks?.linkedin ?? null,
        source: 'lusha',
      }];
    });
    return { contacts, credits: enriched.billing?.creditsCharged };
  };
  const lookup = (input: ContactsInput) => {
    // Kept once the search succeeded: a retry after a failed enrich must not pay for it again.
    // The search's credits are charged once, with the attempt that returns the contacts.
    let found: { ids: string[]; credits: number | undefined } | null = null;
    return async (signal: AbortSignal): Promise<Contact[]> => {
      const include = companyFilter(input.company, input.facts.name ?? null);
      if (!include) return [];
      found ??= await prospect(include, signal);
      if (found.ids.length === 0) return found.credits === undefined ? [] : withBilled([], { credits: found.credits });
      const { contacts, credits } = await enrich(found.ids, signal);
      // What Lusha reports it charged (billing.creditsCharged of both requests), when it does.
      return credits === undefined && found.credits === undefined ? contacts : withBilled(contacts, { credits: (credits ?? 0) + (found.credits ?? 0) });
    };
  };
  return {
    lookup,
    findContacts: (input, signal) => lookup(input)(signal),
  };
}

/** The companies a prospecting search is filtered on. */
type CompanyFilter = { domains: string[] } | { names: string[] };

/** Prospecting company filter: the domain when known, else the name; null when neither. */
function companyFilter(company: Company, factsName: string | null): CompanyFilter | null {
  if (company.domain) return { domains: [company.domain] };
  const name = company.name ?? factsName;
  return name ? { names: [name] } : null;
}
