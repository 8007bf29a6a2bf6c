import { z } from 'zod';
import type { Config } from '../config/index.js';
import type { Company, CompanyFacts, Contact } from '../domain/company.js';
import { VendorError, isVendorError } from '../domain/errors.js';
import type { ContactSourcePort } from '../domain/ports.js';
import { systemClock } from './clock.js';
import { mayHaveReachedVendor } from './http/classify.js';
import { requireKey, type HttpAdapterDeps } from './http/deps.js';
import { expectJson, type RefineResponse } from './http/request.js';
import { validateBody } from './http/validate.js';

/** The actor's profile scraper mode: the cheapest, which returns ProfileShort items. */
export const PROFILE_SCRAPER_MODE = 'Short ($4 per 1k)';

const text = z.string().nullish();

/**
 * One dataset item of the HarvestAPI LinkedIn company-employees actor. Short mode gives `name`
 * and `position`; Full mode gives `firstName`/`lastName`/`headline` (and maybe `emails`). Both
 * are accepted; an item with neither a name nor first/last name is a `bad_response`.
 */
const ItemSchema = z
  .object({
    name: text,
    firstName: text,
    lastName: text,
    position: text,
    headline: text,
    linkedinUrl: text,
    hidden: z.boolean().nullish(),
    emails: z.array(z.string()).nullish(),
  })
  .refine((i) => Boolean(i.name || i.firstName || i.lastName || i.hidden), { message: 'item without a name' });

const DatasetSchema = z.array(ItemSchema);

/** Options of the Apify LinkedIn client. */
export interface ApifyDeps extends HttpAdapterDeps {
  /** Profiles asked of the actor per company (`maxItems`; 0 would mean all). Default 10. */
  maxItems?: number;
}

/**
 * The run's own timeout in seconds: 5 s below the per-attempt timeout (APIFY_TIMEOUT_MS), so that
 * the run stops itself and answers before our attempt gives up on it (a run we stop waiting for keeps
 * running and billing), and below Apify's 300 s cap on a synchronous run.
 */
export function runTimeoutSeconds(attemptTimeoutMs: number): number {
  return Math.max(1, Math.min(290, Math.floor(attemptTimeoutMs / 1000) - 5));
}

/**
 * A 408 `run-timeout-exceeded` is a timeout that must not be retried: Apify does not abort the run,
 * which keeps running and billing, and a retry would start a second paid run (VENDOR_APIS.md; the
 * official client never retries a 408 either).
 */
const refineApify: RefineResponse = (res) =>
  res.status === 408 ? new VendorError({ vendor: 'apify_linkedin', kind: 'timeout', status: 408, detail: 'run-timeout-exceeded', final: true }) : undefined;

/**
 * A request that may have reached Apify and then failed on our side (a reset, a closed socket, an
 * undici timeout) may have started a run that is still going, and billing: the sync endpoint names
 * no run id before it answers, so there is no asking. Such failures are `final`; a connection that
 * was never made stays retryable (docs/decisions/055-055-apify-timeouts.md).
 */
function finalWhenRunMayBeGoing(error: unknown): unknown {
  if (!isVendorError(error) || error.final || !mayHaveReachedVendor(error)) return error;
  return new VendorError({ ...error.toJSON(), final: true, cause: error.cause });
}

/** What the actor is asked to search: the company's LinkedIn URL when known, else its name or domain. */
function companyQuery(company: Company, facts: CompanyFacts): string | null {
  if (facts.linkedinUrl && /linkedin\.com\/company\//i.test(facts.linkedinUrl)) return facts.linkedinUrl;
  return company.name ?? facts.name ?? company.domain ?? null;
}

/**
 * Apify LinkedIn contacts (ContactSourcePort): `POST {APIFY_BASE_URL}/acts/{APIFY_LINKEDIN_ACTOR}/
 * run-sync-get-dataset-items?timeout=<s>` (the base includes /v2) with `Authorization: Bearer
 * <token>` (never `?token=`, which ends up in logs) and the actor input `{companies, maxItems,
 * profileScraperMode}`. Success is HTTP 201 with a JSON array of items; hidden profiles are skipped.
 *
 * @throws Error at construction when APIFY_TOKEN is empty
 * @throws VendorError (vendor `apify_linkedin`) from `findContacts`: 408 `run-timeout-exceeded` →
 *   `timeout`, marked `final` (never retried); a reset, closed socket or timeout after connecting
 *   → `network` / `timeout` marked `final` too (a run may be going); a refused connection or DNS
 *   failure → `network`, retryable; 402 → `quota_exhausted`; 401/403 → `auth`; 429 → `rate_limited`; 5xx → `server`;
 *   400 (`run-failed`, `invalid-input`) → `bad_request`; a non-array or unknown items → `bad_response`
 */
export function createApifyLinkedinClient(config: Pick<Config, 'vendors'>, deps: ApifyDeps = {}): ContactSourcePort {
  const { baseUrl, linkedinActor, timeoutMs } = config.vendors.apify;
  const token = requireKey(config.vendors.apify.apiKey, 'APIFY_TOKEN');
  const clock = deps.clock ?? systemClock;
  const url = `${baseUrl}/acts/${encodeURIComponent(linkedinActor)}/run-sync-get-dataset-items?timeout=${runTimeoutSeconds(timeoutMs)}`;
  return {
    async findContacts(input, signal): Promise<Contact[]> {
      const company = companyQuery(input.company, input.facts);
      if (!company) return [];
      let body: unknown;
      try {
        body = await expectJson(
          'apify_linkedin',
          {
            method: 'POST',
            url,
            headers: { authorization: `Bearer ${token}` },
            json: { companies: [company], maxItems: deps.maxItems ?? 10, profileScraperMode: PROFILE_SCRAPER_MODE },
            signal,
            dispatcher: deps.dispatcher,
            maxBytes: deps.maxBytes,
          },
          { now: clock.now, okStatuses: [200, 201], refine: refineApify },
        );
      } catch (error) {
        throw finalWhenRunMayBeGoing(error);
      }
      return validateBody('apify_linkedin', DatasetSchema, body).flatMap((item): Contact[] => {
        if (item.hidden) return [];
        const fullName = item.name ?? [item.firstName, item.lastName].filter(Boolean).join(' ');
        if (!fullName) return [];
        return [{
          fullName,
          firstName: item.firstName ?? null,
          lastName: item.lastName ?? null,
          title: item.position ?? item.headline ?? null,
          email: item.emails?.[0]?.toLowerCase() ?? null,
          linkedinUrl: item.linkedinUrl ?? null,
          source: 'apify_linkedin',
        }];
      });
    },
  };
}
