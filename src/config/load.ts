import type { Config } from './config.js';
import { ENV_NAME, VARIABLES, isConfigVariable, type VariableSpec } from './variables.js';

/** One bad variable: its name, the value given (masked when secret) and what is expected. */
export interface ConfigProblem {
  variable: string;
  value: string;
  expected: string;
}

const CONFIG_ERROR_BRAND = Symbol.for('lead-enrich.ConfigError');

/** Every problem in the environment at once. The CLI maps it to exit code 2. */
export class ConfigError extends Error {
  readonly [CONFIG_ERROR_BRAND] = true;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}=${JSON.stringify(p.value)}: expected ${p.expected}`);
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function isConfigError(value: unknown): value is ConfigError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONFIG_ERROR_BRAND] === true;
}

/** Masks a secret for display: keeps nothing of it but whether it is set. */
export function maskSecret(value: string | null | undefined): string {
  return value ? '********' : '';
}

/** Query parameter names that carry a credential (`api_key`, `token`, `password`, `sig`…). */
const SECRET_PARAM = /key|token|secret|pass|pwd|auth|sig|credential/i;

/** Masks the password (and any key-like query parameter) inside a URL; an unparseable value entirely. */
export function maskUrl(value: string | null): string {
  if (!value) return '';
  try {
    const url = new URL(value);
    if (url.password) url.password = '********';
    for (const key of [...url.searchParams.keys()]) {
      if (SECRET_PARAM.test(key)) url.searchParams.set(key, '********');
    }
    return url.toString();
  } catch {
    return '********';
  }
}

/**
 * A URL-valued variable as `lead-enrich config` and ConfigError show it: as written when there is
 * nothing to mask, else {@link maskUrl}'s form. A value that does not parse (an invalid value being
 * reported, which must stay recognisable) keeps its text with any `user:password@` and key-like
 * query values masked.
 */
function displayUrl(raw: string): string {
  const value = raw.trim();
  if (URL.canParse(value)) {
    const masked = maskUrl(value);
    return masked === new URL(value).toString() ? value : masked;
  }
  return value
    .replace(/(\/\/[^/?#@]*?:)[^/?#@]*@/, '$1********@')
    .replace(/([?&][^=&#]*=)([^&#]*)/g, (whole, name: string) => (SECRET_PARAM.test(name) ? `${name}********` : whole));
}

function display(spec: VariableSpec, raw: string): string {
  if (spec.secret && !spec.url) return maskSecret(raw);
  if (spec.secret) return maskUrl(raw.trim()); // DATABASE_URL: nothing of an unparseable value is shown
  return spec.url ? displayUrl(raw) : raw;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates every variable of DESIGN.md's table and builds the typed {@link Config}.
 * The only reader of `process.env` in the program.
 *
 * @param env the environment to read; defaults to `process.env`
 * @throws ConfigError listing every bad variable, its value and what is expected
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: ConfigProblem[] = [];
  const values = new Map<string, unknown>();
  for (const spec of VARIABLES) {
    const given = env[spec.name];
    const raw = given === undefined ? (spec.default ?? '') : given;
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) values.set(spec.name, parsed.data);
    else problems.push({ variable: spec.name, value: display(spec, raw), expected: spec.expected });
  }
  const base = values.get('RETRY_BASE_DELAY_MS');
  const max = values.get('RETRY_MAX_DELAY_MS');
  if (typeof base === 'number' && typeof max === 'number' && base > max) {
    problems.push({
      variable: 'RETRY_MAX_DELAY_MS',
      value: String(max),
      expected: `a value >= RETRY_BASE_DELAY_MS (${base})`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const v = <T>(name: string): T => values.get(name) as T;
  const snapshot: Env = { ...env };
  const config: Config = {
    retry: { maxAttempts: v('RETRY_MAX_ATTEMPTS'), baseDelayMs: v('RETRY_BASE_DELAY_MS'), maxDelayMs: v('RETRY_MAX_DELAY_MS') },
    breaker: {
      errorThreshold: v('CB_ERROR_THRESHOLD'),
      coolOffS: v('CB_COOL_OFF_S'),
      exemptVendors: [...new Set(v<Config['breaker']['exemptVendors']>('CB_GLOBAL_EXEMPT_VENDORS'))],
    },
    quotas: {
      rates: v('VENDOR_RATE_LIMITS'),
      concurrency: v('VENDOR_CONCURRENCY'),
      retryBudget:
        v<number | null>('RETRY_BUDGET_PERCENT') === null ? null : { percent: v('RETRY_BUDGET_PERCENT'), minPerS: v('RETRY_BUDGET_MIN_PER_S'), windowS: 10 },
      prices: v('VENDOR_PRICES'),
      runBudgetUsd: v('RUN_BUDGET_USD'),
      answerTtlDays: v('VENDOR_ANSWER_TTL_DAYS'),
    },
    features: {
      tavilyFallback: v('ENABLE_TAVILY_FALLBACK'),
      apifyLinkedin: v('ENABLE_APIFY_LINKEDIN'),
      lushaFallback: v('ENABLE_LUSHA_FALLBACK'),
      odooSetDefaults: v('ODOO_EXPORT_SET_DEFAULTS'),
    },
    database: { url: v('DATABASE_URL'), dataDir: v('LEAD_ENRICH_DATA_DIR') },
    vendors: {
      tavily: { apiKey: v('TAVILY_API_KEY'), baseUrl: v('TAVILY_BASE_URL') },
      openai: { apiKey: v('OPENAI_API_KEY'), baseUrl: v('OPENAI_BASE_URL'), model: v('OPENAI_MODEL') },
      zerobounce: { apiKey: v('ZEROBOUNCE_API_KEY'), baseUrl: v('ZEROBOUNCE_BASE_URL') },
      lusha: { apiKey: v('LUSHA_API_KEY'), baseUrl: v('LUSHA_BASE_URL') },
      apify: { apiKey: v('APIFY_TOKEN'), baseUrl: v('APIFY_BASE_URL'), linkedinActor: v('APIFY_LINKEDIN_ACTOR'), timeoutMs: v('APIFY_TIMEOUT_MS') },
    },
    odoo: {
      url: v('ODOO_URL'),
      db: v('ODOO_DB'),
      username: v('ODOO_USERNAME'),
      password: v('ODOO_PASSWORD'),
      stripFields: v('ODOO_STRIP_FIELDS'),
      maxResponseBytes: v('ODOO_MAX_RESPONSE_BYTES'),
      keyEnvPrefix: v('ODOO_KEY_ENV_PREFIX'),
    },
    crawl: {
      urlTemplate: v('CRAWL_URL_TEMPLATE'),
      minChars: v('CRAWL_MIN_CHARS'),
      allowPrivateNetworks: v('CRAWL_ALLOW_PRIVATE_NETWORKS'),
      timeoutMs: v('CRAWL_TIMEOUT_MS'),
    },
    vendorTimeoutMs: v('VENDOR_TIMEOUT_MS'),
    runConcurrency: v('RUN_CONCURRENCY'),
    companyDeadlineMs: v('COMPANY_DEADLINE_MS'),
    shutdownGraceMs: v('SHUTDOWN_GRACE_MS'),
    fleet: { pollMs: v('FLEET_POLL_MS'), exportChunk: v('FLEET_EXPORT_CHUNK'), maintenanceS: v('FLEET_MAINTENANCE_S') },
    sink: { batchSize: v('SINK_BATCH_SIZE'), flushMs: v('SINK_FLUSH_MS'), maxBuffer: v('SINK_MAX_BUFFER') },
    serve: { token: v('SERVE_TOKEN') },
    logLevel: v('LOG_LEVEL'),
    secret: () => null,
    keyVariableProblem: () => null,
  };
  // Only a tenant key's own variable: never one of the table's (keys, DATABASE_URL…), nor any
  // other of the process's secrets (AWS_*, PG*…): only names with the configured prefix.
  const keyVariableProblem = (name: string): string | null => {
    if (!ENV_NAME.test(name)) return 'not a variable name';
    if (isConfigVariable(name)) return `${name} is a configuration variable, never a tenant key`;
    if (!name.startsWith(config.odoo.keyEnvPrefix)) return `names a variable that does not start with ${config.odoo.keyEnvPrefix}, the ODOO_KEY_ENV_PREFIX`;
    return null;
  };
  Object.defineProperty(config, 'keyVariableProblem', { enumerable: false, value: keyVariableProblem });
  Object.defineProperty(config, 'secret', {
    enumerable: false,
    value: (name: string): string | null => {
      if (keyVariableProblem(name) !== null) return null;
      // Trimmed like the key variables of the table: a CRLF .env would otherwise send `key\r`.
      const value = snapshot[name]?.trim();
      return value === undefined || value === '' ? null : value;
    },
  });
  return config;
}

/**
 * The effective configuration as `lead-enrich config` prints it: one line per variable, secrets
 * masked, the source (env or default) shown.
 */
export function describeConfig(env: Env = process.env): { variable: string; value: string; source: 'env' | 'default'; doc: string }[] {
  return VARIABLES.map((spec) => {
    const given = env[spec.name];
    const raw = given === undefined ? (spec.default ?? '') : given;
    return { variable: spec.name, value: display(spec, raw), source: given === undefined ? 'default' : 'env', doc: spec.doc };
  });
}

/**
 * The process environment overlaid with `overrides` (e.g. the demo pointing vendors at its
 * simulators), validated like the environment.
 *
 * @throws ConfigError listing every bad variable
 */
export function loadConfigWith(overrides: Env): Config {
  return loadConfig({ ...process.env, ...overrides });
}

/**
 * A configuration for tests and the library: the defaults overlaid with `overrides`
 * (raw variable values, validated like the environment).
 */
export function configFrom(overrides: Env = {}): Config {
  return loadConfig(overrides);
}
