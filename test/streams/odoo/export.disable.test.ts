import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFrom } from '../../../src/config/index.js';
import { startFakeOdoo, type FakeOdoo } from '../../../src/sim/fakeOdoo.js';
import { exportRequestFor } from '../../../src/streams/odoo/request.js';
import type { Disabled } from '../../../src/streams/odoo/session.js';
import { companies, exportTenantAll, fireTimeoutsOnEveryCall, harness, request } from '../../support/odoo/harness.js';
import { closedPortUrl } from '../../support/odoo/transport.js';

/** An Odoo that cannot be used disables the tenant's export; the run completes and calls stop. */
const KEY = 'disable-key-1';
let fake: FakeOdoo;
beforeEach(async () => {
  fake = await startFakeOdoo();
});
afterEach(async () => fake.close());

describe('Odoo export disabled for the rest of the run', () => {
  it('unknown database: every company disabled, one authenticate, no object call', async () => {
    const h = harness();
    const decisions: Disabled[] = [];
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'ghost', KEY, { onDisabled: (d) => decisions.push(d) }), companies(3));
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['disabled', 'disabled', 'disabled']);
    expect(summary).toMatchObject({ odooExportDisabled: true, disabled: { reason: 'missing_database' }, counts: { disabled: 3 } });
    expect(decisions.map((d) => d.reason)).toEqual(['missing_database']);
    expect(outcomes[0]?.detail).toContain('database "ghost" does not exist');
    expect(fake.callCounts('ghost')).toEqual({ 'common.authenticate': 1 });
  });

  it('a database that disappears mid-run disables the rest, with no object call after the decision', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY });
    const h = harness();
    let objectCallsAtDecision = -1;
    const input = (async function* () {
      const [first, ...rest] = companies(4);
      yield first!;
      fake.setBehaviour('acme', { missing: true });
      yield* rest;
    })();
    const { outcomes, summary } = await exportTenantAll(
      h.deps,
      request(fake, 1, 'acme', KEY, { onDisabled: () => (objectCallsAtDecision = fake.objectCalls('acme')) }),
      input,
    );
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['exported', 'disabled', 'disabled', 'disabled']);
    expect(summary.disabled?.reason).toBe('missing_database');
    expect(fake.objectCalls('acme')).toBe(objectCallsAtDecision);
  });

  it('refused login: disabled, authenticate not retried, no object call', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY }, { refuseLogin: true });
    const h = harness();
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(2));
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['disabled', 'disabled']);
    expect(summary.disabled?.reason).toBe('login_refused');
    expect(fake.callCounts('acme')).toEqual({ 'common.authenticate': 1 });
    expect(JSON.stringify({ outcomes, summary })).not.toContain(KEY);
  });

  it('refused connection: retried by the guard, then disabled; no further attempt', async () => {
    const h = harness();
    const { outcomes, summary } = await exportTenantAll(h.deps, request({ url: await closedPortUrl() }, 1, 'acme', KEY), companies(3));
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['disabled', 'disabled', 'disabled']);
    expect(summary.disabled).toEqual({ reason: 'unreachable', detail: 'network: ECONNREFUSED' });
    expect(h.guard.attempts.get(1)).toBe(3);
  });

  it('a hang (each attempt timing out) disables the tenant; no object call after the decision', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY });
    const h = harness();
    let objectCallsAtDecision = -1;
    const stop = fireTimeoutsOnEveryCall(fake, h.timeouts);
    const input = (async function* () {
      const [first, ...rest] = companies(3);
      yield first!;
      fake.setBehaviour('acme', { down: 'hang' });
      yield* rest;
    })();
    try {
      const { outcomes, summary } = await exportTenantAll(
        h.deps,
        request(fake, 1, 'acme', KEY, { onDisabled: () => (objectCallsAtDecision = fake.objectCalls('acme')) }),
        input,
      );
      expect(outcomes.map((o) => o.exportStatus)).toEqual(['exported', 'disabled', 'disabled']);
      expect(summary.disabled).toEqual({ reason: 'unreachable', detail: 'timeout: attempt timed out' });
      expect(fake.objectCalls('acme')).toBe(objectCallsAtDecision);
    } finally {
      stop();
    }
  });

  it('connections destroyed mid-run and a proxy error page disable the tenant', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY }, { down: 'reset' });
    const reset = await exportTenantAll(harness().deps, request(fake, 1, 'acme', KEY), companies(2));
    expect(reset.summary.disabled?.reason).toBe('unreachable');
    fake.setBehaviour('acme', { down: 'html' });
    const html = await exportTenantAll(harness().deps, request(fake, 2, 'acme', KEY), companies(2));
    expect(html.summary.disabled).toEqual({ reason: 'unreachable', detail: 'server 502: HTTP 502, body is not XML-RPC' });
  });

  it("tenant A's Odoo down does not disable tenant B (same guard, concurrent)", async () => {
    fake.addDatabase('b', { login: 'bot', apiKey: KEY });
    const h = harness();
    const down = await closedPortUrl();
    const [a, b] = await Promise.all([
      exportTenantAll(h.deps, request({ url: down }, 1, 'a', KEY), companies(3)),
      exportTenantAll(h.deps, request(fake, 2, 'b', KEY), companies(3)),
    ]);
    expect(a.summary.odooExportDisabled).toBe(true);
    expect(b.summary).toMatchObject({ odooExportDisabled: false, counts: { exported: 3 } });
  });

  it('an open odoo breaker disables the tenant without a request', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY });
    const h = harness();
    const up = request(fake, 1, 'acme', KEY);
    // Open tenant 1's breaker with three failed calls elsewhere in the run.
    await exportTenantAll(h.deps, request({ url: await closedPortUrl() }, 1, 'x', KEY), companies(1));
    await exportTenantAll(h.deps, request({ url: await closedPortUrl() }, 1, 'x', KEY), companies(1));
    await exportTenantAll(h.deps, request({ url: await closedPortUrl() }, 1, 'x', KEY), companies(1));
    const { summary } = await exportTenantAll(h.deps, up, companies(2));
    expect(summary.disabled?.reason).toBe('circuit_open');
    expect(fake.calls.length).toBe(0);
  });

  it('no Odoo URL: every company skipped; incomplete settings: disabled', async () => {
    const h = harness();
    const none = await exportTenantAll(h.deps, { ...request(fake, 1, 'x', KEY), resolution: { kind: 'none' } }, companies(2));
    expect(none.outcomes.map((o) => o.exportStatus)).toEqual(['skipped', 'skipped']);
    expect(none.summary.odooExportDisabled).toBe(false);
    const incomplete = await exportTenantAll(h.deps, { ...request(fake, 1, 'x', KEY), resolution: { kind: 'incomplete', source: 'env', missing: ['ODOO_DB'] } }, companies(1));
    expect(incomplete.summary.disabled).toEqual({ reason: 'settings_incomplete', detail: 'missing ODOO_DB' });
    expect(fake.calls.length).toBe(0);
  });
});

describe('a tenant row naming a secret that is not a tenant key', () => {
  it('disables that tenant with settings_incomplete before any call: the secret never reaches the Odoo the row chose, the run goes on', async () => {
    // The row's Odoo would accept whatever it is sent: it belongs to whoever wrote the row.
    fake.addDatabase('acme', { login: 'bot', apiKey: 'aws-secret-9' });
    const config = configFrom({ AWS_SECRET_ACCESS_KEY: 'aws-secret-9', ODOO_KEY_ACME: KEY });
    const row = { odooUrl: fake.url, odooDb: 'acme', odooLogin: 'bot', odooKeyEnv: 'AWS_SECRET_ACCESS_KEY' };
    const decisions: Disabled[] = [];
    const h = harness();
    const { outcomes, summary } = await exportTenantAll(h.deps, { ...exportRequestFor(config, 1, row), onDisabled: (d) => decisions.push(d) }, companies(2));
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['disabled', 'disabled']);
    expect(decisions).toEqual([{ reason: 'settings_incomplete', detail: 'missing tenants.odoo_key_env (names a variable that does not start with ODOO_KEY_, the ODOO_KEY_ENV_PREFIX)' }]);
    expect(summary).toMatchObject({ odooExportDisabled: true, counts: { disabled: 2 } });
    expect(fake.calls).toEqual([]);
    expect(JSON.stringify({ outcomes, summary })).not.toContain('aws-secret-9');
    // The same row naming a tenant key exports.
    fake.addDatabase('acme2', { login: 'bot', apiKey: KEY });
    const ok = await exportTenantAll(h.deps, exportRequestFor(config, 1, { ...row, odooDb: 'acme2', odooKeyEnv: 'ODOO_KEY_ACME' }), companies(1));
    expect(ok.outcomes.map((o) => o.exportStatus)).toEqual(['exported']);
  });
});

describe('run cancellation', () => {
  it('stops the export without disabling the tenant', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY }, { down: 'hang' });
    const h = harness();
    const controller = new AbortController();
    void fake.nextCall().then(() => controller.abort());
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY, { signal: controller.signal }), companies(3));
    expect(summary.odooExportDisabled).toBe(false);
    expect(outcomes.map((o) => [o.exportStatus, o.detail])).toEqual([['disabled', 'export disabled: unreachable (run cancelled)']]);
  });
});
