import { describe, expect, it, vi } from 'vitest';
import { createApifyLinkedinClient } from '../../src/adapters/apifyLinkedin.js';
import { createLushaClient } from '../../src/adapters/lusha.js';
import { createOpenAiClient } from '../../src/adapters/openai.js';
import { createTavilyClient } from '../../src/adapters/tavily.js';
import { createZeroBounceClient } from '../../src/adapters/zerobounce.js';
import type { Config } from '../../src/config/index.js';
import type { Company } from '../../src/domain/company.js';
import type { ErrorKind } from '../../src/domain/errors.js';
import { SIM_KEYS, type FaultMode, type SimVendor } from '../../src/sim/index.js';
import { attempt, useSimulator, vendorErrorOf } from '../support/adapters.js';

const company: Company = { companyId: 1, tenantId: 1, name: 'Acme Tools', domain: 'acme-tools.example' };

/** One call of each vendor adapter through its port. */
const CALLS: Record<Exclude<SimVendor, 'crawler'>, (config: Config, signal: AbortSignal) => Promise<unknown>> = {
  tavily: (c, s) => createTavilyClient(c).search('acme-tools.example company', s),
  openai: (c, s) => createOpenAiClient(c).extract({ company, text: 'Acme Tools makes tools.' }, s),
  zerobounce: (c, s) => createZeroBounceClient(c).verify('info@acme-tools.example', s),
  lusha: (c, s) => createLushaClient(c).findContacts({ company, facts: {} }, s),
  apify_linkedin: (c, s) => createApifyLinkedinClient(c).findContacts({ company, facts: {} }, s),
};

/** The kind each simulated fault must be classified as (ZeroBounce's quota body is its invalid-key body). */
const EXPECTED: [FaultMode, ErrorKind][] = [
  ['rate_limit', 'rate_limited'],
  ['server_error', 'server'],
  ['reset', 'network'],
  ['malformed', 'bad_response'],
  ['schema', 'bad_response'],
  ['invalid_key', 'auth'],
  ['quota', 'quota_exhausted'],
];

describe.each(Object.keys(CALLS) as (keyof typeof CALLS)[])('%s adapter against simulated faults', (vendor) => {
  const fx = useSimulator();
  const call = CALLS[vendor];

  it.each(EXPECTED)('%s → %s', async (fault, kind) => {
    fx.sim.setProfile(vendor, { fault, retryAfterS: 2 });
    const error = await vendorErrorOf(call(fx.config, attempt()));
    const expected = vendor === 'zerobounce' && fault === 'quota' ? 'auth' : kind;
    expect(error.vendor).toBe(vendor);
    expect(error.kind).toBe(expected);
    if (fault === 'rate_limit') expect(error.retryAfterMs).toBe(2000);
    if (fault === 'server_error') expect(error.status).toBe(503);
    expect(fx.sim.calls(vendor)).toBe(1);
  });

  it('rate_limit with the simulator\'s default wait: retryAfterMs only from what the vendor documents', async () => {
    fx.sim.setProfile(vendor, 'rate_limit');
    const error = await vendorErrorOf(call(fx.config, attempt()));
    expect(error.kind).toBe('rate_limited');
    // Tavily and ZeroBounce send no Retry-After by default; Lusha's 1 s comes from "Reset in 1 seconds".
    expect(error.retryAfterMs).toBe(vendor === 'tavily' || vendor === 'zerobounce' ? undefined : 1000);
  });

  it('hang → timeout when the per-attempt signal fires', async () => {
    fx.sim.setProfile(vendor, 'hang');
    // The attempt's timeout signal, fired by hand once the vendor holds the request (no real wait).
    const timeout = new AbortController();
    const pending = vendorErrorOf(call(fx.config, timeout.signal));
    await vi.waitFor(() => expect(fx.sim.calls(vendor)).toBe(1), { interval: 2 });
    timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    const error = await pending;
    expect(error.kind).toBe('timeout');
    expect(error.detail).toBe('attempt timed out');
  });

  it('a wrong key gets the vendor invalid-key answer → auth', async () => {
    const error = await vendorErrorOf(call({ ...fx.config, vendors: withKey(fx.config, vendor, 'wrong-key') }, attempt()));
    expect(error.kind).toBe('auth');
  });

  it('never puts the key in an error message or its JSON', async () => {
    for (const fault of ['invalid_key', 'server_error', 'reset', 'schema'] as const) {
      fx.sim.setProfile(vendor, fault);
      const error = await vendorErrorOf(call(fx.config, attempt()));
      const text = `${error.message} ${JSON.stringify(error)} ${error.stack ?? ''}`;
      expect(text).not.toContain(SIM_KEYS[vendor]);
    }
  });
});

function withKey(config: Config, vendor: keyof typeof CALLS, key: string): Config['vendors'] {
  const name = vendor === 'apify_linkedin' ? 'apify' : vendor;
  return { ...config.vendors, [name]: { ...config.vendors[name], apiKey: key } };
}
