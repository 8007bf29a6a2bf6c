import { CITIES, companyNameOf, hash, pick, INDUSTRIES } from '../random.js';
import { reply, type SimContext, type SimRequest, type VendorSim } from '../types.js';

const error = (status: number, message: string, type: string, code: string | null, headers?: Record<string, string>) =>
  reply(status, { error: { message, type, param: null, code } }, headers);

function completion(ctx: SimContext, content: string | null, promptChars: number, extra: { finish_reason?: string; refusal?: string } = {}) {
  const completionTokens = Math.ceil((content?.length ?? 0) / 4);
  const promptTokens = Math.ceil(promptChars / 4);
  return reply(200, {
    id: `chatcmpl-sim${ctx.callIndex}`,
    object: 'chat.completion',
    created: 1_700_000_000 + ctx.callIndex,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: extra.refusal ?? null }, logprobs: null, finish_reason: extra.finish_reason ?? 'stop' }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    system_fingerprint: 'fp_sim',
  });
}

function promptOf(req: SimRequest): { chars: number; user: string } {
  const messages = (req.json as { messages?: { content?: unknown }[] } | undefined)?.messages ?? [];
  const texts = messages.map((m) => (typeof m.content === 'string' ? m.content : ''));
  return { chars: texts.join('').length, user: texts[texts.length - 1] ?? '' };
}

/** OpenAI `POST /chat/completions` in JSON mode: facts derived from the prompt's domain. */
export const openaiSim: VendorSim = {
  successStatus: 200,
  authorised: (req, key) => req.headers.authorization === `Bearer ${key}`,
  ok(req, ctx) {
    if (req.method !== 'POST' || req.path !== '/chat/completions') return error(404, 'Invalid URL', 'invalid_request_error', null);
    const { chars, user } = promptOf(req);
    if (chars === 0) return error(400, "'messages' is required", 'invalid_request_error', null);
    const domain = /Domain: (\S+)/.exec(user)?.[1] ?? 'unknown';
    const named = /Company name: (.+)/.exec(user)?.[1];
    const name = named && named !== 'unknown' ? named : companyNameOf(domain === 'unknown' ? 'company' : domain);
    const h = hash(ctx.seed, 'openai', domain, name);
    const [city, country] = pick(CITIES, h);
    const facts = {
      name,
      description: `${name} provides ${pick(INDUSTRIES, h).toLowerCase()} products and services.`,
      industry: pick(INDUSTRIES, h),
      employeeCount: 10 + (h % 990),
      country,
      city,
      foundedYear: 1960 + (h % 60),
      website: domain === 'unknown' ? null : `https://${domain}`,
      phone: null,
      linkedinUrl: `https://www.linkedin.com/company/${name.toLowerCase().replace(/\s+/g, '-')}`,
    };
    return completion(ctx, JSON.stringify(facts), chars);
  },
  invalidKey: () => error(401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'),
  /** `insufficient_quota`, or a billing code (then both type and code, as `billing_not_active` bodies show). */
  quota: (_status, code) =>
    code === undefined || code === 'insufficient_quota'
      ? error(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota')
      : code.startsWith('billing')
        ? error(429, 'Your account is not active, please check your billing details on our website.', code, code)
        : error(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', code),
  rateLimited: (s = 1) =>
    error(429, 'Rate limit reached for gpt-4o-mini in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1.', 'requests', 'rate_limit_exceeded', {
      'retry-after': String(s),
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': `${s}s`,
    }),
  serverError: (status) =>
    status === 503
      ? error(503, 'The server is overloaded or not ready yet.', 'server_error', 'server_is_overloaded')
      : error(status, 'The server had an error while processing your request. Sorry about that!', 'server_error', null),
  /** Cycles through the unusable completions: not JSON, cut off, refused, no content. */
  schemaMismatch: (ctx) => {
    switch (ctx.callIndex % 4) {
      case 0:
        return completion(ctx, 'Sure! Here are the facts you asked for.', 100);
      case 1:
        return completion(ctx, '{"name": "Acme", "descr', 100, { finish_reason: 'length' });
      case 2:
        return completion(ctx, null, 100, { refusal: "I'm sorry, I can't help with that." });
      default:
        return reply(200, { id: 'chatcmpl-sim', object: 'chat.completion', choices: [] });
    }
  },
};
