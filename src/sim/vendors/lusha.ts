import { hash, person } from '../random.js';
import { reply, type SimContext, type VendorSim } from '../types.js';

const error = (status: number, message: string, headers?: Record<string, string>) => reply(status, { statusCode: status, message }, headers);

/** Ids carry the company and index, so enrich needs no state: `<index>.<domain-or-name>`. */
const idOf = (company: string, index: number) => `${index}.${company}`;

function prospect(json: unknown, ctx: SimContext) {
  const body = json as { pagination?: { size?: unknown }; filters?: { companies?: { include?: { domains?: unknown; names?: unknown } } } } | undefined;
  const include = body?.filters?.companies?.include;
  const company = (Array.isArray(include?.domains) ? include.domains[0] : undefined) ?? (Array.isArray(include?.names) ? include.names[0] : undefined);
  if (typeof company !== 'string') return error(400, 'Bad request: filters.companies or filters.contacts is required');
  const size = typeof body?.pagination?.size === 'number' ? body.pagination.size : 25;
  const count = Math.min(size, 1 + (hash(ctx.seed, 'lusha', company) % 4));
  const results = Array.from({ length: count }, (_, i) => {
    const p = person(ctx.seed, company, i);
    return { id: idOf(company, i), firstName: p.first, lastName: p.last, jobTitle: { title: p.title }, has: ['emails'], canReveal: [] };
  });
  return reply(200, { requestId: `req-${hash(company).toString(16)}`, pagination: { page: 0, size, total: count }, results, billing: { creditsCharged: 0, resultsReturned: count } });
}

function enrich(json: unknown, ctx: SimContext) {
  const ids = (json as { ids?: unknown } | undefined)?.ids;
  if (!Array.isArray(ids) || ids.length === 0) return error(400, 'Bad request: ids is required');
  const results = ids.map((id) => {
    const match = typeof id === 'string' ? /^(\d+)\.(.+)$/.exec(id) : null;
    if (!match) return { id: String(id), error: { code: 'NOT_FOUND', message: 'Contact not found' } };
    const company = match[2]!;
    const p = person(ctx.seed, company, Number(match[1]));
    const domain = company.includes('.') ? company : `${company.toLowerCase().replace(/\s+/g, '')}.example`;
    return {
      id,
      firstName: p.first,
      lastName: p.last,
      fullName: `${p.first} ${p.last}`,
      jobTitle: { title: p.title, departments: [], seniority: 'Manager' },
      emails: [{ email: `${p.first}.${p.last}@${domain}`.toLowerCase(), type: 'work', confidence: 'A+', updateDate: '2026-11-01' }],
      phones: [],
      socialLinks: { linkedin: `https://www.linkedin.com/in/${p.first}-${p.last}`.toLowerCase() },
    };
  });
  return reply(200, { requestId: 'req-enrich', results, billing: { creditsCharged: results.length, resultsReturned: results.length } });
}

/** Lusha V3 prospecting and enrich (`api_key` header), error bodies `{statusCode, message}`. */
export const lushaSim: VendorSim = {
  successStatus: 200,
  authorised: (req, key) => req.headers.api_key === key,
  ok(req, ctx) {
    if (req.method === 'POST' && req.path === '/v3/contacts/prospecting') return prospect(req.json, ctx);
    if (req.method === 'POST' && req.path === '/v3/contacts/enrich') return enrich(req.json, ctx);
    return error(404, 'Endpoint not found');
  },
  invalidKey: () => error(401, 'Unauthorized: invalid API key'),
  quota: (status) =>
    status === 429 ? error(429, 'Daily API quota limit exceeded. Limit: 100') : error(402, 'Payment required: insufficient credits'),
  /**
   * Lusha documents no Retry-After: the wait is in the message ("… Reset in X seconds"), beside the
   * usage headers of its docs' intro (`x-rate-limit-hourly`, `x-hourly-requests-left`, `x-hourly-usage`).
   */
  rateLimited: (s = 1) =>
    error(429, `Hourly API rate limit exceeded. Limit: 150 calls per hour. Reset in ${s} seconds`, {
      'x-rate-limit-hourly': '150',
      'x-hourly-requests-left': '0',
      'x-hourly-usage': '150',
    }),
  serverError: (status) => error(status, 'Internal server error'),
  schemaMismatch: () => reply(200, { requestId: 'req', results: [{ name: 'no id here' }] }),
};
