/** Drives the real enrichment machine with stub actors that follow a script. */
import { createActor, fromPromise, SimulatedClock, type SnapshotFrom } from 'xstate';
import { CircuitOpenError, VendorError, type Contact, type EmailVerification, type EnrichmentOutput } from '../../../src/domain/index.js';
import { enrichmentMachine } from '../../../src/machines/enrichment.machine.js';
import type { EnrichmentInput, StepOutcome } from '../../../src/machines/enrichment.types.js';
import type { ActorId, Script, Scripted } from './expectedChain.js';
import { AT, fixtures, STARTED_AT } from './fixtures.js';

/** The outcome a stub resolves with for a scripted `ok`/`thin`/`fail`/`refuse`. */
export function outcomeFor(id: ActorId, scripted: Scripted, verifyEmails: readonly string[] = []): StepOutcome<unknown> {
  const at = AT[id];
  if (scripted === 'fail') return { ok: false, refused: false, kind: 'server', detail: null, at, durationMs: 20 };
  if (scripted === 'refuse') return { ok: false, refused: true, kind: null, detail: null, at, durationMs: 0 };
  if (id === 'crawl') return { ok: true, value: scripted === 'thin' ? fixtures.crawl.thin : fixtures.crawl.ok, at, durationMs: 10 };
  const values: Record<Exclude<ActorId, 'crawl'>, unknown> = {
    search: fixtures.search,
    extract: fixtures.facts,
    apify: fixtures.contacts.apify,
    lusha: fixtures.contacts.lusha,
    verify: verifyEmails.map((email): EmailVerification => ({ email, status: 'valid', subStatus: null })),
  };
  return { ok: true, value: values[id], at, durationMs: 10 };
}

/** Every address a path can produce, for the verification outcome in graph events. */
export const ALL_EMAILS = [
  ...fixtures.crawl.ok.mailtos,
  ...[...fixtures.contacts.apify, ...fixtures.contacts.lusha].map((c: Contact) => c.email?.toLowerCase() ?? ''),
];

const SRC: Record<ActorId, string> = {
  crawl: 'crawlSite',
  search: 'searchCompany',
  extract: 'extractFacts',
  apify: 'findContactsApify',
  lusha: 'findContactsLusha',
  verify: 'verifyEmails',
};

/** Stub actors for `.provide`; each records its call and settles as scripted. */
export function stubActors(script: Script, calls: { id: ActorId; input: unknown; signal: AbortSignal }[]) {
  const stub = (id: ActorId) =>
    fromPromise<StepOutcome<unknown>, unknown>(({ input, signal }) => {
      calls.push({ id, input, signal });
      const scripted = script[id];
      if (scripted === undefined) return Promise.reject(new Error(`unscripted call to ${id}`));
      if (scripted === 'hang') return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      if (scripted === 'throw') return Promise.reject(new VendorError({ vendor: id === 'crawl' ? 'crawler' : 'openai', kind: 'timeout' }));
      if (scripted === 'throwOpen') return Promise.reject(new CircuitOpenError(3, 'tavily'));
      const emails = id === 'verify' ? (input as { emails: string[] }).emails : [];
      return Promise.resolve(outcomeFor(id, scripted, emails));
    });
  const actors = Object.fromEntries((Object.keys(SRC) as ActorId[]).map((id) => [SRC[id], stub(id)]));
  // The stubs are typed loosely on purpose: the machine's types are what is under test.
  return actors as unknown as Parameters<typeof enrichmentMachine.provide>[0]['actors'];
}

/** A settled microtask queue: every already-resolved stub has been delivered. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

export interface Driven {
  snapshot: SnapshotFrom<typeof enrichmentMachine>;
  output: EnrichmentOutput;
  calls: { id: ActorId; input: unknown; signal: AbortSignal }[];
}

/**
 * Runs the real machine for `input` with stubs following `script`. When a stub hangs, the simulated
 * clock is moved past the deadline. Fails when the machine does not reach `done`.
 */
export async function drive(input: EnrichmentInput, script: Script): Promise<Driven> {
  const calls: Driven['calls'] = [];
  const clock = new SimulatedClock();
  const actor = createActor(enrichmentMachine.provide({ actors: stubActors(script, calls) }), { input, clock });
  actor.start();
  for (let round = 0; round < 20 && actor.getSnapshot().status !== 'done'; round += 1) {
    await flush(1);
    if (actor.getSnapshot().status === 'done' || !calls.some((c) => script[c.id] === 'hang')) continue;
    clock.increment(input.deadlineMs - 1);
    await flush(1);
    if (actor.getSnapshot().status === 'done') throw new Error('the deadline fired early');
    clock.increment(1);
    await flush(1);
  }
  const snapshot = actor.getSnapshot();
  actor.stop();
  if (snapshot.status !== 'done') throw new Error(`machine stuck in ${JSON.stringify(snapshot.value)}`);
  return { snapshot, output: snapshot.output as EnrichmentOutput, calls };
}

/** A default input: every vendor keyed, every flag on, a company with name and domain. */
export function inputOf(overrides: Partial<EnrichmentInput> = {}): EnrichmentInput {
  return {
    company: { companyId: 7, tenantId: 3, name: 'Acme Rockets', domain: 'acme.test' },
    vendors: { tavily: true, openai: true, zerobounce: true, lusha: true, apify_linkedin: true },
    features: { tavilyFallback: true, apifyLinkedin: true, lushaFallback: true },
    deadlineMs: 120_000,
    startedAt: STARTED_AT,
    ...overrides,
  };
}
