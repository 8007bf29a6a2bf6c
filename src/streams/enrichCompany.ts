import { createActor, type ActorOptions } from 'xstate';
import type { Config } from '../config/index.js';
import { vendorsOn } from '../domain/index.js';
import type { Clock, Company, EnrichmentOutput, StageEvent } from '../domain/index.js';
import { enrichmentMachine, type EnrichmentMachine } from '../machines/enrichment.machine.js';
import type { EnrichmentInput } from '../machines/enrichment.types.js';
import { createEnrichmentActors, type EnrichmentActorDeps, type EnrichmentPorts, type ModelUsage } from './enrichmentActors.js';
import type { GuardedCaller } from './guard.types.js';

export type { EnrichmentPorts, ModelUsage } from './enrichmentActors.js';

/** What {@link enrichCompany} runs with. */
export interface EnrichCompanyDeps {
  config: Config;
  /** The resilience core: breaker admission, timeouts, retries (shared by every company of a run). */
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  /** Injected time: the company's start, the step actors' times (stage and provenance times, durations) and the guarded call's deadline. */
  clock: Clock;
  /** The caller's cancellation (run shutdown): stops the machine and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Stately inspector or any inspection callback (`createActor(…, { inspect })`). */
  inspect?: ActorOptions<EnrichmentMachine>['inspect'];
  /** Every stage finish, error or skip, in order, then `done`, as the machine recorded it. Exceptions it throws are ignored. */
  onStageEvent?: (event: StageEvent) => void;
  /** Token usage of each successful OpenAI extraction. */
  onUsage?: (usage: ModelUsage) => void;
  /** Stored paid answers reused within VENDOR_ANSWER_TTL_DAYS. Default none. */
  answers?: EnrichmentActorDeps['answers'];
  /** Timer source of the machine's deadline (`after`); defaults to the global setTimeout (fakeable in tests). */
  machineClock?: ActorOptions<EnrichmentMachine>['clock'];
}

/** The machine's input for a company under `config`: the vendors {@link vendorsOn} says are on. */
export function enrichmentInputFrom(company: Company, config: Config, startedAt: number): EnrichmentInput {
  return {
    company,
    vendors: vendorsOn(config),
    features: { tavilyFallback: config.features.tavilyFallback, apifyLinkedin: config.features.apifyLinkedin, lushaFallback: config.features.lushaFallback },
    deadlineMs: config.companyDeadlineMs,
    startedAt,
  };
}

/** Each running company's step-actor deps, by the actor system of its enrichment actor. */
const companyDeps = new WeakMap<object, EnrichmentActorDeps>();

/** The machine with its step actors, provided once: the actors find their company by actor system. */
const providedMachine = enrichmentMachine.provide({
  actors: createEnrichmentActors((system) => {
    const deps = companyDeps.get(system);
    if (!deps) throw new Error('enrichment step started outside enrichCompany');
    return deps;
  }),
});

/**
 * Enriches one company: runs the enrichment machine with actors that call the ports through
 * `deps.guard`, emits its stage events as the machine records them (the last one `done`), and
 * resolves with its {@link EnrichmentOutput}. Vendor failures never reject (they are reasons in
 * the output); the actor is stopped once done.
 * @throws (rejects with) `deps.signal.reason` when the caller aborts before the company ends.
 */
export function enrichCompany(company: Company, deps: EnrichCompanyDeps): Promise<EnrichmentOutput> {
  const { signal } = deps;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const startedAt = deps.clock.now();
  const input = enrichmentInputFrom(company, deps.config, startedAt);
  const actorDeps: EnrichmentActorDeps = {
    guard: deps.guard,
    ports: deps.ports,
    clock: deps.clock,
    tenantId: company.tenantId,
    companyId: company.companyId,
    deadline: startedAt + input.deadlineMs,
    ...(deps.onUsage ? { onUsage: deps.onUsage } : {}),
    ...(deps.answers ? { answers: deps.answers } : {}),
  };
  const actor = createActor(providedMachine, {
    input,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
    ...(deps.machineClock ? { clock: deps.machineClock } : {}),
  });
  companyDeps.set(actor.system, actorDeps);
  const emit = (event: StageEvent) => {
    try {
      deps.onStageEvent?.(event);
    } catch {
      // A broken sink must not fail the company; the sink reports its own errors.
    }
  };

  return new Promise<EnrichmentOutput>((resolve, reject) => {
    let emitted = 0;
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      subscription.unsubscribe();
      actor.stop();
      action();
    };
    const onAbort = () => finish(() => reject(signal?.reason));
    const subscription = actor.subscribe({
      next: (snapshot) => {
        const { stages } = snapshot.context;
        for (; emitted < stages.length; emitted += 1) {
          const event = stages[emitted];
          if (event) emit(event);
        }
        if (snapshot.status !== 'done' || !snapshot.output) return;
        const output = snapshot.output;
        finish(() => resolve(output));
      },
      error: (error) => finish(() => reject(error)),
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    actor.start();
  });
}
