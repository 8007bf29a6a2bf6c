import { describe, expect, it } from 'vitest';
import { createCrawler } from '../../src/adapters/crawler.js';
import type { LookupFn, ResolvedAddress } from '../../src/adapters/ssrf.js';
import { configFrom } from '../../src/config/index.js';
import { attempt, useSimulator, vendorErrorOf } from '../support/adapters.js';

/** A public-looking address that the test network routes to the loopback simulator. */
const PUBLIC = '93.184.216.34';

const DNS: Record<string, ResolvedAddress[]> = {
  'evil.test': [{ address: '127.0.0.1', family: 4 }],
  'loop6.test': [{ address: '::1', family: 6 }],
  'private.test': [{ address: '10.0.0.7', family: 4 }],
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'alibaba.test': [{ address: '100.100.100.200', family: 4 }],
  'imds6.test': [{ address: 'fd00:ec2::254', family: 6 }],
  'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'public.test': [{ address: PUBLIC, family: 4 }],
};

describe('crawler SSRF guard', () => {
  const fx = useSimulator();
  const port = () => new URL(fx.sim.baseUrl).port;
  const lookups: string[] = [];
  const lookup: LookupFn = async (host) => {
    lookups.push(host);
    const found = DNS[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  /** Only the public test address reaches the simulator; everything else connects where it says. */
  const connectAddress = (checked: ResolvedAddress): ResolvedAddress => (checked.address === PUBLIC ? { address: '127.0.0.1', family: 4 } : checked);
  const crawlerWith = (template: string, allow: boolean) =>
    createCrawler(configFrom({ ...fx.sim.overrides, CRAWL_URL_TEMPLATE: template, CRAWL_ALLOW_PRIVATE_NETWORKS: String(allow) }), { lookup, connectAddress });
  const siteTemplate = () => `http://{domain}:${port()}/sites/{domain}/`;
  const redirectTemplate = (to: string) => `http://{domain}:${port()}/redirect?to=${encodeURIComponent(to)}`;

  it.each([
    ['evil.test', 'loopback'],
    ['loop6.test', 'loopback'],
    ['private.test', 'private'],
    ['metadata.test', 'cloud_metadata'],
    ['mapped.test', 'loopback'],
  ])('refuses a site whose name resolves to a forbidden address (%s → %s)', async (domain, reason) => {
    const error = await vendorErrorOf(crawlerWith(siteTemplate(), false).crawl(domain, attempt()));
    expect(error).toMatchObject({ vendor: 'crawler', kind: 'bad_request', detail: `ssrf_refused:${reason}` });
    expect(error.retryable).toBe(false);
    expect(fx.sim.calls('crawler')).toBe(0);
  });

  it('refuses the default simulator template (a loopback IP literal) unless private networks are allowed', async () => {
    const template = fx.sim.overrides.CRAWL_URL_TEMPLATE ?? '';
    const error = await vendorErrorOf(crawlerWith(template, false).crawl('acme.example', attempt()));
    expect(error.detail).toBe('ssrf_refused:loopback');
    await expect(crawlerWith(template, true).crawl('acme.example', attempt())).resolves.toMatchObject({ thin: expect.any(Boolean) });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'cloud_metadata'],
    ['http://127.0.0.1:1/', 'loopback'],
    ['http://[::1]:1/', 'loopback'],
    ['http://10.1.2.3/admin', 'private'],
    ['http://[::ffff:169.254.169.254]/', 'cloud_metadata'],
    ['http://evil.test:1/sites/x/', 'loopback'],
  ])('refuses a public site that redirects to %s', async (target, reason) => {
    const error = await vendorErrorOf(crawlerWith(redirectTemplate(target), false).crawl('public.test', attempt()));
    expect(error.detail).toBe(`ssrf_refused:${reason}`);
    expect(fx.sim.calls('crawler')).toBe(1);
  });

  it('allows and follows the same redirect to a private host with CRAWL_ALLOW_PRIVATE_NETWORKS=true', async () => {
    const target = `http://evil.test:${port()}/sites/rich-acme.example/`;
    const result = await crawlerWith(redirectTemplate(target), true).crawl('public.test', attempt());
    expect(result.url).toBe(target);
    expect(result.text).toContain('Rich Acme');
    expect(fx.sim.calls('crawler')).toBe(2);
  });

  it.each(['metadata.test', 'alibaba.test', 'imds6.test', 'metadata.google.internal'])(
    'refuses a site at a cloud metadata service (%s) even with CRAWL_ALLOW_PRIVATE_NETWORKS=true',
    async (domain) => {
      const error = await vendorErrorOf(crawlerWith(siteTemplate(), true).crawl(domain, attempt()));
      expect(error).toMatchObject({ vendor: 'crawler', kind: 'bad_request', detail: 'ssrf_refused:cloud_metadata' });
      expect(fx.sim.calls('crawler')).toBe(0);
    },
  );

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/latest/meta-data/', 'http://169.254.170.2/v2/credentials', 'http://metadata.google.internal/computeMetadata/v1/'])(
    'refuses a redirect to the metadata service %s even with CRAWL_ALLOW_PRIVATE_NETWORKS=true',
    async (target) => {
      const error = await vendorErrorOf(crawlerWith(redirectTemplate(target), true).crawl('public.test', attempt()));
      expect(error.detail).toBe('ssrf_refused:cloud_metadata');
      expect(fx.sim.calls('crawler')).toBe(1);
    },
  );

  it('connects to the checked address: a name unknown to real DNS is reached through its pinned address', async () => {
    lookups.length = 0;
    const result = await crawlerWith(siteTemplate(), true).crawl('evil.test', attempt());
    expect(result.url).toBe(`http://evil.test:${port()}/sites/evil.test/`);
    expect(lookups).toEqual(['evil.test']);
  });

  it('resolves once per hop, so a second DNS answer (rebinding) is never used', async () => {
    let answers = 0;
    const rebinding: LookupFn = async () => (answers++ === 0 ? [{ address: PUBLIC, family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const config = configFrom({ ...fx.sim.overrides, CRAWL_URL_TEMPLATE: siteTemplate(), CRAWL_ALLOW_PRIVATE_NETWORKS: 'false' });
    const result = await createCrawler(config, { lookup: rebinding, connectAddress }).crawl('rebind.test', attempt());
    expect(result.text.length).toBeGreaterThan(0);
    expect(answers).toBe(1);
  });

  it('a name that does not resolve is a network error', async () => {
    const error = await vendorErrorOf(crawlerWith(siteTemplate(), false).crawl('nowhere.test', attempt()));
    expect(error.kind).toBe('network');
  });
});
