import { companyNameOf, hash, pick, INDUSTRIES } from '../random.js';
import { reply, type VendorSim } from '../types.js';

const error = (status: number, message: string, headers?: Record<string, string>) => reply(status, { detail: { error: message } }, headers);

/** Tavily `POST /search` (Bearer auth), error bodies `{"detail":{"error":…}}`, quota 432/433. */
export const tavilySim: VendorSim = {
  successStatus: 200,
  authorised: (req, key) => req.headers.authorization === `Bearer ${key}`,
  ok(req, ctx) {
    if (req.method !== 'POST' || req.path !== '/search') return error(404, 'Not Found');
    const body = req.json as { query?: unknown; max_results?: unknown; include_usage?: unknown } | undefined;
    if (typeof body?.query !== 'string') return error(400, 'Invalid request: query is required');
    const query = body.query;
    const domain = /([a-z0-9-]+\.[a-z.]+)/i.exec(query)?.[1] ?? query.split(/\s+/)[0] ?? 'example.com';
    const name = companyNameOf(domain);
    const h = hash(ctx.seed, 'tavily', query);
    const count = Math.min(typeof body.max_results === 'number' ? body.max_results : 5, 3);
    const results = Array.from({ length: count }, (_, i) => ({
      title: `${name} – ${['About', 'Company profile', 'News'][i] ?? 'Page'}`,
      url: `https://${i === 0 ? domain : `directory${i}.example`}/${name.toLowerCase().replace(/\s+/g, '-')}`,
      content: `${name} is a ${pick(INDUSTRIES, h >>> i).toLowerCase()} company. It serves customers across Europe and North America and employs about ${50 + (h % 900)} people.`,
      score: Math.round((0.9 - i * 0.1) * 100) / 100,
      raw_content: null,
    }));
    return reply(200, {
      query,
      answer: `${name} is a ${pick(INDUSTRIES, h).toLowerCase()} company.`,
      images: [],
      results,
      response_time: 0.42,
      request_id: `sim-${h.toString(16)}`,
      // As documented: the credits the search cost, only with include_usage (a basic search is 1).
      ...(body.include_usage === true ? { usage: { credits: 1 } } : {}),
    });
  },
  invalidKey: () => error(401, 'Unauthorized: missing or invalid API key.'),
  quota: (status) =>
    status === 433
      ? error(433, 'This request exceeds the pay-as-you-go limit. You can increase your limit on the Tavily dashboard.')
      : error(432, "This request exceeds your plan's set usage limit. Please upgrade your plan or contact support@tavily.com"),
  /** Retry-After is unconfirmed for Tavily: sent only when the profile sets `retryAfterS`. */
  rateLimited: (s) => error(429, 'Too many requests. Please slow down.', s === undefined ? undefined : { 'retry-after': String(s) }),
  serverError: (status) => error(status, 'Internal Server Error'),
  schemaMismatch: () => reply(200, { query: 'x', results: 'none' }),
};
