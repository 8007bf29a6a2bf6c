import { z } from 'zod';
import type { Config } from '../config/index.js';
import { VendorError } from '../domain/errors.js';
import type { ExtractionResult, ExtractorPort } from '../domain/ports.js';
import { systemClock } from './clock.js';
import { isRecord, requireKey, type HttpAdapterDeps } from './http/deps.js';
import { expectJson, tryParseJson, type RefineResponse } from './http/request.js';
import { failBadResponse, validateBody } from './http/validate.js';
import { FactsSchema, SYSTEM_PROMPT, estimateCostUsd, userPrompt } from './openaiFacts.js';

/** Chat Completions 200 body (fields we read). */
const CompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullable(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }),
});

/** The documented plan and credit codes of a 429 (`error.type` or `error.code`). */
const QUOTA_CODES = new Set([
  'insufficient_quota',
  'credit_balance_exhausted',
  'organization_spend_limit_exceeded',
  'project_spend_limit_exceeded',
  'organization_usage_limit_exceeded',
  'billing_hard_limit_reached',
  'billing_not_active',
]);

/**
 * Billing and quota codes beyond the documented list (`billing_*`, `*_quota_*`): OpenAI adds
 * codes over time, and a 429 that names billing or quota is never cured by waiting.
 */
const QUOTA_PATTERN = /quota|billing/i;

const isQuotaCode = (value: string | null): value is string => value !== null && (QUOTA_CODES.has(value) || QUOTA_PATTERN.test(value));

/** `{"error": {type, code}}` of an OpenAI error body; the message is never kept (it may echo a masked key). */
function errorCode(json: unknown): { type: string | null; code: string | null } {
  const error = isRecord(json) && isRecord(json.error) ? json.error : {};
  return { type: typeof error.type === 'string' ? error.type : null, code: typeof error.code === 'string' ? error.code : null };
}

/** The code as the error's detail when it is a plain identifier, so no vendor text rides along. */
const detailOf = (value: string): string => (/^[\w.-]{1,64}$/.test(value) ? value : 'insufficient_quota');

/** A 429 whose body says the plan, credits or billing are used up is quota, not a rate limit (never retried). */
const refineOpenAi: RefineResponse = (res, json) => {
  if (res.status !== 429) return undefined;
  const { type, code } = errorCode(json);
  if (!isQuotaCode(type) && !isQuotaCode(code)) return undefined;
  return new VendorError({ vendor: 'openai', kind: 'quota_exhausted', status: 429, detail: detailOf(code ?? type ?? 'insufficient_quota') });
};

/**
 * OpenAI extraction (ExtractorPort): `POST {OPENAI_BASE_URL}/chat/completions` with
 * `Authorization: Bearer <key>`, `response_format: {type: "json_object"}`, temperature 0, a system
 * message asking for a JSON object of CompanyFacts. Token usage is reported; the cost is
 * estimated from a small price table (null for unknown models).
 *
 * @throws Error at construction when OPENAI_API_KEY is empty
 * @throws VendorError (vendor `openai`) from `extract`: 429 whose type or code is
 *   `insufficient_quota`, another documented plan code, or any code naming quota or billing
 *   (e.g. `billing_not_active`) → `quota_exhausted`; other 429 → `rate_limited`; 401/403 →
 *   `auth`; 5xx → `server`; finish_reason `length`/`content_filter`, a refusal, null content, content that is
 *   not a JSON object of facts → `bad_response`
 */
export function createOpenAiClient(config: Pick<Config, 'vendors'>, deps: HttpAdapterDeps = {}): ExtractorPort {
  const { baseUrl, model } = config.vendors.openai;
  const key = requireKey(config.vendors.openai.apiKey, 'OPENAI_API_KEY');
  const clock = deps.clock ?? systemClock;
  return {
    async extract(input, signal): Promise<ExtractionResult> {
      const body = await expectJson(
        'openai',
        {
          method: 'POST',
          url: `${baseUrl}/chat/completions`,
          headers: { authorization: `Bearer ${key}` },
          json: {
            model,
            temperature: 0,
            response_format: { type: 'json_object' },
            messages: [
              { role: 'system', content: SYSTEM_PROMPT },
              { role: 'user', content: userPrompt({ name: input.company.name, domain: input.company.domain, text: input.text }) },
            ],
          },
          signal,
          dispatcher: deps.dispatcher,
          maxBytes: deps.maxBytes,
        },
        { now: clock.now, refine: refineOpenAi },
      );
      const completion = validateBody('openai', CompletionSchema, body);
      const choice = completion.choices[0]!;
      if (choice.finish_reason === 'length') failBadResponse('openai', 'finish_reason length');
      if (choice.finish_reason === 'content_filter') failBadResponse('openai', 'finish_reason content_filter');
      if (choice.message.refusal) failBadResponse('openai', 'refusal');
      if (choice.message.content === null) failBadResponse('openai', 'null content');
      const content = tryParseJson(choice.message.content);
      if (!isRecord(content)) failBadResponse('openai', 'content is not a JSON object');
      const facts = validateBody('openai', FactsSchema, content);
      const usage = {
        promptTokens: completion.usage.prompt_tokens,
        completionTokens: completion.usage.completion_tokens,
        totalTokens: completion.usage.total_tokens,
      };
      return { facts, usage, costUsd: estimateCostUsd(completion.model ?? model, usage.promptTokens, usage.completionTokens) };
    },
  };
}
