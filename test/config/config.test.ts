import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, isConfigError, loadConfig } from '../../src/config/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function problemsOf(env: Record<string, string>): ConfigError['problems'] {
  try {
    loadConfig(env);
  } catch (error) {
    if (isConfigError(error)) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the DESIGN.md defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.retry).toEqual({ maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 4000 });
    expect(c.breaker).toEqual({ errorThreshold: 3, coolOffS: 300, exemptVendors: [] });
    expect(c.features).toEqual({ tavilyFallback: true, apifyLinkedin: true, lushaFallback: false, odooSetDefaults: true });
    expect(c.vendorTimeoutMs).toBe(15000);
    expect(c.crawl.timeoutMs).toBe(10000);
    expect(c.odoo.stripFields).toEqual(['autopost_bills', 'website']);
    expect(c.odoo.maxResponseBytes).toBe(4 * 1024 * 1024);
    expect(c.database.url).toBeNull();
  });

  it.each([
    ['RETRY_MAX_ATTEMPTS', 'abc', /integer/],
    ['RETRY_MAX_ATTEMPTS', '0', /integer from 1/],
    ['RETRY_BASE_DELAY_MS', '-1', />= 0/],
    ['CB_ERROR_THRESHOLD', '0', />= 1/],
    ['CB_COOL_OFF_S', '1.5', /integer/],
    ['VENDOR_TIMEOUT_MS', '0', /> 0/],
    ['CRAWL_TIMEOUT_MS', 'soon', /> 0/],
    ['ENABLE_TAVILY_FALLBACK', 'yes', /true, false, 1 or 0/],
    ['CB_GLOBAL_EXEMPT_VENDORS', 'openai,acme', /comma-separated/],
    ['TAVILY_BASE_URL', 'ftp://x', /http\(s\) URL/],
    ['DATABASE_URL', 'mysql://u:p@h/db', /postgres:\/\//],
    ['LOG_LEVEL', 'loud', /info/],
    ['ODOO_MAX_RESPONSE_BYTES', '4MB', /integer from 1024 to 268435456 \(bytes\)/],
    ['ODOO_MAX_RESPONSE_BYTES', '0', /from 1024/],
  ])('names %s=%s with what is expected', (variable, value, expected) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe(variable);
    expect(problems[0]!.expected).toMatch(expected);
    const message = new ConfigError(problems).message;
    expect(message).toContain(variable);
    if (variable !== 'DATABASE_URL') expect(message).toContain(JSON.stringify(value));
  });

  // Node fires a timer longer than 2^31 - 1 ms after 1 ms: COMPANY_DEADLINE_MS=3000000000 would end every company at once.
  it.each(['RETRY_BASE_DELAY_MS', 'RETRY_MAX_DELAY_MS', 'VENDOR_TIMEOUT_MS', 'CRAWL_TIMEOUT_MS', 'COMPANY_DEADLINE_MS', 'SHUTDOWN_GRACE_MS', 'SINK_FLUSH_MS'])(
    'bounds the timer value %s at 2147483647 ms',
    (variable) => {
      const env: Record<string, string> = variable === 'RETRY_BASE_DELAY_MS' ? { RETRY_MAX_DELAY_MS: '2147483647' } : {};
      const [p, ...others] = problemsOf({ ...env, [variable]: '3000000000' });
      expect(others).toEqual([]);
      expect(p).toMatchObject({ variable, value: '3000000000' });
      expect(p!.expected).toMatch(/milliseconds.*at most 2147483647/);
      expect(new ConfigError([p!]).message).toContain(`${variable}="3000000000": expected`);
      expect(problemsOf({ ...env, [variable]: '2147483648' })).toHaveLength(1);
      expect(() => loadConfig({ ...env, RETRY_MAX_DELAY_MS: '2147483647', [variable]: '2147483647' })).not.toThrow();
    },
  );

  it.each([
    ['ftp://{domain}/', 'a scheme the crawler does not fetch'],
    ['file:///srv/{domain}.html', 'a local file'],
    ['https://example.com/', 'no {domain}'],
    ['https://{domain}:99999/', 'not a URL once filled in'],
    ['{domain}', 'no scheme'],
  ])('refuses CRAWL_URL_TEMPLATE=%j (%s), naming the variable, its value and what is expected', (value) => {
    const problems = problemsOf({ CRAWL_URL_TEMPLATE: value });
    expect(problems).toEqual([{ variable: 'CRAWL_URL_TEMPLATE', value, expected: expect.stringMatching(/http\(s\) URL containing \{domain\}/) }]);
    expect(new ConfigError(problems).message).toContain(`CRAWL_URL_TEMPLATE=${JSON.stringify(value)}: expected an http(s) URL`);
  });

  it.each(['https://{domain}/', 'http://127.0.0.1:8080/sites/{domain}/', 'https://crawler:pw@{domain}/', 'https://proxy.example/fetch?site={domain}', 'http://{domain}:8080/sites/{domain}/'])(
    'accepts CRAWL_URL_TEMPLATE=%j',
    (value) => {
      expect(loadConfig({ CRAWL_URL_TEMPLATE: value }).crawl.urlTemplate).toBe(value);
    },
  );

  it('reports every problem at once', () => {
    const problems = problemsOf({ RETRY_MAX_ATTEMPTS: 'abc', CB_ERROR_THRESHOLD: '0', ENABLE_APIFY_LINKEDIN: 'maybe', ODOO_URL: 'not a url' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['CB_ERROR_THRESHOLD', 'ENABLE_APIFY_LINKEDIN', 'ODOO_URL', 'RETRY_MAX_ATTEMPTS']);
  });

  it('requires RETRY_BASE_DELAY_MS <= RETRY_MAX_DELAY_MS', () => {
    const [p] = problemsOf({ RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '4000' });
    expect(p).toMatchObject({ variable: 'RETRY_MAX_DELAY_MS', value: '4000' });
    expect(p!.expected).toContain('5000');
    expect(loadConfig({ RETRY_BASE_DELAY_MS: '4000', RETRY_MAX_DELAY_MS: '4000' }).retry.baseDelayMs).toBe(4000);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads the boolean %s as %s', (raw, value) => {
    expect(loadConfig({ ENABLE_LUSHA_FALLBACK: raw }).features.lushaFallback).toBe(value);
  });

  it('reads CSV lists, trimmed, without empties or duplicates', () => {
    expect(loadConfig({ CB_GLOBAL_EXEMPT_VENDORS: ' openai, ,lusha,openai ' }).breaker.exemptVendors).toEqual(['openai', 'lusha']);
    expect(loadConfig({ ODOO_STRIP_FIELDS: 'a, b,,c' }).odoo.stripFields).toEqual(['a', 'b', 'c']);
  });

  it('normalises URLs (no trailing slash) and accepts an empty optional URL', () => {
    const c = loadConfig({ TAVILY_BASE_URL: 'http://127.0.0.1:9999/', ODOO_URL: '' });
    expect(c.vendors.tavily.baseUrl).toBe('http://127.0.0.1:9999');
    expect(c.odoo.url).toBeNull();
  });

  it('masks passwords and key-like query parameters of URL variables in describeConfig', () => {
    const rows = describeConfig({
      ODOO_URL: 'https://admin:odoo-pw-1@odoo.example/',
      TAVILY_BASE_URL: 'https://proxy.example/tavily?api_key=tvly-secret-2&region=eu',
      OPENAI_BASE_URL: 'https://proxy.example/v1?token=tok-3',
      LUSHA_BASE_URL: 'https://lusha:lu-pw-4@proxy.example',
      CRAWL_URL_TEMPLATE: 'https://crawler:crawl-pw-5@{domain}/',
    });
    const value = (name: string) => rows.find((r) => r.variable === name)!.value;
    const printed = JSON.stringify(rows);
    for (const secret of ['odoo-pw-1', 'tvly-secret-2', 'tok-3', 'lu-pw-4', 'crawl-pw-5']) expect(printed).not.toContain(secret);
    expect(value('ODOO_URL')).toBe('https://admin:********@odoo.example/');
    expect(value('TAVILY_BASE_URL')).toBe('https://proxy.example/tavily?api_key=********&region=eu');
    expect(value('CRAWL_URL_TEMPLATE')).toContain('@{domain}/');
    // Nothing to mask: shown exactly as written (no normalisation).
    expect(value('ZEROBOUNCE_BASE_URL')).toBe('https://api.zerobounce.net/v2');
    expect(value('APIFY_BASE_URL')).toBe('https://api.apify.com/v2');
  });

  it('masks them in the ConfigError of an invalid URL too, keeping the rest recognisable', () => {
    const [bad] = problemsOf({ ODOO_URL: 'ftp://admin:odoo-pw-1@odoo.example/' });
    expect(bad!.value).toBe('ftp://admin:********@odoo.example/');
    const [unparseable] = problemsOf({ TAVILY_BASE_URL: 'https://admin:tv-pw-2@tavily proxy.example/?key=tvly-3&x=1' });
    expect(unparseable!.value).toBe('https://admin:********@tavily proxy.example/?key=********&x=1');
    const message = new ConfigError([bad!, unparseable!]).message;
    for (const secret of ['odoo-pw-1', 'tv-pw-2', 'tvly-3']) expect(message).not.toContain(secret);
    expect(message).toContain('ODOO_URL="ftp://admin:********@odoo.example/"');
  });

  it("secret(name) reads a tenant key's variable but never one of the configuration's own", () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-live-abc', DATABASE_URL: 'postgres://lead:hunter2@db/x', ODOO_PASSWORD: 'pw', ODOO_KEY_TENANT_7: 'k7', 'BAD-NAME': 'x' });
    expect(c.secret('ODOO_KEY_TENANT_7')).toBe('k7');
    for (const name of ['OPENAI_API_KEY', 'DATABASE_URL', 'ODOO_PASSWORD', 'APIFY_TOKEN', 'openai_api_key', 'BAD-NAME']) expect(c.secret(name)).toBeNull();
    expect(c.vendors.openai.apiKey).toBe('sk-live-abc'); // the configuration itself still has it
  });

  it('secret(name) hands out only variables that start with ODOO_KEY_ENV_PREFIX, which must be the start of a variable name', () => {
    const env = { AWS_SECRET_ACCESS_KEY: 'aws-1', ODOO_KEY_ACME: 'acme', TENANT_ACME: 'legacy' };
    const c = loadConfig(env);
    expect(c.odoo.keyEnvPrefix).toBe('ODOO_KEY_');
    expect([c.secret('ODOO_KEY_ACME'), c.secret('AWS_SECRET_ACCESS_KEY'), c.secret('TENANT_ACME'), c.secret('ODOO_KEY_ENV_PREFIX')]).toEqual(['acme', null, null, null]);
    const legacy = loadConfig({ ...env, ODOO_KEY_ENV_PREFIX: 'TENANT_' });
    expect([legacy.secret('TENANT_ACME'), legacy.secret('ODOO_KEY_ACME')]).toEqual(['legacy', null]);
    for (const bad of ['', 'ODOO-KEY-', '9_', 'A B']) {
      expect(problemsOf({ ODOO_KEY_ENV_PREFIX: bad }).map((p) => p.variable)).toEqual(['ODOO_KEY_ENV_PREFIX']);
    }
  });

  it('trims keys, secrets and URLs (a CRLF .env leaves a \\r that undici refuses in a header)', () => {
    const c = loadConfig({
      TAVILY_API_KEY: 'tvly-abc\r',
      OPENAI_API_KEY: ' sk-abc \r',
      ZEROBOUNCE_API_KEY: '\tzb-abc\r',
      LUSHA_API_KEY: 'lu-abc\r',
      APIFY_TOKEN: 'apify_api_abc\r',
      ODOO_PASSWORD: 'pw-abc\r',
      ODOO_URL: 'https://odoo.example\r',
      TAVILY_BASE_URL: ' http://127.0.0.1:9999/ \r',
      DATABASE_URL: 'postgres://u:p@db:5432/x\r',
      ODOO_KEY_TENANT_7: 'odoo-key\r',
    });
    expect([c.vendors.tavily.apiKey, c.vendors.openai.apiKey, c.vendors.zerobounce.apiKey, c.vendors.lusha.apiKey, c.vendors.apify.apiKey, c.odoo.password]).toEqual([
      'tvly-abc',
      'sk-abc',
      'zb-abc',
      'lu-abc',
      'apify_api_abc',
      'pw-abc',
    ]);
    expect(c.odoo.url).toBe('https://odoo.example');
    expect(c.vendors.tavily.baseUrl).toBe('http://127.0.0.1:9999');
    expect(c.database.url).toBe('postgres://u:p@db:5432/x');
    expect(c.secret('ODOO_KEY_TENANT_7')).toBe('odoo-key');
    // Whitespace alone is empty, not a bad value.
    const blank = loadConfig({ OPENAI_API_KEY: '\r', ODOO_URL: '\r', DATABASE_URL: ' \r' });
    expect([blank.vendors.openai.apiKey, blank.odoo.url, blank.database.url]).toEqual([null, null, null]);
  });

  it('never shows a secret: not in problems, not in describeConfig', () => {
    const secretUrl = 'postgres://lead:hunter2@db:5432/x';
    const rows = describeConfig({ DATABASE_URL: secretUrl, OPENAI_API_KEY: 'sk-live-abc', ODOO_PASSWORD: 'pw-123' });
    const printed = JSON.stringify(rows);
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('sk-live-abc');
    expect(printed).not.toContain('pw-123');
    expect(rows.find((r) => r.variable === 'OPENAI_API_KEY')!.value).toBe('********');
    const [p] = problemsOf({ DATABASE_URL: 'mysql://lead:hunter2@db/x' });
    expect(p!.value).not.toContain('hunter2');
    expect(JSON.stringify(loadConfig({ OPENAI_API_KEY: 'sk-live-abc' }))).not.toContain('secret(');
  });
});

describe('lead-enrich config (the built CLI)', () => {
  const bin = join(root, 'bin', 'lead-enrich.js');
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
    }
  }, 120_000);

  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [bin, 'config'], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });

  it('exits 2 and names the variable when RETRY_MAX_ATTEMPTS=abc', () => {
    const r = run({ RETRY_MAX_ATTEMPTS: 'abc' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('RETRY_MAX_ATTEMPTS');
    expect(r.stderr).toContain('"abc"');
    expect(r.stdout).toBe('');
  });

  it('exits 2 naming CRAWL_URL_TEMPLATE, its value and what is expected when it is ftp://{domain}/', () => {
    const r = run({ CRAWL_URL_TEMPLATE: 'ftp://{domain}/' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('CRAWL_URL_TEMPLATE="ftp://{domain}/": expected an http(s) URL containing {domain}');
    expect(r.stdout).toBe('');
  });

  it('exits 0 and prints the effective configuration, secrets masked', () => {
    const r = run({ OPENAI_API_KEY: 'sk-live-abc', RETRY_MAX_ATTEMPTS: '5' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/RETRY_MAX_ATTEMPTS\s+5\n/);
    expect(r.stdout).toMatch(/OPENAI_API_KEY\s+\*{8}/);
    expect(r.stdout).not.toContain('sk-live-abc');
  });

  it('masks the password of a URL variable, in the listing and in the error', () => {
    const ok = run({ ODOO_URL: 'https://admin:odoo-pw-1@odoo.example/' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/ODOO_URL\s+https:\/\/admin:\*{8}@odoo\.example\/\n/);
    const bad = run({ ODOO_URL: 'ftp://admin:odoo-pw-1@odoo.example/' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('ODOO_URL');
    expect(`${ok.stdout}${bad.stderr}`).not.toContain('odoo-pw-1');
  });
});
