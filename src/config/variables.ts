import { z } from 'zod';
import { DEFAULT_ANSWER_TTL_DAYS, parseAnswerTtlDays } from '../domain/answers.js';
import { DEFAULT_VENDOR_PRICES, parseVendorPrices } from '../domain/prices.js';
import { DEFAULT_VENDOR_CONCURRENCY, DEFAULT_VENDOR_RATE_LIMITS, parseVendorConcurrency, parseVendorRates } from '../domain/quotas.js';

/**
 * The environment variables of DESIGN.md "Configuration", each with its default, its schema and
 * what it means. This table is the single source for validation, `lead-enrich config` and the README.
 */
export interface VariableSpec {
  name: string;
  /** The raw default, as it would be written in the environment; undefined means unset. */
  default: string | undefined;
  schema: z.ZodType<unknown>;
  /** What a valid value looks like, used in error messages. */
  expected: string;
  doc: string;
  secret?: boolean;
  /** A URL (or URL template): shown with its password and key-like query parameters masked. */
  url?: boolean;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'not an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/**
 * The longest delay Node's timers accept: 2^31 - 1 ms (about 24.8 days). A longer one is not an
 * error to setTimeout: it warns (TimeoutOverflowWarning) and fires after 1 ms instead.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Milliseconds that end up in a timer (setTimeout, a scheduler, an XState `after`). */
const ms = (min: number) => int(min, MAX_TIMER_MS);
const msExpected = (min: number, extra = '') =>
  `an integer ${min === 0 ? '>= 0' : '> 0'} (milliseconds)${extra}, at most ${MAX_TIMER_MS} (Node's timer limit, about 24.8 days)`;

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0'].includes(v), 'not a boolean')
  .transform((v) => v === 'true' || v === '1');

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'not an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

// Keys, secrets and URLs are trimmed: their surrounding whitespace cannot be meaningful, and a
// CRLF .env leaves a `\r` that undici refuses in a header (an error that looked like an outage).
const optionalUrl = z.string().trim().pipe(z.union([z.literal('').transform(() => null), httpUrl]));

const pgUrl = z
  .string()
  .trim()
  .pipe(
    z.union([
      z.literal('').transform(() => null),
      z.string().refine((v) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v), 'not a postgres:// URL'),
    ]),
  );

/** Text whose surrounding whitespace is not part of it (keys, tokens, names); empty means unset. */
const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? null : v));
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const vendorList = csv.pipe(
  z.array(z.enum(['tavily', 'openai', 'zerobounce', 'lusha', 'apify_linkedin', 'odoo'])),
);

/**
 * CRAWL_URL_TEMPLATE: at least one `{domain}` (none would crawl one page for every company; more
 * than one is filled in everywhere, e.g. `http://{domain}:8080/sites/{domain}/` for a host-routed
 * mirror), and an http(s) URL once it is filled in, as the crawler fills it — the crawler fetches
 * nothing else, so `ftp://` or `file:` would pass here and then fail every company's crawl.
 */
const crawlTemplate = z
  .string()
  .trim()
  .refine((v) => v.includes('{domain}'), 'must contain {domain}')
  .refine((v) => {
    const filled = v.replaceAll('{domain}', 'example.com');
    if (!URL.canParse(filled)) return false;
    const { protocol } = new URL(filled);
    return protocol === 'http:' || protocol === 'https:';
  }, 'not an http(s) URL once {domain} is filled in');

/** The start of an environment variable name (what ODOO_KEY_ENV_PREFIX must be). */
const keyEnvPrefix = z.string().trim().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not the start of a variable name');

/** A `vendor=…` list parsed by one of src/domain/quotas.ts's parsers (which say what is wrong). */
const vendorMap = <T>(parse: (text: string) => T | string) =>
  z.string().transform((v, ctx) => {
    const out = parse(v);
    if (typeof out === 'string') {
      ctx.addIssue({ code: 'custom', message: out });
      return z.NEVER;
    }
    return out;
  });

/** An optional integer percentage: empty means none. */
const optionalPercent = z
  .string()
  .trim()
  .pipe(z.union([z.literal('').transform(() => null), int(0, 100)]));

/** A decimal number >= 0 (e.g. retries a second). */
const decimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'not a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** An optional decimal number >= 0: empty means none. */
const optionalDecimal = z
  .string()
  .trim()
  .pipe(z.union([z.literal('').transform(() => null), decimal(0, 1_000_000_000)]));

export const VARIABLES: readonly VariableSpec[] = [
  { name: 'RETRY_MAX_ATTEMPTS', default: '3', schema: int(1, 20), expected: 'an integer from 1 to 20', doc: 'Attempts per guarded call, the first included.' },
  { name: 'RETRY_BASE_DELAY_MS', default: '250', schema: ms(0), expected: msExpected(0), doc: 'First backoff delay, in milliseconds.' },
  { name: 'RETRY_MAX_DELAY_MS', default: '4000', schema: ms(0), expected: msExpected(0, ', not below RETRY_BASE_DELAY_MS'), doc: 'Cap on any single delay, jitter included, in milliseconds; a longer Retry-After ends the retries of a 429 and is cut to this cap on a 5xx.' },
  { name: 'RETRY_BUDGET_PERCENT', default: '20', schema: optionalPercent, expected: 'an integer from 0 to 100, or empty', doc: 'Retry budget per (tenant, vendor): retries may add at most this percentage of the calls of the last 10 s (plus RETRY_BUDGET_MIN_PER_S a second); a retry it refuses is not made. Empty: retries are not budgeted.' },
  { name: 'RETRY_BUDGET_MIN_PER_S', default: '10', schema: decimal(0, 100000), expected: 'a number from 0 to 100000', doc: 'Retries a second per (tenant, vendor) the retry budget always allows, whatever the calls (Finagle\'s minRetriesPerSec).' },
  { name: 'VENDOR_RATE_LIMITS', default: DEFAULT_VENDOR_RATE_LIMITS, schema: vendorMap(parseVendorRates), expected: 'vendor=N/s or vendor=N/min, comma separated (vendors: tavily, openai, zerobounce, lusha, apify_linkedin, odoo)', doc: 'Requests per vendor for the whole fleet (PostgreSQL when several processes work, memory when one does); a call waits for its turn within its deadline. Defaults, smallest documented paid plan (docs/VENDOR_APIS.md): Tavily 100 RPM (development key; production keys 1,000 RPM, docs.tavily.com/documentation/rate-limits), OpenAI 500 RPM (usage tier 1; the account\'s Limits page has the real number), ZeroBounce 80,000 per 10 s on /v2/validate (zerobounce.net/docs/api-dashboard), Lusha 40/min (Free and Starter plans, docs.lusha.com), Apify 30/s per resource (apify-docs openapi.yaml). Empty: no vendor is limited.' },
  { name: 'VENDOR_CONCURRENCY', default: DEFAULT_VENDOR_CONCURRENCY, schema: vendorMap(parseVendorConcurrency), expected: 'vendor=N, comma separated, N from 1 to 4096', doc: 'Calls of a vendor at once per process (a bulkhead): a slow vendor cannot hold every company slot, and an outage\'s first wave is at most (CB_ERROR_THRESHOLD + N - 1) x RETRY_MAX_ATTEMPTS requests. Default apify_linkedin=8 (about 8 actor runs fit the smallest paid plan\'s memory). Empty: no bound but RUN_CONCURRENCY.' },
  { name: 'VENDOR_PRICES', default: DEFAULT_VENDOR_PRICES, schema: vendorMap(parseVendorPrices), expected: 'vendor=USD/unit, comma separated, unit one of call, credit, result, 1k_tokens', doc: "USD per call, credit, result or 1,000 tokens of each paid vendor: every successful call's cost_usd in run_vendor_usage, from what the vendor reports it charged where it does (Lusha's billing.creditsCharged, Tavily's usage.credits, OpenAI's tokens), else the documented rule (a basic Tavily search is 1 credit, a ZeroBounce `unknown` is free, an actor bills per result). Defaults (list prices as assumed on 2026-12-04; set your contract's): Tavily 0.008/credit (pay-as-you-go, tavily.com/pricing), ZeroBounce 0.008/credit (smallest pack, zerobounce.net/email-validation-pricing), Lusha 0.1/credit (an estimate for the smaller plans), Apify LinkedIn 0.008/result (HarvestAPI Full mode, $8 per 1,000, docs/VENDOR_APIS.md). OpenAI without an entry: the model's list price per token." },
  { name: 'RUN_BUDGET_USD', default: '', schema: optionalDecimal, expected: 'empty or a number of USD >= 0', doc: "Caps a run's spend on vendor calls (the run's, shared by every worker): once spent, paid steps are skipped with BUDGET_EXHAUSTED:<vendor>, free ones (the crawl, the deterministic extraction) still run and the run completes. Kept with the run when it starts. Empty: no cap." },
  { name: 'VENDOR_ANSWER_TTL_DAYS', default: DEFAULT_ANSWER_TTL_DAYS, schema: vendorMap(parseAnswerTtlDays), expected: 'vendor=days, comma separated (days 0 to 3650; 0 alone turns reuse off)', doc: "Days a paid answer (per tenant, keyed by vendor, endpoint and the normalised query) is reused instead of bought again, across runs and workers; the provenance of what it supplied says `storedAnswer.fetchedAt`. Defaults: search results a week (tavily=7), a site's facts a month (openai=30), people a month (apify_linkedin=30, lusha=30: people change jobs), an address's verification a month (zerobounce=30). A vendor not listed, or 0: never reused." },
  { name: 'CB_ERROR_THRESHOLD', default: '3', schema: int(1), expected: 'an integer >= 1', doc: 'Consecutive failed guarded calls that open a (tenant, vendor) breaker.' },
  { name: 'CB_COOL_OFF_S', default: '300', schema: int(0), expected: 'an integer >= 0 (seconds)', doc: 'Seconds a breaker stays open before one probe is let through.' },
  { name: 'CB_GLOBAL_EXEMPT_VENDORS', default: '', schema: vendorList, expected: 'a comma-separated list of tavily, openai, zerobounce, lusha, apify_linkedin, odoo', doc: 'Vendors that are never short-circuited.' },
  { name: 'ENABLE_TAVILY_FALLBACK', default: 'true', schema: bool, expected: 'true, false, 1 or 0', doc: 'Search Tavily when the crawl is thin or failed.' },
  { name: 'ENABLE_APIFY_LINKEDIN', default: 'true', schema: bool, expected: 'true, false, 1 or 0', doc: 'Apify LinkedIn is the first contact source.' },
  { name: 'ENABLE_LUSHA_FALLBACK', default: 'false', schema: bool, expected: 'true, false, 1 or 0', doc: 'Lusha is tried when Apify fails or is open (always the source when Apify is off).' },
  { name: 'ODOO_EXPORT_SET_DEFAULTS', default: 'true', schema: bool, expected: 'true, false, 1 or 0', doc: "Fill Odoo's required fields with defaults on export." },
  { name: 'DATABASE_URL', default: '', schema: pgUrl, expected: 'empty or a postgres:// URL', doc: 'PostgreSQL; empty means the embedded PostgreSQL under LEAD_ENRICH_DATA_DIR.', secret: true, url: true },
  { name: 'LEAD_ENRICH_DATA_DIR', default: './.lead-enrich', schema: z.string().trim().min(1), expected: 'a directory path', doc: 'Embedded database and local files: `pg` (the cluster), `pg.password`, `pg.log`, `lead-enrich.log`. As root, when the postgres user cannot enter it, `pg` links to /var/tmp/lead-enrich-postgres/<key>/pg.' },
  { name: 'TAVILY_API_KEY', default: '', schema: optionalText, expected: 'a key or empty', doc: 'Tavily key; empty turns the search fallback off.', secret: true },
  { name: 'TAVILY_BASE_URL', default: 'https://api.tavily.com', schema: httpUrl, expected: 'an http(s) URL', doc: 'Tavily API base.', url: true },
  { name: 'OPENAI_API_KEY', default: '', schema: optionalText, expected: 'a key or empty', doc: 'OpenAI key; empty means the deterministic extraction is used.', secret: true },
  { name: 'OPENAI_BASE_URL', default: 'https://api.openai.com/v1', schema: httpUrl, expected: 'an http(s) URL', doc: 'OpenAI API base.', url: true },
  { name: 'OPENAI_MODEL', default: 'gpt-4o-mini', schema: z.string().trim().min(1), expected: 'a model name', doc: 'Chat model used for extraction.' },
  { name: 'ZEROBOUNCE_API_KEY', default: '', schema: optionalText, expected: 'a key or empty', doc: 'ZeroBounce key; empty leaves emails unverified.', secret: true },
  { name: 'ZEROBOUNCE_BASE_URL', default: 'https://api.zerobounce.net/v2', schema: httpUrl, expected: 'an http(s) URL', doc: 'ZeroBounce API base (including /v2).', url: true },
  { name: 'LUSHA_API_KEY', default: '', schema: optionalText, expected: 'a key or empty', doc: 'Lusha key; empty turns Lusha off.', secret: true },
  { name: 'LUSHA_BASE_URL', default: 'https://api.lusha.com', schema: httpUrl, expected: 'an http(s) URL', doc: 'Lusha API base.', url: true },
  { name: 'APIFY_TOKEN', default: '', schema: optionalText, expected: 'a token or empty', doc: 'Apify token; empty turns Apify LinkedIn off.', secret: true },
  { name: 'APIFY_BASE_URL', default: 'https://api.apify.com/v2', schema: httpUrl, expected: 'an http(s) URL', doc: 'Apify API base (including /v2).', url: true },
  { name: 'APIFY_LINKEDIN_ACTOR', default: 'harvestapi~linkedin-company-employees', schema: z.string().trim().regex(/^[A-Za-z0-9._-]*~?[A-Za-z0-9._-]+$/, 'not an actor id'), expected: 'an actor id or username~actor-name', doc: 'Apify actor run for LinkedIn contacts.' },
  { name: 'ODOO_URL', default: '', schema: optionalUrl, expected: 'empty or an http(s) URL', doc: 'Default Odoo target; empty skips the export unless a tenant has its own.', url: true },
  { name: 'ODOO_DB', default: '', schema: optionalText, expected: 'a database name', doc: 'Default Odoo database.' },
  { name: 'ODOO_USERNAME', default: '', schema: optionalText, expected: 'a login', doc: 'Default Odoo login.' },
  { name: 'ODOO_PASSWORD', default: '', schema: optionalText, expected: 'a password or API key', doc: 'Default Odoo password or API key.', secret: true },
  { name: 'ODOO_MAX_RESPONSE_BYTES', default: '4194304', schema: int(1024, 268_435_456), expected: 'an integer from 1024 to 268435456 (bytes)', doc: 'Largest Odoo XML-RPC answer read, in bytes (default 4 MiB); a larger one is bad_response, and reading stops there.' },
  { name: 'ODOO_KEY_ENV_PREFIX', default: 'ODOO_KEY_', schema: keyEnvPrefix, expected: 'the start of a variable name: a letter or _, then letters, digits or _', doc: "tenants.odoo_key_env may name only a variable that starts with this (e.g. ODOO_KEY_ACME): a tenant row cannot send another of the process's secrets to its Odoo." },
  { name: 'ODOO_STRIP_FIELDS', default: 'autopost_bills,website', schema: csv, expected: 'a comma-separated list of field names', doc: 'Fields dropped when an Odoo write faults.' },
  { name: 'CRAWL_URL_TEMPLATE', default: 'https://{domain}/', schema: crawlTemplate, expected: 'an http(s) URL containing {domain}, e.g. https://{domain}/', doc: "Where a company's site is fetched from: an http(s) URL containing {domain}.", url: true },
  { name: 'CRAWL_MIN_CHARS', default: '500', schema: int(0), expected: 'an integer >= 0', doc: 'Less visible text than this is a thin crawl.' },
  { name: 'CRAWL_ALLOW_PRIVATE_NETWORKS', default: 'false', schema: bool, expected: 'true, false, 1 or 0', doc: 'Crawl loopback/private/link-local addresses too (cloud metadata services stay refused).' },
  { name: 'VENDOR_TIMEOUT_MS', default: '15000', schema: ms(1), expected: msExpected(1), doc: 'Per-attempt timeout of vendor and Odoo calls, in milliseconds.' },
  { name: 'APIFY_TIMEOUT_MS', default: '90000', schema: ms(5000), expected: msExpected(5000), doc: "Per-attempt timeout of Apify's synchronous actor runs, in milliseconds; the run is asked to stop itself 5 s earlier (at most 290 s). An attempt that times out is not retried: the run may still be going, and billing." },
  { name: 'CRAWL_TIMEOUT_MS', default: '10000', schema: ms(1), expected: msExpected(1), doc: 'Per-attempt timeout of a crawl, in milliseconds.' },
  { name: 'RUN_CONCURRENCY', default: '16', schema: int(1, 4096), expected: 'an integer from 1 to 4096', doc: 'Companies enriched at once.' },
  { name: 'COMPANY_DEADLINE_MS', default: '120000', schema: ms(1), expected: msExpected(1), doc: 'Time one company may take before it ends with what it has.' },
  { name: 'SHUTDOWN_GRACE_MS', default: '30000', schema: ms(0), expected: msExpected(0), doc: 'On SIGINT/SIGTERM, how long in-flight companies may take to finish.' },
  { name: 'FLEET_POLL_MS', default: '500', schema: ms(10), expected: msExpected(10), doc: 'How often a fleet member with nothing to do looks at the work queue again, in milliseconds.' },
  { name: 'FLEET_EXPORT_CHUNK', default: '500', schema: int(1, 10000), expected: 'an integer from 1 to 10000', doc: "Companies exported to Odoo per export job: the next chunk is a job of its own, so a member that dies costs at most one chunk's lease; each chunk waits for the sink to commit its outcomes (up to SINK_FLUSH_MS), so small chunks slow the export." },
  { name: 'FLEET_MAINTENANCE_S', default: '10', schema: int(1, 3600), expected: 'an integer from 1 to 3600 (seconds)', doc: "How often the work queue hands back the jobs of members that died (leases past COMPANY_DEADLINE_MS + SHUTDOWN_GRACE_MS + a margin), in seconds." },
  { name: 'SINK_BATCH_SIZE', default: '200', schema: int(1, 10000), expected: 'an integer from 1 to 10000', doc: 'Events written per database statement batch.' },
  { name: 'SINK_FLUSH_MS', default: '250', schema: ms(1), expected: msExpected(1), doc: 'Longest an event waits in the sink before it is written.' },
  { name: 'SINK_MAX_BUFFER', default: '10000', schema: int(1), expected: 'an integer >= 1', doc: 'Events the sink holds before producers wait.' },
  { name: 'SERVE_TOKEN', default: '', schema: optionalText, expected: 'a token or empty', doc: '`lead-enrich serve`: the token every request must carry (`Authorization: Bearer`, or `?token=` once, which sets a cookie); required when `--host` is not a loopback address. Empty: no token (loopback only).', secret: true },
  { name: 'LOG_LEVEL', default: 'info', schema: logLevel, expected: 'fatal, error, warn, info, debug, trace or silent', doc: 'pino log level.' },
];

const CONFIG_NAMES: ReadonlySet<string> = new Set(VARIABLES.map((v) => v.name));

/** What an environment variable name looks like (and what `tenants.odoo_key_env` is checked against). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether `name` is one of the configuration's own variables (case-insensitively: Windows
 * environments are). Such a variable is never a tenant's key: `config.secret` refuses it, so a
 * tenants row cannot send OPENAI_API_KEY or DATABASE_URL to its Odoo as a password, even when it
 * starts with ODOO_KEY_ENV_PREFIX (ODOO_KEY_ENV_PREFIX itself does).
 */
export function isConfigVariable(name: string): boolean {
  return CONFIG_NAMES.has(name.toUpperCase());
}
