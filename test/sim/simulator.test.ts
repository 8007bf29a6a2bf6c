import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideFault, type FaultProfile } from '../../src/sim/faults.js';
import { mulberry32 } from '../../src/sim/random.js';
import { SIM_KEYS, startSimulator, type Simulator } from '../../src/sim/index.js';

async function post(sim: Simulator, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

const search = (sim: Simulator) => post(sim, '/tavily/search', { query: 'acme.example' }, { authorization: `Bearer ${SIM_KEYS.tavily}` });

describe('fault decisions', () => {
  const sequence = (profile: FaultProfile, seed: number, n = 40) => {
    const random = mulberry32(seed);
    return Array.from({ length: n }, (_, i) => decideFault(profile, i, random));
  };

  it('an outage for the first N calls, then recovery', () => {
    expect(sequence({ fault: 'server_error', firstN: 3 }, 1, 5)).toEqual(['server_error', 'server_error', 'server_error', 'ok', 'ok']);
  });

  it('a script is played first, then the profile applies', () => {
    expect(sequence({ script: ['rate_limit', 'ok', 'hang'], fault: 'reset' }, 1, 5)).toEqual(['rate_limit', 'ok', 'hang', 'reset', 'reset']);
  });

  it('a probability draws from the seeded generator: same seed, same faults', () => {
    const a = sequence({ fault: 'server_error', probability: 0.3 }, 42);
    expect(sequence({ fault: 'server_error', probability: 0.3 }, 42)).toEqual(a);
    expect(sequence({ fault: 'server_error', probability: 0.3 }, 43)).not.toEqual(a);
    const faults = a.filter((f) => f !== 'ok').length;
    expect(faults).toBeGreaterThan(3);
    expect(faults).toBeLessThan(25);
  });
});

describe('simulator server', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, profiles: { openai: 'quota' } });
  });
  afterAll(async () => sim.close());

  it('listens on loopback and hands out overrides pointing at itself', () => {
    expect(sim.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const [name, value] of Object.entries(sim.overrides)) {
      if (name.endsWith('_BASE_URL') || name === 'CRAWL_URL_TEMPLATE') expect(value.startsWith(sim.baseUrl)).toBe(true);
    }
    expect(sim.overrides.CRAWL_URL_TEMPLATE).toContain('{domain}');
  });

  it('counts calls per vendor, faulted ones included, and reset zeroes them and restores initial profiles', async () => {
    sim.reset();
    sim.setProfile('tavily', { fault: 'server_error', firstN: 1, status: 500 });
    expect((await search(sim)).status).toBe(500);
    expect((await search(sim)).status).toBe(200);
    expect(sim.calls('tavily')).toBe(2);
    expect(sim.callCounts()).toMatchObject({ tavily: 2, openai: 0, crawler: 0 });
    sim.reset();
    expect(sim.calls('tavily')).toBe(0);
    expect((await search(sim)).status).toBe(200);
    expect((await post(sim, '/openai/v1/chat/completions', {}, { authorization: `Bearer ${SIM_KEYS.openai}` })).status).toBe(429);
  });

  it('sends Retry-After in seconds on a rate limit', async () => {
    sim.setProfile('tavily', { fault: 'rate_limit', retryAfterS: 7 });
    const res = await search(sim);
    expect([res.status, res.headers['retry-after']]).toEqual([429, '7']);
    sim.reset();
  });

  it('sends a rate limit\'s wait only as each vendor documents it', async () => {
    const rateLimited = async (vendor: 'tavily' | 'zerobounce' | 'lusha' | 'openai', retryAfterS?: number) => {
      sim.setProfile(vendor, { fault: 'rate_limit', ...(retryAfterS === undefined ? {} : { retryAfterS }) });
      const res =
        vendor === 'zerobounce'
          ? await request(`${sim.baseUrl}/zerobounce/v2/validate?api_key=${SIM_KEYS.zerobounce}&email=a%40b.example&ip_address=`).then(async (r) => ({ status: r.statusCode, headers: r.headers, text: await r.body.text() }))
          : await post(sim, { tavily: '/tavily/search', lusha: '/lusha/v3/contacts/prospecting', openai: '/openai/v1/chat/completions' }[vendor], {});
      expect(res.status).toBe(429);
      return res;
    };
    // Tavily (unconfirmed) and ZeroBounce (undocumented): no Retry-After unless a profile asks for one.
    expect((await rateLimited('tavily')).headers['retry-after']).toBeUndefined();
    expect((await rateLimited('zerobounce')).headers['retry-after']).toBeUndefined();
    expect((await rateLimited('zerobounce', 30)).headers['retry-after']).toBe('30');
    // Lusha: never Retry-After; the wait is in the message, beside its usage headers.
    const lusha = await rateLimited('lusha', 7);
    expect(lusha.headers['retry-after']).toBeUndefined();
    expect(JSON.parse(lusha.text)).toEqual({ statusCode: 429, message: expect.stringMatching(/Reset in 7 seconds$/) });
    expect(lusha.headers['x-hourly-requests-left']).toBe('0');
    // OpenAI's SDK reads Retry-After: its imitation sends one, 1 s by default.
    expect((await rateLimited('openai')).headers['retry-after']).toBe('1');
    sim.reset();
  });

  it('answers a wrong key with the vendor invalid-key body', async () => {
    const res = await post(sim, '/tavily/search', { query: 'x' }, { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toEqual({ detail: { error: expect.any(String) } });
  });

  it('generates the same data for the same seed and input', async () => {
    const other = await startSimulator({ seed: 3 });
    try {
      const a = await search(sim);
      const b = await search(other);
      expect(a.text).toBe(b.text);
    } finally {
      await other.close();
    }
  });

  it('adds latency before answering', async () => {
    sim.setProfile('tavily', { latencyMs: 40 });
    const started = performance.now();
    await search(sim);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    sim.reset();
  });

  it('generates company sites: some thin, some with mailto: links, redirects and 404s by convention', async () => {
    const pages = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => (await request(`${sim.baseUrl}/sites/company${i}.example/`)).body.text()),
    );
    const thin = pages.filter((p) => p.includes('Coming soon')).length;
    const withMailto = pages.filter((p) => p.includes('mailto:')).length;
    expect(thin).toBeGreaterThan(0);
    expect(thin).toBeLessThan(40);
    expect(withMailto).toBeGreaterThan(0);
    expect(withMailto).toBeLessThan(40);
    const redirect = await request(`${sim.baseUrl}/sites/redirect.acme.example/`);
    await redirect.body.dump();
    expect([redirect.statusCode, redirect.headers.location]).toEqual([301, '/sites/acme.example/']);
    const missing = await request(`${sim.baseUrl}/sites/missing.example/`);
    await missing.body.dump();
    expect(missing.statusCode).toBe(404);
  });

  it('close() ends requests left hanging', async () => {
    const hanging = await startSimulator({ profiles: { tavily: 'hang' } });
    const pending = search(hanging).then(
      () => 'answered',
      () => 'dropped',
    );
    // Wait for the request to arrive (event-driven, bounded), not a fixed sleep: a loaded machine is slow.
    for (let i = 0; i < 1000 && hanging.calls('tavily') === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hanging.calls('tavily')).toBe(1);
    await hanging.close();
    expect(await pending).toBe('dropped');
  });
});
