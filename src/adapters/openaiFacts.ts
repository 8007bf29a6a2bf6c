import { z } from 'zod';
import type { CompanyFacts } from '../domain/company.js';

/**
 * The company-facts JSON object the extraction prompt asks OpenAI for, and its validation.
 * Models drift in small ways (an integer as "250", an empty string for "unknown"), so the schema
 * normalises those; a field of any other wrong type is dropped (null), and only an answer that is
 * not a JSON object is a `bad_response`.
 */

/** The keys the model is asked for, in prompt order (CompanyFacts). */
export const FACT_KEYS = [
  'name',
  'description',
  'industry',
  'employeeCount',
  'country',
  'city',
  'foundedYear',
  'website',
  'phone',
  'linkedinUrl',
] as const;

const text = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null || v.trim() === '' ? null : v.trim()));

const integer = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\s*\d[\d,]*\s*$/), z.literal(''), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null || v === '' ? null : typeof v === 'number' ? v : Number(v.replace(/[\s,]/g, ''))));

/**
 * One field that drifted past what the schema normalises (`"51-200"` for a count, a number for a
 * phone) loses that field alone: the rest of a paid answer is kept.
 */
const lenientText = text.catch(null);
const lenientInteger = integer.catch(null);

/**
 * Validates and normalises the model's JSON object into CompanyFacts. Unknown keys are dropped; a
 * field of the wrong type becomes null; an answer that is not a JSON object is a `bad_response`.
 */
export const FactsSchema = z.object({
  name: lenientText,
  description: lenientText,
  industry: lenientText,
  employeeCount: lenientInteger,
  country: lenientText,
  city: lenientText,
  foundedYear: lenientInteger,
  website: lenientText,
  phone: lenientText,
  linkedinUrl: lenientText,
}) satisfies z.ZodType<CompanyFacts>;

/** The system message: states the JSON object wanted (JSON mode requires the word JSON). */
export const SYSTEM_PROMPT = [
  'You extract facts about one company from text gathered from its website and web search.',
  'Reply with a single JSON object and nothing else, with exactly these keys:',
  'name (string), description (string, one or two sentences), industry (string),',
  'employeeCount (integer), country (string), city (string), foundedYear (integer),',
  'website (string URL), phone (string), linkedinUrl (string URL of the company LinkedIn page).',
  'Use null for any value the text does not state. Do not guess.',
].join(' ');

/** Longest gathered text sent, in characters (keeps the prompt and its cost bounded). */
export const MAX_TEXT_CHARS = 12_000;

/** The user message for one company. */
export function userPrompt(input: { name: string | null; domain: string | null; text: string }): string {
  return [
    `Company name: ${input.name ?? 'unknown'}`,
    `Domain: ${input.domain ?? 'unknown'}`,
    '',
    'Text:',
    input.text.slice(0, MAX_TEXT_CHARS),
  ].join('\n');
}

/** USD per million tokens (input, output), from OpenAI's public price list; dated snapshots share the base price. */
const PRICES: Record<string, { input: number; output: number }> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5': { input: 1.25, output: 10 },
};

/**
 * Estimated cost of one call in USD, or null for a model not in the price table.
 *
 * @param model e.g. `gpt-4o-mini` or a dated snapshot `gpt-4o-mini-2024-07-18`
 */
export function estimateCostUsd(model: string, promptTokens: number, completionTokens: number): number | null {
  const base = model.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  const price = PRICES[base];
  if (!price) return null;
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
