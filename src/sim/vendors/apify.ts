import { hash, person } from '../random.js';
import { reply, type VendorSim } from '../types.js';

const error = (status: number, type: string, message: string, headers?: Record<string, string>) => reply(status, { error: { type, message } }, headers);

/**
 * Apify `POST /acts/{actor}/run-sync-get-dataset-items` imitating the HarvestAPI LinkedIn
 * company-employees actor in Short mode: HTTP 201 with an array of ProfileShort items.
 * Auth: `Authorization: Bearer` (a `?token=` is also accepted, as Apify does).
 */
export const apifySim: VendorSim = {
  successStatus: 201,
  authorised: (req, key) => req.headers.authorization === `Bearer ${key}` || req.query.get('token') === key,
  ok(req, ctx) {
    if (req.method !== 'POST' || !/^\/acts\/[^/]+\/run-sync-get-dataset-items$/.test(req.path)) {
      return error(404, 'record-not-found', 'Actor was not found');
    }
    const input = req.json as { companies?: unknown; maxItems?: unknown } | undefined;
    if (!Array.isArray(input?.companies)) return error(400, 'invalid-input', 'Input is not valid: Field input.companies is required');
    const company = String(input.companies[0] ?? '');
    if (company === '') return reply(201, []);
    const maxItems = typeof input.maxItems === 'number' && input.maxItems > 0 ? input.maxItems : 2500;
    const count = Math.min(maxItems, 2 + (hash(ctx.seed, 'apify', company) % 4));
    const items = Array.from({ length: count }, (_, i) => {
      const p = person(ctx.seed, company, 100 + i);
      const slug = `${p.first}-${p.last}-${hash(company, i).toString(36)}`.toLowerCase();
      const hidden = i === count - 1 && count > 3;
      return {
        id: `ACoAA${hash(slug).toString(36)}`,
        publicIdentifier: slug,
        name: hidden ? 'LinkedIn Member' : `${p.first} ${p.last}`,
        position: `${p.title} at ${company}`,
        location: { linkedinText: 'Berlin, Germany' },
        linkedinUrl: `https://www.linkedin.com/in/${slug}`,
        photo: null,
        hidden,
        _meta: { query: { companies: [company] } },
      };
    });
    return reply(201, items, { 'x-apify-pagination-total': String(items.length) });
  },
  invalidKey: () => error(401, 'user-or-token-not-found', 'User was not found or authentication token is not valid'),
  quota: () => error(402, 'memory-limit-exceeded', 'By launching this job you will exceed the memory limit of 8192MB for all your Actor runs and builds'),
  rateLimited: (s = 1) => error(429, 'rate-limit-exceeded', 'You have exceeded the rate limit of 30 requests per second', { 'retry-after': String(s) }),
  serverError: (status) =>
    status === 408
      ? error(408, 'run-timeout-exceeded', 'Actor run exceeded the timeout of 300 seconds for this API endpoint')
      : error(status, 'internal-server-error', 'Internal server error'),
  schemaMismatch: () => reply(201, { items: [] }),
};
