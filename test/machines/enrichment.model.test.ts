/**
 * Model-based tests of the enrichment machine: paths are generated from the machine's graph with
 * xstate/graph (one representative event per actor outcome: success, thin crawl, failure, refusal,
 * and the company deadline while the actor is in flight), then each path is driven through the real
 * machine with stub actors and checked against the rules of DESIGN.md, written independently in
 * expectedChain.ts. fast-check then covers the configurations and outcomes the graphs do not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventObject } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { enrichmentMachine } from '../../src/machines/enrichment.machine.js';
import type { EnrichmentInput } from '../../src/machines/enrichment.types.js';
import { companyOf, expectedChain, type ActorId, type Script, type Scripted } from '../support/enrichment/expectedChain.js';
import { ALL_EMAILS, drive, inputOf, outcomeFor } from '../support/enrichment/harness.js';

type Snap = ReturnType<typeof enrichmentMachine.transition>;
type PathEvent = EventObject & { scripted?: Scripted; hang?: ActorId };

const ACTIVE: [ActorId, Parameters<Snap['matches']>[0]][] = [
  ['crawl', { crawling: 'fetching' }],
  ['search', { searchingFallback: 'searching' }],
  ['extract', { extracting: 'callingOpenai' }],
  ['apify', { discoveringContacts: 'apify' }],
  ['lusha', { discoveringContacts: 'lusha' }],
  ['verify', { verifyingEmails: 'verifying' }],
];

function activeActor(snapshot: Snap): ActorId | null {
  return ACTIVE.find(([, value]) => snapshot.matches(value))?.[0] ?? null;
}

/** The events a state can take: each outcome of the actor in flight, and (unless left out) the deadline. */
function eventsFor(snapshot: Snap, withDeadline = true): PathEvent[] {
  const id = activeActor(snapshot);
  if (id === null) return [];
  const outcomes: Scripted[] = id === 'crawl' ? ['ok', 'thin', 'fail'] : ['ok', 'fail', 'refuse'];
  const done = outcomes.map((scripted) => ({ type: `xstate.done.actor.${id}`, output: outcomeFor(id, scripted, ALL_EMAILS), scripted }));
  return withDeadline ? [...done, { type: 'xstate.after.companyDeadline.enrichment', hang: id }] : done;
}

type Path = { state: Snap; steps: { state: Snap; event: EventObject }[] };

function scriptOf(path: Path): Script {
  const script: Script = {};
  for (const { event } of path.steps.slice(1)) {
    const e = event as PathEvent;
    if (e.scripted) script[(e.type.split('.').pop() ?? '') as ActorId] = e.scripted;
    if (e.hang) script[e.hang] = 'hang';
  }
  return script;
}

/**
 * A state's identity for the traversal: its value, how each step ended and the reasons so far, which
 * together fix everything the machine will do next (the default, the whole context as JSON, makes
 * getSimplePaths' quadratic walk five times slower).
 */
function serializeState(snapshot: Snap): string {
  return JSON.stringify([snapshot.value, snapshot.status, snapshot.context.outcomes, snapshot.context.reasons]);
}

const memo = new Map<string, Path[]>();
function pathsOf(generate: typeof getShortestPaths, input: EnrichmentInput, withDeadline = true): Path[] {
  const key = JSON.stringify([generate.name, input, withDeadline]);
  const cached = memo.get(key);
  if (cached) return cached;
  const events = (snapshot: Snap) => eventsFor(snapshot, withDeadline);
  const paths = generate(enrichmentMachine, { input, events: events as never, serializeState: serializeState as never }) as unknown as Path[];
  memo.set(key, paths);
  return paths;
}

async function checkPath(input: EnrichmentInput, path: Path): Promise<void> {
  const script = scriptOf(path);
  const expected = expectedChain(input, script);
  const { output, calls, snapshot } = await drive(input, script);
  const where = JSON.stringify(script);
  expect(calls.map((c) => c.id), where).toEqual(expected.calls);
  expect(output.reasons, where).toEqual(expected.reasons);
  expect(output.degradedReasons, where).toBe(expected.reasons.length > 0 ? expected.reasons.join(',') : null);
  expect(output.provenance, where).toEqual(expected.provenance);
  expect(output.fallbacks, where).toEqual(expected.fallbacks);
  expect(output.facts, where).toEqual(expected.facts);
  expect(output.emails.map(({ email, status, source }) => ({ email, status, source })), where).toEqual(expected.emails);
  // The graph's own walk of the path and the real run agree on everything the machine recorded.
  expect(snapshot.context.reasons, where).toEqual(path.state.context.reasons);
  expect(snapshot.context.provenance, where).toEqual(path.state.context.provenance);
  expect(snapshot.context.stages, where).toEqual(path.state.context.stages);
}

const CONFIGS: [string, EnrichmentInput][] = [
  ['everything on', inputOf()],
  ['name without domain', inputOf({ company: companyOf('nameOnly') })],
  ['domain without name', inputOf({ company: companyOf('domainOnly') })],
  ['known contacts', inputOf({ company: companyOf('known') })],
  ['Lusha fallback off', inputOf({ features: { tavilyFallback: true, apifyLinkedin: true, lushaFallback: false } })],
  ['Apify off: Lusha alone', inputOf({ features: { tavilyFallback: true, apifyLinkedin: false, lushaFallback: false } })],
  ['no keys at all', inputOf({ vendors: { tavily: false, openai: false, zerobounce: false, lusha: false, apify_linkedin: false } })],
  ['Tavily flag off, no OpenAI key', inputOf({ features: { tavilyFallback: false, apifyLinkedin: true, lushaFallback: true }, vendors: { tavily: true, openai: false, zerobounce: true, lusha: true, apify_linkedin: true } })],
];

describe('enrichment machine, model-based', () => {
  for (const [name, input] of CONFIGS) {
    it(`every simple path, ${name}`, async () => {
      const paths = pathsOf(getSimplePaths, input);
      const complete = paths.filter((p) => p.state.status === 'done');
      expect(complete.length).toBeGreaterThan(0);
      // No state is a dead end: it is final or an actor is in flight.
      for (const p of paths) if (p.state.status !== 'done') expect(activeActor(p.state), JSON.stringify(p.state.value)).not.toBeNull();
      for (const path of complete) await checkPath(input, path);
    });
  }

  it('the everything-on graph covers every outcome of every step, the deadline included', () => {
    const seen = new Set<string>();
    for (const p of pathsOf(getSimplePaths, inputOf())) for (const { event } of p.steps) seen.add(JSON.stringify([event.type, (event as PathEvent).scripted ?? null]));
    for (const id of ['crawl', 'search', 'extract', 'apify', 'lusha', 'verify']) {
      for (const s of id === 'crawl' ? ['ok', 'thin', 'fail'] : ['ok', 'fail', 'refuse']) expect(seen).toContain(JSON.stringify([`xstate.done.actor.${id}`, s]));
    }
    expect(seen).toContain(JSON.stringify(['xstate.after.companyDeadline.enrichment', null]));
  });

  // The deadline is left out here: it behaves the same in every configuration and the simple paths above cover it.
  it('shortest paths to every state, over every switch and key combination and company shape', async () => {
    const shapes = ['full', 'nameOnly', 'empty', 'known'] as const;
    let checked = 0;
    for (let bits = 0; bits < 256; bits += 1) {
      const on = (i: number) => (bits & (1 << i)) !== 0;
      const shape = shapes[bits % shapes.length] ?? 'full';
      const input = inputOf({
        company: companyOf(shape),
        vendors: { tavily: on(0), openai: on(1), zerobounce: on(2), lusha: on(3), apify_linkedin: on(4) },
        features: { tavilyFallback: on(5), apifyLinkedin: on(6), lushaFallback: on(7) },
      });
      for (const path of pathsOf(getShortestPaths, input, false).filter((p) => p.state.status === 'done')) {
        await checkPath(input, path);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(256);
  });
});

describe('enrichment machine, random configurations and outcomes (fast-check)', () => {
  const scripted = fc.constantFrom<Scripted>('ok', 'fail', 'refuse', 'throw', 'throwOpen', 'hang');
  it('matches the rules for any mix, rejections and deadlines included, and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('full', 'nameOnly', 'domainOnly', 'empty', 'known' as const),
        fc.record({ tavily: fc.boolean(), openai: fc.boolean(), zerobounce: fc.boolean(), lusha: fc.boolean(), apify_linkedin: fc.boolean() }),
        fc.record({ tavilyFallback: fc.boolean(), apifyLinkedin: fc.boolean(), lushaFallback: fc.boolean() }),
        fc.record({ crawl: fc.constantFrom<Scripted>('ok', 'thin', 'fail', 'throw', 'hang'), search: scripted, extract: scripted, apify: scripted, lusha: scripted, verify: scripted }),
        async (shape, vendors, features, script) => {
          const input = inputOf({ company: companyOf(shape), vendors, features });
          const expected = expectedChain(input, script);
          const { output, calls } = await drive(input, script);
          expect(calls.map((c) => c.id)).toEqual(expected.calls);
          expect(output.reasons).toEqual(expected.reasons);
          expect(output.provenance).toEqual(expected.provenance);
          expect(output.fallbacks).toEqual(expected.fallbacks);
          expect(output.emails.map((e) => e.status)).toEqual(expected.emails.map((e) => e.status));
        },
      ),
      { numRuns: 300 },
    );
  });
});
