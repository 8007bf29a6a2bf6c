import { z } from 'zod';
import type { Config } from '../config/index.js';
import { VendorError } from '../domain/errors.js';
import type { SearchPort, SearchResult } from '../domain/ports.js';
import { withBilled } from '../domain/prices.js';
import { systemClock } from './clock.js';
import { requireKey, type HttpAdapterDeps } from './http/deps.js';
import { expectJson } from './http/request.js';
import { validateBody } from './http/validate.js';

const ResultSchema = z.object({
  title: z.string(),
  url: z.string(),
  content: z.string(),
  score: z.number().optional(),
  raw_content: z.string().nullish(),
  published_date: z.string().nullish(),
});

/** Tavily `POST /search` 200 body (fields we read; others are ignored). */
const SearchResponseSchema = z.object({
  query: z.string(),
  answer: z.string().nullish(),
  results: z.array(ResultSchema),
  // An older docs example shows a string ("1.67"); both are accepted.
  response_time: z.union([z.number(), z.string()]).optional(),
  // Sent with include_usage (or by a proxy that adds it): the credits the search cost.
  usage: z.object({ credits: z.number().nonnegative() }).optional(),
});

/** Options of the Tavily client. */
export interface TavilyDeps extends HttpAdapterDeps {
  /** `max_results`, 0..20. Default 5. */
  maxResults?: number;
}

/**
 * Tavily search (SearchPort): `POST {TAVILY_BASE_URL}/search` with `Authorization: Bearer <key>`
 * (never the legacy body key), `search_depth: basic` (1 credit), `include_answer: basic`,
 * `include_usage` (the credits it cost, kept on the result for its price: `billedOf`).
 *
 * @throws Error at construction when TAVILY_API_KEY is empty
 * @throws VendorError (vendor `tavily`) from `search`: HTTP 432/433 → `quota_exhausted`,
 *   401/403 → `auth`, 429 → `rate_limited` (Retry-After honoured when sent), 5xx → `server`,
 *   a body that does not match the documented schema → `bad_response`
 */
export function createTavilyClient(config: Pick<Config, 'vendors'>, deps: TavilyDeps = {}): SearchPort {
  const { baseUrl } = config.vendors.tavily;
  const key = requireKey(config.vendors.tavily.apiKey, 'TAVILY_API_KEY');
  const clock = deps.clock ?? systemClock;
  return {
    async search(query: string, signal: AbortSignal): Promise<SearchResult> {
      const body = await expectJson(
        'tavily',
        {
          method: 'POST',
          url: `${baseUrl}/search`,
          headers: { authorization: `Bearer ${key}` },
          // include_usage: the answer says what the search cost (`usage.credits`, what VENDOR_PRICES charges).
          json: { query, search_depth: 'basic', topic: 'general', max_results: deps.maxResults ?? 5, include_answer: 'basic', include_usage: true },
          signal,
          dispatcher: deps.dispatcher,
          maxBytes: deps.maxBytes,
        },
        {
          now: clock.now,
          refine: (res) =>
            res.status === 432 || res.status === 433
              ? new VendorError({ vendor: 'tavily', kind: 'quota_exhausted', status: res.status, detail: res.status === 432 ? 'plan_limit' : 'paygo_limit' })
              : undefined,
        },
      );
      const parsed = validateBody('tavily', SearchResponseSchema, body);
      const result: SearchResult = {
        answer: parsed.answer ?? null,
        hits: parsed.results.map((r) => ({ title: r.title, url: r.url, content: r.content, ...(r.score === undefined ? {} : { score: r.score }) })),
      };
      return parsed.usage ? withBilled(result, { credits: parsed.usage.credits }) : result;
    },
  };
}
