import { createActor, type ActorOptions } from 'xstate';
import type { Config } from '../config/index.js';
import type { Clock, Company, EnrichmentOutput, RunEvent } from '../domain/index.js';
import { enrichmentMachine, type EnrichmentMachine } from '../machines/enrichment.machine.js';
import type { EnrichmentInput, StageRecord } from '../machines/enrichment.types.js';
import { createEnrichmentActors, type EnrichmentActorDeps, type EnrichmentPorts, type ModelUsage } from './enrichmentActors.js';
import type { GuardedCaller } from './guard.types.js';

export type { EnrichmentPorts, ModelUsage } from './enrichmentActors.js';

/** A stage event as the runner persists it (`logEvent`): the `stage.event` run event without its run id. */
export type EnrichmentStageEvent = Omit<Extract<RunEvent, { type: 'stage.event' }>, 'type' | 'runId'>;

/** What {@link enrichCompany} runs with. */
export interface EnrichCompanyDeps {
  config: Config;
  /** The resilience core: breaker admission, timeouts, retries (shared by every company of a run). */
  guard: GuardedCaller;
  ports: EnrichmentPorts;
  /** Injected time: stage durations, provenance times and the guarded call's deadline. */
  clock: Clock;
  /** The caller's cancellation (run shutdown): stops the machine and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Stately inspector or any inspection callback (`createActor(…, { inspect })`). */
  inspect?: ActorOptions<EnrichmentMachine>['inspect'];
  /** Every stage finish, error or skip, in order, then `done`. Exceptions it throws are ignored. */
  onStageEvent?: (event: EnrichmentStageEvent) => void;
  /** Token usage of each successful OpenAI extraction. */
  onUsage?: (usage: ModelUsage) => void;
  /** Timer source of the machine's deadline (`after`); defaults to the global setTimeout (fakeable in tests). */
  machineClock?: ActorOptions<EnrichmentMachine>['clock'];
}

/** The machine's input for a company under `config`: a vendor is on when its key is set. */
export function enrichmentInputFrom(company: Company, config: Config, startedAt: number): EnrichmentInput {
  const keyed = (key: string | null) => key !== null && key.length > 0;
  return {
    company,
    vendors: {
      tavily: keyed(config.vendors.tavily.apiKey),
      openai: keyed(config.vendors.openai.apiKey),
      zerobounce: keyed(config.vendors.zerobounce.apiKey),
      lusha: keyed(config.vendors.lusha.apiKey),
      apify_linkedin: keyed(config.vendors.apify.apiKey),
    },
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

const EVENT_OF: Record<StageRecord['status'], string> = { ok: 'finish', degraded: 'finish', error: 'error', refused: 'error', skipped: 'skip' };

function stageEvent(company: Company, record: StageRecord, at: number): EnrichmentStageEvent {
  return {
    tenantId: company.tenantId,
    companyId: company.companyId,
    stage: record.stage,
    event: EVENT_OF[record.status],
    status: record.status,
    errorCode: record.errorCode,
    durationMs: record.durationMs,
    extra: { fallback_taken: record.fallbackTaken, vendor: record.source, error_kind: record.errorKind, detail: record.detail },
    at,
  };
}

/**
 * Enriches one company: runs the enrichment machine with actors that call the ports through
 * `deps.guard`, emits its stage events, and resolves with its {@link EnrichmentOutput}. Vendor
 * failures never reject (they are reasons in the output); the actor is stopped once done.
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
  };
  const actor = createActor(providedMachine, {
    input,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
    ...(deps.machineClock ? { clock: deps.machineClock } : {}),
  });
  companyDeps.set(actor.system, actorDeps);
  const emit = (event: EnrichmentStageEvent) => {
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
          const record = stages[emitted];
          if (record) emit(stageEvent(company, record, deps.clock.now()));
        }
        if (snapshot.status !== 'done' || !snapshot.output) return;
        const output = snapshot.output;
        const at = deps.clock.now();
        emit({
          tenantId: company.tenantId,
          companyId: company.companyId,
          stage: 'done',
          event: 'finish',
          status: output.reasons.length > 0 ? 'degraded' : 'ok',
          errorCode: output.degradedReasons,
          durationMs: at - startedAt,
          extra: { fallback_taken: output.fallbacks.length > 0 ? output.fallbacks.join(',') : null },
          at,
        });
        finish(() => resolve(output));
      },
      error: (error) => finish(() => reject(error)),
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    actor.start();
  });
}
