/**
 * `--inspect` end to end: a small batch through createRuntime with an inspect callback (and with the
 * Stately relay, as `run --inspect` wires it) sees the run actor, one enrichment actor per company
 * and the breaker actors the registry creates lazily on first vendor call.
 */
import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createInspector } from '../../src/adapters/inspect.js';
import { inspectModeOf, inspectPortOf } from '../../src/cli/commands/run.js';
import { main } from '../../src/cli/main.js';
import { configFrom, createRuntime, type Company, type Config } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

const machineOf = (e: InspectionEvent): string | undefined => (e.actorRef as { logic?: { id?: string } }).logic?.id;

describe('inspection of every machine kind through the runtime', () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let config: Config;
  const batch = (tenantId: number): Company[] =>
    [0, 1, 2].map((i) => ({ tenantId, companyId: 500 + i, name: `Inspected ${i}`, domain: i === 1 ? `thin-inspected-${i}.example` : `rich-inspected-${i}.example` }));

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 3 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '10', RUN_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('an inspect callback sees the run, each company\'s enrichment and the breakers', async () => {
    const events: InspectionEvent[] = [];
    const runtime = await createRuntime(config, { inspect: (e) => events.push(e) });
    try {
      expect(events).toEqual([]); // nothing is created before work starts: breakers are lazy
      // A failing Tavily (searched for the thin site) sends its breaker a machine event; healthy
      // breakers are answered from a mirror of their state and see only their creation.
      sim.setProfile('tavily', 'server_error');
      const companies = batch(61);
      const result = await runtime.run({ tenantId: 61, companies }).done;
      expect(result.status).toBe('completed');

      const created = events.filter((e) => e.type === '@xstate.actor');
      const byMachine = (id: string) => created.filter((e) => machineOf(e) === id);
      expect(byMachine('run')).toHaveLength(1);
      expect(byMachine('enrichment')).toHaveLength(companies.length);
      expect(byMachine('enrichment').map((e) => (e.actorRef.getSnapshot() as { context: { company: Company } }).context.company.companyId).sort())
        .toEqual(companies.map((c) => c.companyId));
      // One breaker actor per (tenant, vendor) the chain called, and no other.
      const breakers = runtime.breakers.list();
      expect(breakers.length).toBeGreaterThan(0);
      expect(byMachine('breaker')).toHaveLength(breakers.length);
      expect(breakers.every((b) => b.tenantId === 61)).toBe(true);

      // Each kind reports its events (the enrichment's are its steps' done/error events) and snapshots.
      for (const id of ['run', 'enrichment', 'breaker']) {
        const refs = new Set(byMachine(id).map((e) => e.actorRef));
        expect(events.some((e) => e.type === '@xstate.snapshot' && refs.has(e.actorRef)), `${id} snapshots`).toBe(true);
        expect(events.some((e) => e.type === '@xstate.event' && refs.has(e.actorRef) && e.event.type !== 'xstate.init'), `${id} events`).toBe(true);
      }
      // The run and every enrichment reached their final state.
      for (const e of [...byMachine('run'), ...byMachine('enrichment')]) expect(e.actorRef.getSnapshot().status).toBe('done');
    } finally {
      sim.setProfile('tavily', 'ok');
      await runtime.close();
    }
  });

  it('the Stately relay (run --inspect) receives all three kinds', async () => {
    const inspector = await createInspector({ mode: 'server', port: 0 });
    const ws = new WebSocket(inspector.url.replace('http:', 'ws:'));
    const names = new Set<string>();
    ws.addEventListener('message', (m) => {
      const msg = JSON.parse(String(m.data)) as { type?: string; name?: string };
      if (msg.type === '@xstate.actor' && msg.name) names.add(msg.name);
    });
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    const runtime = await createRuntime(config, { inspect: inspector.inspect });
    try {
      const result = await runtime.run({ tenantId: 62, companies: batch(62) }).done;
      expect(result.status).toBe('completed');
      const deadline = Date.now() + 3000;
      while (!['run', 'enrichment', 'breaker'].every((n) => names.has(n)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect([...names]).toEqual(expect.arrayContaining(['breaker', 'enrichment', 'run'])); // and the invoked steps (crawl, apify, …)
    } finally {
      await runtime.close();
      ws.close();
      inspector.stop();
    }
  });
});

describe('run --inspect [mode]', () => {
  it('defaults to server, accepts the three modes and refuses others', () => {
    expect(inspectModeOf(undefined)).toBeNull();
    expect(inspectModeOf(true)).toBe('server');
    for (const mode of ['server', 'browser', 'websocket'] as const) expect(inspectModeOf(mode)).toBe(mode);
    expect(() => inspectModeOf('firefox')).toThrow(/--inspect expects server, browser or websocket/);
  });

  it('--inspect-port picks the relay port (8080 without it) and is refused out of range or without --inspect', () => {
    expect(inspectPortOf({ inspect: true })).toBe(8080);
    expect(inspectPortOf({})).toBe(8080);
    expect(inspectPortOf({ inspect: true, inspectPort: '9321' })).toBe(9321);
    expect(inspectPortOf({ inspect: 'websocket', inspectPort: '1' })).toBe(1);
    for (const bad of ['0', '65536', 'http', '-5']) expect(() => inspectPortOf({ inspect: true, inspectPort: bad })).toThrow(/--inspect-port expects an integer from 1 to 65535/);
    expect(() => inspectPortOf({ inspectPort: '9321' })).toThrow(/--inspect-port needs --inspect/);
  });

  it('a bad --inspect-port is a usage error (exit 2) before any work', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write);
    try {
      expect(await main(['node', 'lead-enrich', 'run', '--tenant', '1', '--inspect', '--inspect-port', '70000'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    expect(err.join('')).toContain('--inspect-port expects an integer from 1 to 65535, got "70000"');
  });

  it('an unknown mode is a usage error (exit 2) before any work', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write);
    try {
      expect(await main(['node', 'lead-enrich', 'run', '--tenant', '1', '--inspect', 'firefox'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    expect(err.join('')).toContain('--inspect expects server, browser or websocket, got "firefox"');
  });
});
