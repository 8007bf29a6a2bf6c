import { describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCrawler, MAX_KEPT_TEXT } from '../../src/adapters/crawler.js';
import { configFrom } from '../../src/config/index.js';
import { attempt, useSimulator, vendorErrorOf } from '../support/adapters.js';

describe('crawler against simulated sites', () => {
  const fx = useSimulator();
  const crawler = () => createCrawler(fx.config);

  it('extracts visible text and mailto: addresses, nothing from script/style/noscript/template/hidden', async () => {
    const result = await crawler().crawl('rich-acme.example', attempt());
    expect(result.url).toBe(`${fx.sim.baseUrl}/sites/rich-acme.example/`);
    expect(result.text).toContain('Rich Acme is a');
    expect(result.text).not.toMatch(/MUST_NOT_SHOW/);
    expect(result.text).not.toMatch(/\s{2}/);
    expect(result.mailtos).toEqual(['info@rich-acme.example', 'sales@rich-acme.example']);
    expect(result.thin).toBe(result.text.length < fx.config.crawl.minChars);
    expect(result.thin).toBe(false);
  });

  it('marks a page with less text than CRAWL_MIN_CHARS thin', async () => {
    const result = await crawler().crawl('thin-shop.example', attempt());
    expect(result.text.length).toBeLessThan(500);
    expect(result.thin).toBe(true);
    const strict = createCrawler(configFrom({ ...fx.sim.overrides, CRAWL_MIN_CHARS: '0' }));
    expect((await strict.crawl('thin-shop.example', attempt())).thin).toBe(false);
  });

  it('follows redirects and reports the final URL', async () => {
    const result = await crawler().crawl('redirect.rich-acme.example', attempt());
    expect(result.url).toBe(`${fx.sim.baseUrl}/sites/rich-acme.example/`);
    expect(fx.sim.calls('crawler')).toBe(2);
  });

  it('gives up after five redirects', async () => {
    const error = await vendorErrorOf(crawler().crawl(`${'redirect.'.repeat(7)}acme.example`, attempt()));
    expect([error.kind, error.detail]).toEqual(['bad_response', 'too_many_redirects']);
    expect(fx.sim.calls('crawler')).toBe(6);
  });

  it.each(['http://[::1/', 'http://exa mple.example/', 'https://:443/'])('a redirect to the malformed Location %j is bad_response, not a network error', async (location) => {
    const template = `${fx.sim.baseUrl}/redirect?to=${encodeURIComponent(location)}&site={domain}`;
    const error = await vendorErrorOf(createCrawler(configFrom({ ...fx.sim.overrides, CRAWL_URL_TEMPLATE: template })).crawl('acme.example', attempt()));
    expect(error).toMatchObject({ vendor: 'crawler', kind: 'bad_response', status: 302, detail: 'invalid redirect location' });
    expect(error.retryable).toBe(false);
    expect(fx.sim.calls('crawler')).toBe(1);
  });

  it('a 404 is not_found; 5xx server; 429 rate_limited with Retry-After; hang timeout; reset network', async () => {
    expect((await vendorErrorOf(crawler().crawl('missing.example', attempt()))).kind).toBe('not_found');
    fx.sim.setProfile('crawler', { fault: 'server_error', status: 502 });
    expect((await vendorErrorOf(crawler().crawl('acme.example', attempt()))).kind).toBe('server');
    fx.sim.setProfile('crawler', { fault: 'rate_limit', retryAfterS: 3 });
    const limited = await vendorErrorOf(crawler().crawl('acme.example', attempt()));
    expect([limited.kind, limited.retryAfterMs]).toEqual(['rate_limited', 3000]);
    fx.sim.setProfile('crawler', 'hang');
    const timeout = new AbortController(); // the attempt's timeout, fired by hand once the site holds the request
    const hanging = vendorErrorOf(crawler().crawl('acme.example', timeout.signal));
    const served = fx.sim.calls('crawler');
    await vi.waitFor(() => expect(fx.sim.calls('crawler')).toBeGreaterThan(served), { interval: 2 });
    timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect((await hanging).kind).toBe('timeout');
    fx.sim.setProfile('crawler', 'reset');
    expect((await vendorErrorOf(crawler().crawl('acme.example', attempt()))).kind).toBe('network');
  });

  it('reads at most maxBytes of a page and parses what it got', async () => {
    const full = await crawler().crawl('rich-acme.example', attempt());
    const capped = await createCrawler(fx.config, { maxBytes: 600 }).crawl('rich-acme.example', attempt());
    expect(capped.text.length).toBeLessThan(full.text.length);
    expect(capped.thin).toBe(true);
  });

  it('keeps at most MAX_KEPT_TEXT characters of a long page, and judges thinness on all of it', async () => {
    const words = 'rockets '.repeat(20_000); // 160 000 characters of visible text
    const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<html><body><p>${words}</p></body></html>`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const config = configFrom({ ...fx.sim.overrides, CRAWL_URL_TEMPLATE: `http://127.0.0.1:${port}/{domain}/`, CRAWL_ALLOW_PRIVATE_NETWORKS: 'true' });
      const result = await createCrawler(config).crawl('long.example', attempt());
      expect(result.text.length).toBe(MAX_KEPT_TEXT);
      expect(result.thin).toBe(false);
    } finally {
      server.close();
    }
  });

  it('a non-HTML body yields no text', async () => {
    fx.sim.setProfile('crawler', 'schema');
    const result = await crawler().crawl('acme.example', attempt());
    expect([result.text, result.thin]).toEqual(['', true]);
  });

  it.each(['evil.example/@127.0.0.1', 'a b.example', 'acme.example#x', '-bad.example', ''])('refuses the malformed domain %j', async (domain) => {
    const error = await vendorErrorOf(crawler().crawl(domain, attempt()));
    expect([error.kind, error.detail]).toEqual(['bad_request', 'invalid_domain']);
    expect(fx.sim.calls('crawler')).toBe(0);
  });
});
