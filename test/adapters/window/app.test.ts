/**
 * The operators' window app (src/adapters/window/app.ts) over an in-memory reader, through hono's
 * own request handling: the token rules, bad input (400), unknown things (404), escaping, the
 * security headers, and that the token appears in no page, header or log line.
 */
import { describe, expect, it } from 'vitest';
import { createWindowApp } from '../../../src/adapters/window/app.js';
import { isLoopbackHost, listen } from '../../../src/adapters/window/server.js';
import { configFrom } from '../../../src/config/index.js';
import { serveAccessProblem } from '../../../src/runtime.js';
import { SCRIPT_NAME, fakeReader, memoryLogger } from './fakeReader.js';

const TOKEN = 's3cret-window-token-0123456789';
const NOW = Date.parse('2026-12-01T10:01:00.000Z');

function appWith(token: string | null) {
  const reader = fakeReader();
  const logger = memoryLogger();
  const app = createWindowApp({ reader, token, coolOffS: 300, logger, now: () => NOW });
  return { app, reader, logger };
}

const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

describe('the window without a token (loopback)', () => {
  it('lists the runs; a filter reaches the reader; every page has the security headers', async () => {
    const { app, reader } = appWith(null);
    const res = await app.request('/runs?tenant=12&status=completed');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await res.text();
    expect(body).toContain('href="/runs/7"');
    expect(reader.calls).toContainEqual({ tenantId: 12, status: 'completed', page: 1, pageSize: 25 });
    // The tenant's name is escaped like any other value.
    expect(body).toContain('Tenant &quot;12&quot; &amp; &lt;b&gt;co&lt;/b&gt;');
  });

  it('an empty filter field counts as absent (the form sends tenant=&status=)', async () => {
    const { app, reader } = appWith(null);
    expect((await app.request('/runs?tenant=&status=')).status).toBe(200);
    expect(reader.calls).toContainEqual({ page: 1, pageSize: 25 });
  });

  it.each([
    ['/runs?page=0', 'page expects an integer from 1 to 1000000, got &quot;0&quot;'],
    ['/runs?page=abc', 'page expects an integer from 1 to 1000000, got &quot;abc&quot;'],
    ['/runs?tenant=-1', 'tenant expects an integer from 0 to 2147483647'],
    ['/runs?status=done', 'status expects one of running, completed, interrupted, failed, got &quot;done&quot;'],
    ['/runs?colour=red', 'unknown query parameter &quot;colour&quot; (expected tenant, status, page)'],
    ['/runs?page=1&page=2', 'query parameter &quot;page&quot; given 2 times'],
    ['/runs/7?reason=%3Cscript%3E', 'reason expects a reason code'],
    ['/runs/abc', 'run id expects a positive integer, got &quot;abc&quot;'],
    ['/runs/7/companies/x', 'company id expects a positive integer'],
    ['/breakers?x=1', 'unknown query parameter &quot;x&quot;'],
  ])('%s is a 400 that says what is wrong', async (path, message) => {
    const { app } = appWith(null);
    const res = await app.request(path);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(message);
  });

  it('an unknown run, an unknown company and an unknown path are 404s', async () => {
    const { app } = appWith(null);
    const run = await app.request('/runs/99');
    expect(run.status).toBe(404);
    expect(await run.text()).toContain('run 99 does not exist');
    const company = await app.request('/runs/7/companies/4');
    expect(company.status).toBe(404);
    expect(await company.text()).toContain('company 4 has no result in run 7');
    expect((await app.request('/runs/99/companies/3')).status).toBe(404);
    expect((await app.request('/nothing/here')).status).toBe(404);
  });

  it('a company called <script> is text on the run page and on its own page, and so are its facts and contacts', async () => {
    const { app } = appWith(null);
    for (const path of ['/runs/7', '/runs/7/companies/3']) {
      const body = await (await app.request(path)).text();
      expect(body).not.toContain(SCRIPT_NAME);
      expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(body).not.toContain('<img src=x');
      expect(body).not.toContain('<i>Lovelace</i>');
      // The page's only script is its own file.
      expect([...body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script src="/assets/window.js" defer>']);
    }
  });

  it('the run page has one bar per reason with its count, each linking to the companies with it', async () => {
    const { app } = appWith(null);
    const body = await (await app.request('/runs/7')).text();
    const bars = [...body.matchAll(/<g class="bar" data-reason="([^"]+)" data-count="(\d+)"><a href="([^"]+)"/g)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(bars).toEqual([
      ['CRAWL_THIN', 2, '/runs/7?reason=CRAWL_THIN#companies'],
      ['CIRCUIT_OPEN:tavily', 1, '/runs/7?reason=CIRCUIT_OPEN%3Atavily#companies'],
    ]);
  });

  it("the breakers page shows each breaker's state and when an open one may probe; its rows are served alone for the refresh", async () => {
    const { app } = appWith(null);
    const body = await (await app.request('/breakers')).text();
    expect(body).toMatch(/<tr data-tenant="12" data-vendor="tavily" data-state="open">/);
    expect(body).toContain('2026-12-01 10:05:00Z'); // opened 10:00, cool-off 300 s
    const rows = await (await app.request('/breakers/rows')).text();
    expect(rows.startsWith('<tr data-tenant="12" data-vendor="tavily" data-state="open">')).toBe(true);
    expect(rows).not.toContain('<html');
  });

  it('the queue page shows the jobs per run and state', async () => {
    const { app } = appWith(null);
    const body = await (await app.request('/queue')).text();
    expect(body).toMatch(/<tr data-run="7" data-queue="enrich">.*<td class="num">1<\/td><td class="num">3<\/td><td class="num">2<\/td>/);
  });
});

describe('the window with SERVE_TOKEN', () => {
  it.each(['/runs', '/runs/7', '/breakers', '/breakers/rows', '/queue', '/metrics', '/assets/window.js'])('%s without the token is 401', async (path) => {
    const { app } = appWith(TOKEN);
    const res = await app.request(path);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('a wrong token is 401, whether a bearer, a query or a cookie', async () => {
    const { app } = appWith(TOKEN);
    expect((await app.request('/runs', { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await app.request('/runs?token=nope')).status).toBe(401);
    expect((await app.request('/runs', { headers: { cookie: `lead_enrich_window=${'0'.repeat(64)}` } })).status).toBe(401);
  });

  it('the bearer token opens every page; /healthz needs none', async () => {
    const { app } = appWith(TOKEN);
    expect((await app.request('/runs', bearer)).status).toBe(200);
    expect((await app.request('/metrics', bearer)).status).toBe(200);
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('?token= sets a cookie that is not the token and redirects to the address without it; the cookie then opens the pages', async () => {
    const { app } = appWith(TOKEN);
    const res = await app.request(`/runs?status=completed&token=${TOKEN}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/runs?status=completed');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^lead_enrich_window=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    expect((await app.request('/runs/7', { headers: { cookie } })).status).toBe(200);
  });

  it('the redirect after ?token= stays on this server, whatever the path', async () => {
    const { app } = appWith(TOKEN);
    const res = await app.request(`http://127.0.0.1//evil.example/runs?token=${TOKEN}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/evil.example/runs');
  });

  it('the token is in no page, header or log line', async () => {
    const { app, logger } = appWith(TOKEN);
    const seen: string[] = [];
    for (const path of ['/runs', '/runs/7', '/runs/7/companies/3', '/breakers', '/queue', '/metrics', '/runs/99', '/runs?page=x']) {
      const res = await app.request(`${path}${path.includes('?') ? '&' : '?'}token=${TOKEN}`);
      seen.push(JSON.stringify([...res.headers.entries()]), await res.text());
      const page = await app.request(path, bearer);
      seen.push(JSON.stringify([...page.headers.entries()]), await page.text());
    }
    expect(logger.lines.length).toBeGreaterThan(0);
    expect([...seen, ...logger.lines].filter((s) => s.includes(TOKEN))).toEqual([]);
  });
});

describe('who may serve where', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['example.com', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('another host than loopback needs SERVE_TOKEN; with it, any host will do', () => {
    expect(serveAccessProblem(configFrom({}), '0.0.0.0')).toMatch(/--host 0\.0\.0\.0 is not a loopback address: set SERVE_TOKEN/);
    expect(serveAccessProblem(configFrom({}), '127.0.0.1')).toBeNull();
    expect(serveAccessProblem(configFrom({ SERVE_TOKEN: TOKEN }), '0.0.0.0')).toBeNull();
    // A token of blanks is no token.
    expect(serveAccessProblem(configFrom({ SERVE_TOKEN: '   ' }), '0.0.0.0')).not.toBeNull();
  });
});

describe('listening', () => {
  it('a port in use is an error that says so and what to do', async () => {
    const { app } = appWith(null);
    const first = await listen(app, '127.0.0.1', 0);
    try {
      await expect(listen(app, '127.0.0.1', first.port)).rejects.toThrow(`cannot listen on 127.0.0.1:${first.port}: the port is in use (another --port, or --port 0 for any free one)`);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await first.close();
    }
  });
});
